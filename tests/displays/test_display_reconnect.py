"""Live behaviour: server restarts, seq gaps, the citizen status page."""

from __future__ import annotations

from playwright.sync_api import expect

PASSWORD = "test-pass"


def test_wall_survives_a_server_restart(hall, manager, new_page, shot):
    manager.ok("issue_ticket", queue="A")
    manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)
    manager.close()

    wall = new_page(1920, 1080)
    wall.goto(hall.base + "/display/wall")
    expect(wall.locator("#now-ticket")).to_have_text("A001")
    expect(wall.locator("#hc-conn")).to_be_hidden()

    hall.stop()
    expect(wall.locator("#hc-conn")).to_be_visible()
    expect(wall.locator("#hc-conn")).to_contain_text("连接中断")
    expect(wall.locator("#now-ticket")).to_have_text("A001")  # the last data stays on screen
    assert wall.evaluate("document.documentElement.classList.contains('hc-offline')")
    shot(wall, "wall-offline")

    hall.start()  # a new HallServer on the same port and the same database file
    expect(wall.locator("#hc-conn")).to_be_hidden(timeout=15_000)
    assert not wall.evaluate("document.documentElement.classList.contains('hc-offline')")

    m2 = hall.client().login_manager()
    m2.ok("no_show", window=1)
    m2.ok("call_next", window=1)
    expect(wall.locator("#now-ticket")).to_have_text("A002")
    expect(wall.locator("#now-window")).to_have_text("请到 1 号窗口")
    wall.wait_for_function("window.__spoken.length >= 2 && hallAnnouncer.pending() === 0")
    # The call made before the restart is not announced again after the reconnect.
    assert wall.evaluate("window.__spoken") == ["请 A 零 零 二 号 到 1 号窗口 办理"] * 2
    m2.close()


def test_terminal_reauthenticates_after_a_server_restart(hall, manager, new_page):
    manager.ok("issue_ticket", queue="A")
    term = new_page(1366, 768)
    term.goto(hall.base + "/terminal")
    term.fill("#login-user", "w1")
    term.fill("#login-pass", PASSWORD)
    term.select_option("#login-window", "1")
    term.click("#login-submit")
    term.click('button[data-act="open_window"]')
    expect(term.locator("#wstate")).to_have_text("服务中")

    hall.restart()
    expect(term.locator("#hc-conn")).to_be_hidden(timeout=15_000)
    expect(term.locator("#desk")).to_be_visible()  # no login form: the session token was used
    expect(term.locator("#wait-body tr")).to_have_count(1)
    term.keyboard.press("F1")
    expect(term.locator("#cur-number")).to_have_text("A001")


def test_a_gap_in_seq_asks_for_resync(hall, manager, new_page):
    wall = new_page(1920, 1080)
    wall.goto(hall.base + "/display/wall")
    expect(wall.locator("#hc-conn")).to_be_hidden()
    wall.evaluate("""() => {
        window.__sent = [];
        const ws = hallClient.ws, send = ws.send.bind(ws);
        ws.send = (m) => { window.__sent.push(JSON.parse(m).type); send(m); };
    }""")
    seq = wall.evaluate("hallClient.seq")
    # An event two ahead of the last one: something was missed.
    wall.evaluate(
        """(seq) => hallClient._onMessage(JSON.stringify({type: 'event', seq: seq + 2,
        event: {type: 'ticket_called', ticket: 'x', window: 1, at: '2026-01-01T00:00:00+08:00',
                data: {number: 'Z999'}}}))""",
        seq,
    )
    wall.wait_for_function("window.__sent.includes('resync')")
    assert "Z999" not in wall.locator("#now-ticket").inner_text()
    # The fresh snapshot arrives and later events apply again.
    manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)
    expect(wall.locator("#now-ticket")).to_have_text("A001")


def test_status_page_follows_its_ticket_from_waiting_to_called(hall, manager, new_page):
    first = manager.ok("issue_ticket", queue="A")["ticket"]
    mine = manager.ok("issue_ticket", queue="A")["ticket"]
    page = new_page(390, 844, mobile=True)
    page.goto(hall.base + "/t/" + mine["status_token"])
    expect(page.locator("#number")).to_have_text("A002")
    expect(page.locator("#state")).to_have_text("等候中")
    expect(page.locator("#ahead")).to_have_text("1")
    expect(page.locator("#queue")).to_have_text("综合受理")
    # Nothing about the other ticket.
    assert first["number"] not in page.locator("body").inner_text()

    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)  # A001
    page.evaluate("hallClient.resync()")  # what the page does every 20 s while waiting
    expect(page.locator("#ahead")).to_have_text("0")

    manager.ok("no_show", window=1)
    manager.ok("call_next", window=1)  # A002: mine
    expect(page.locator("#state")).to_have_text("轮到您了!")
    expect(page.locator("#window")).to_have_text("请到 1 号窗口")
    assert first["number"] not in page.locator("body").inner_text()

    manager.ok("start_service", window=1)
    expect(page.locator("#state")).to_have_text("正在办理")
    manager.ok("finish_service", window=1)
    expect(page.locator("#state")).to_have_text("已办结,感谢您的耐心等待")

    unknown = new_page(390, 844, mobile=True)
    unknown.goto(hall.base + "/t/NoSuchTokenAtAll")
    expect(unknown.locator("#state")).to_have_text("未找到该号码")
