"""End to end through the screens: kiosk → terminal → wall and window display."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

PASSWORD = "test-pass"


def login_terminal(page, base: str, username: str, window: int) -> None:
    page.goto(base + "/terminal")
    page.fill("#login-user", username)
    page.fill("#login-pass", PASSWORD)
    page.select_option("#login-window", str(window))
    page.click("#login-submit")
    expect(page.locator("#desk")).to_be_visible()


def take_ticket(kiosk, queue: str, green: bool = False) -> str:
    kiosk.click(f'.k-queue[data-queue="{queue}"]')
    kiosk.click("#opt-green" if green else "#opt-normal")
    expect(kiosk.locator("#done")).to_be_visible()
    return kiosk.locator("#t-number").inner_text()


def test_kiosk_ticket_called_at_terminal_shows_on_wall_and_window(hall, manager, new_page):
    base = hall.base
    token = hall.mint_token("kiosk", name="kiosk-1")

    wall = new_page(1920, 1080)
    wall.goto(base + "/display/wall")
    windisp = new_page(1280, 720)
    windisp.goto(base + "/display/window/1")
    expect(windisp.locator("#wd-status")).to_have_text("未开放")

    kiosk = new_page(1080, 1920)
    kiosk.goto(base + f"/kiosk?token={token}")
    assert token not in kiosk.url  # kept in localStorage, not in the address bar
    expect(kiosk.locator('.k-queue[data-queue="A"]')).to_be_visible()
    number = take_ticket(kiosk, "A")
    assert number == "A001"
    expect(kiosk.locator("#t-ahead")).to_have_text("0")
    expect(kiosk.locator("#t-queue")).to_have_text("综合受理")

    # A second ticket with applicant data (staff channel): full data only on the terminal.
    manager.ok(
        "issue_ticket",
        queue="A",
        channel="staff",
        applicant={"name": "张三丰", "phone": "13812345678", "id_number": "110101199003071234"},
    )

    term = new_page(1366, 768)
    login_terminal(term, base, "w1", 1)
    expect(term.locator("#wstate")).to_have_text("未开放")
    expect(term.locator('button[data-act="call_next"]')).to_contain_text("F1")
    term.keyboard.press("o")  # open the window
    expect(term.locator("#wstate")).to_have_text("服务中")
    expect(term.locator("#wait-body tr")).to_have_count(2)
    expect(term.locator("#wait-body")).to_contain_text("张*丰")
    expect(term.locator("#wait-body")).not_to_contain_text("13812345678")

    term.keyboard.press("F1")  # call next
    expect(term.locator("#cur-number")).to_have_text("A001")
    expect(term.locator("#cur-state")).to_have_text("已呼叫")

    expect(wall.locator("#now-ticket")).to_have_text("A001")
    expect(wall.locator("#now-window")).to_have_text("请到 1 号窗口")
    expect(windisp.locator("#wd-ticket")).to_have_text("A001")
    expect(windisp.locator("#wd-status")).to_have_text("请 A001 号到本窗口办理")

    term.keyboard.press("s")  # start
    expect(term.locator("#cur-state")).to_have_text("办理中")
    expect(windisp.locator("#wd-status")).to_have_text("正在办理")
    term.keyboard.press("f")  # finish
    expect(term.locator("#cur-number")).to_have_text("—")

    term.keyboard.press("n")  # call next: the ticket with applicant data
    expect(term.locator("#cur-number")).to_have_text("A002")
    expect(term.locator("#ap-name")).to_have_text("张三丰")
    expect(term.locator("#ap-phone")).to_have_text("13812345678")
    expect(term.locator("#ap-id")).to_have_text("110101199003071234")
    expect(wall.locator("#now-ticket")).to_have_text("A002")
    for public in (wall, windisp):
        html = public.content()
        assert "13812345678" not in html and "110101199003071234" not in html and "张三丰" not in html

    # After a reload the terminal keeps its session (sessionStorage) and fetches the details again.
    term.reload()
    expect(term.locator("#desk")).to_be_visible()
    expect(term.locator("#ap-phone")).to_have_text("13812345678")

    term.keyboard.press("r")  # recall
    expect(term.locator("#cur-meta")).to_contain_text("已重呼 1 次")
    term.keyboard.press("x")  # no-show
    expect(term.locator("#cur-number")).to_have_text("—")

    # Pause with a reason, then close: the window display follows.
    term.keyboard.press("p")
    term.click('#pause-presets [data-reason="业务培训"]')
    term.click('#form-pause button[type="submit"]')
    expect(term.locator("#wstate")).to_have_text("暂停服务(业务培训)")
    expect(windisp.locator("#wd-status")).to_have_text("暂停服务")
    expect(windisp.locator("#wd-reason")).to_have_text("原因:业务培训")
    term.keyboard.press("c")
    expect(windisp.locator("#wd-status")).to_have_text("未开放")

    # An action the state does not allow is refused locally; a server error shows its message.
    term.keyboard.press("n")
    expect(term.locator("#banner")).to_contain_text("当前状态不能呼叫下一位")
    term.keyboard.press("o")
    expect(term.locator("#wstate")).to_have_text("服务中")
    term.keyboard.press("n")
    expect(term.locator("#banner")).to_contain_text("当前没有等候的群众")
    expect(term.locator("#banner")).to_contain_text("nobody is waiting for window 1")


def test_terminal_transfer_and_call_specific_ticket(hall, manager, new_page):
    base = hall.base
    for q in ("A", "A", "B"):
        manager.ok("issue_ticket", queue=q)
    term = new_page(1366, 768)
    login_terminal(term, base, "w2", 2)  # window 2 serves A and B
    term.click('button[data-act="open_window"]')
    expect(term.locator("#wait-body tr")).to_have_count(3)

    # Call B001 out of order from the waiting list, with a reason.
    term.click('#wait-body button[data-ticket="B001"]')
    term.fill("#call-reason", "老人行动不便")
    term.click('#form-call button[type="submit"]')
    expect(term.locator("#cur-number")).to_have_text("B001")
    expect(term.locator("#ap-note")).to_have_text("老人行动不便")

    # Transfer it to window 3.
    term.keyboard.press("t")
    expect(term.locator("#tr-ticket")).to_have_value("B001")
    term.select_option("#tr-window", "3")
    term.fill("#tr-reason", "税务专窗")
    term.click('#form-transfer button[type="submit"]')
    expect(term.locator("#cur-number")).to_have_text("—")
    expect(term.locator("#banner")).to_contain_text("转移 B001 成功")

    # Calling a ticket that does not exist shows the server's message.
    term.keyboard.press("k")
    term.fill("#call-ticket", "A999")
    term.fill("#call-reason", "测试")
    term.click('#form-call button[type="submit"]')
    expect(term.locator("#banner")).to_contain_text("今天没有该号码")


def test_ticket_qr_code_encodes_the_status_page_url(hall, new_page):
    token = hall.mint_token("kiosk", name="kiosk-qr")
    kiosk = new_page(1080, 1920)
    kiosk.goto(hall.base + f"/kiosk?token={token}")
    take_ticket(kiosk, "P", green=True)
    expect(kiosk.locator("#t-green")).to_be_visible()
    src = kiosk.locator("#t-qr").get_attribute("src")
    parts = urlsplit(src)
    assert parts.path == "/qr.svg"
    text = parse_qs(parts.query)["text"][0]
    assert text.startswith(hall.base + "/t/")
    # The image is served by the queue server itself, and it is an SVG.
    assert kiosk.evaluate("document.getElementById('t-qr').naturalWidth") > 0
    resp = kiosk.request.get(hall.base + src)
    assert resp.ok and "svg" in resp.headers["content-type"]
    # The encoded address is the status page of this very ticket.
    status = new_page(390, 844, mobile=True)
    status.goto(text)
    expect(status.locator("#number")).to_have_text("P001")
    expect(status.locator("#state")).to_have_text("等候中")


def test_kiosk_refuses_a_full_queue_and_needs_a_token(hall, manager, new_page):
    for _ in range(3):  # queue B: daily cap 3
        manager.ok("issue_ticket", queue="B")
    kiosk = new_page(1080, 1920)
    kiosk.goto(hall.base + "/kiosk")
    expect(kiosk.locator("#setup")).to_be_visible()
    expect(kiosk.locator("#setup")).to_contain_text("hallops token")
    expect(kiosk.locator("#setup")).to_contain_text("--role kiosk")

    token = hall.mint_token("kiosk", name="kiosk-2")
    kiosk.goto(hall.base + f"/kiosk?token={token}")
    full = kiosk.locator('.k-queue[data-queue="B"]')
    expect(full).to_have_class("k-queue off")
    expect(full).to_contain_text("今日号源已发完")
    full.click()
    expect(kiosk.locator("#error")).to_be_visible()
    expect(kiosk.locator("#error-msg")).to_contain_text("该业务今日号源已发完")
    kiosk.click("#error-ok")
    expect(kiosk.locator("#error")).to_be_hidden()

    # The token stays in localStorage: a plain /kiosk works after a reload.
    kiosk.goto(hall.base + "/kiosk")
    expect(kiosk.locator("#home")).to_be_visible()
    kiosk.click("#big-toggle")
    expect(kiosk.locator("html")).to_have_class("large")
    assert take_ticket(kiosk, "A") == "A001"
