"""Every screen at its target size, with the demo hall's real density (14 queues, 20 windows).

Screenshots go to test-artifacts/screenshots/ (git-ignored) for a human look; the asserts
catch what can be measured: no scrolling where a screen must fit, no clipped big text, the
CJK font present, the kiosk ticket on one 80 mm page.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from queue_server.config_file import load_hall_config
from queue_server.hall.config import WeeklyHours

ROOT = Path(__file__).resolve().parents[2]
DEMO_HALL = ROOT / "data" / "halls" / "demo.toml"
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
DEMO_PASSWORD = "hallops-demo"
CLOSED_QUEUE_NAME = "婚姻登记"

NAMES = ["张三丰", "李四", "王小明", "欧阳娜娜", "陈静", "刘德华", "赵敏", "孙悟空", "周杰", "吴刚"]


def demo_config():
    """The demo hall, open around the clock (tests run at any hour) except one queue."""
    demo = load_hall_config(DEMO_HALL)
    always = load_hall_config(SMALL_HALL).hours
    never = WeeklyHours(days=((),) * 7)
    queues = tuple(
        dataclasses.replace(q, hours=never if q.name == CLOSED_QUEUE_NAME else always) for q in demo.queues
    )
    return dataclasses.replace(demo, hours=always, queues=queues)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, threaded_hall) -> Iterator[dict]:
    h = threaded_hall(demo_config(), tmp_path_factory.mktemp("demo") / "demo.db")
    h.start()
    m = h.client()
    m.ok("login", username="manager", password=DEMO_PASSWORD)
    cfg = h.config
    open_codes = [q.code for q in cfg.queues if q.name != CLOSED_QUEUE_NAME]
    tokens = {}
    for i in range(46):
        code = open_codes[(i * 5) % len(open_codes)] if i % 3 else open_codes[0]
        fields = {
            "queue": code,
            "channel": "staff",
            "applicant": {
                "name": NAMES[i % len(NAMES)],
                "phone": f"1381234{i:04d}",
                "id_number": f"11010119900307{i:04d}",
            },
        }
        if i % 7 == 3:
            fields["priority"] = "green"
        t = m.ok("issue_ticket", **fields)["ticket"]
        tokens[t["number"]] = t["status_token"]
    called = []
    for w in cfg.windows[:12]:
        m.ok("open_window", window=w.number)
        r = m.request("call_next", window=w.number)
        if r["type"] == "ok":
            called.append((w.number, r["ticket"]["number"]))
    for n, _ in called[:3]:
        m.ok("start_service", window=n)
    m.ok("open_window", window=cfg.windows[12].number)
    m.ok("pause_window", window=cfg.windows[12].number, reason="业务培训")
    kiosk = h.mint_token("kiosk", name="kiosk-demo")
    try:
        yield {
            "hall": h,
            "manager": m,
            "called": called,
            "tokens": tokens,
            "kiosk": kiosk,
            "paused": cfg.windows[12].number,
        }
    finally:
        m.close()
        h.close()


def assert_fits(page, *, scroll: bool = False) -> None:
    """No horizontal scrolling; no vertical either unless allowed; CJK font present."""
    dims = page.evaluate("""() => ({sw: document.documentElement.scrollWidth, sh: document.documentElement.scrollHeight,
                                    w: innerWidth, h: innerHeight})""")
    assert dims["sw"] <= dims["w"], f"horizontal overflow: {dims}"
    if not scroll:
        assert dims["sh"] <= dims["h"], f"vertical overflow: {dims}"
    assert page.evaluate("document.fonts.check('32px \"Noto Sans CJK SC\"', '政务服务中心')")


def assert_not_clipped(page, selector: str) -> None:
    """Each matching element shows its whole text (no overflow cut-off) inside the viewport."""
    bad = page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel)).filter(el => el.offsetParent !== null)
        .map(el => { const r = el.getBoundingClientRect();
                     return {text: el.textContent.trim(), sw: el.scrollWidth, cw: el.clientWidth,
                             right: r.right, bottom: r.bottom, vw: innerWidth, vh: innerHeight}; })
        .filter(d => d.sw > d.cw + 1 || d.right > d.vw + 1 || d.bottom > d.vh + 1)""",
        selector,
    )
    assert not bad, f"{selector} clipped: {bad}"


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"])
def test_wall_display(demo, new_page, shot, size):
    page = new_page(*size)
    page.goto(demo["hall"].base + "/display/wall")
    _, last_ticket = demo["called"][-1]
    expect(page.locator("#now-ticket")).to_have_text(last_ticket)
    expect(page.locator("#recent-list li:visible")).to_have_count(
        7
    )  # recent_calls 8: one large, seven listed
    expect(page.locator("#queue-body .qrow").first).to_be_visible()
    page.wait_for_timeout(300)
    shot(page, "wall-landscape" if size[0] > size[1] else "wall-portrait")
    assert_fits(page)
    assert_not_clipped(
        page, ".now-ticket, .now-window, .recent-list li, .qrow .cnt, .qrow .wait, .hall-name, .clock"
    )
    # The closed queue says so.
    closed = page.locator(".qrow.closed")
    if closed.count():
        expect(closed.first).to_contain_text("暂停取号")


def test_window_displays(demo, new_page, shot):
    n, ticket = demo["called"][-1]
    page = new_page(1920, 1080)
    page.goto(demo["hall"].base + f"/display/window/{n}")
    expect(page.locator("#wd-ticket")).to_have_text(ticket)
    expect(page.locator("#wd-status")).to_have_text(f"请 {ticket} 号到本窗口办理")
    page.wait_for_timeout(200)
    shot(page, "window-called")
    assert_fits(page)
    assert_not_clipped(page, ".wd-ticket, .wd-status, .wd-name")

    page = new_page(1280, 360)  # a strip above the counter
    page.goto(demo["hall"].base + f"/display/window/{n}")
    expect(page.locator("#wd-ticket")).to_have_text(ticket)
    shot(page, "window-called-strip")
    assert_fits(page)
    assert_not_clipped(page, ".wd-ticket, .wd-status, .wd-name")

    page = new_page(1280, 720)
    page.goto(demo["hall"].base + f"/display/window/{demo['paused']}")
    expect(page.locator("#wd-status")).to_have_text("暂停服务")
    expect(page.locator("#wd-reason")).to_have_text("原因:业务培训")
    shot(page, "window-paused")
    assert_fits(page)

    page = new_page(1280, 360)
    page.goto(demo["hall"].base + "/display/window/20")
    expect(page.locator("#wd-status")).to_have_text("未开放")
    shot(page, "window-closed-strip")
    assert_fits(page)
    assert_not_clipped(page, ".wd-status, .wd-name")


def test_kiosk_screens(demo, new_page, shot):
    page = new_page(1080, 1920)
    page.goto(demo["hall"].base + f"/kiosk?token={demo['kiosk']}")
    expect(page.locator(".k-queue").first).to_be_visible()
    assert page.locator(".k-group h2").all_inner_texts() == [
        "无差别综合受理",
        "分领域受理",
        "专窗服务",
        "出件 · 咨询导办",
    ]
    expect(page.locator(".k-queue.off")).to_have_count(1)
    shot(page, "kiosk-home")
    assert_fits(page)
    assert_not_clipped(page, ".k-queue .name")

    page.click("#big-toggle")
    page.wait_for_timeout(100)
    shot(page, "kiosk-home-large")
    assert_fits(page, scroll=True)
    page.click("#big-toggle")

    page.click('.k-queue[data-queue="A"]')
    expect(page.locator("#choose")).to_be_visible()
    shot(page, "kiosk-choose")
    assert_fits(page)
    page.click("#opt-green")
    expect(page.locator("#done")).to_be_visible()
    page.wait_for_function(
        "document.getElementById('t-qr').complete && document.getElementById('t-qr').naturalWidth > 0"
    )
    shot(page, "kiosk-ticket")
    assert_fits(page)

    # The print stylesheet: only the ticket, on one 80 mm page.
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 302, "height": 600})  # 80 mm at 96 dpi
    shot(page, "kiosk-ticket-print", full_page=True)
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and abs(float(box.group(1)) - 80 / 25.4 * 72) < 2  # 80 mm wide

    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 1080, "height": 1920})
    page.click("#finish")
    closed = page.locator(".k-queue.off")
    closed.click()
    expect(page.locator("#error-msg")).to_contain_text("该业务当前不在办理时间")
    shot(page, "kiosk-refused")


def test_kiosk_setup_screen(demo, new_page, shot):
    page = new_page(1080, 1920)
    page.goto(demo["hall"].base + "/kiosk")
    expect(page.locator("#setup")).to_be_visible()
    shot(page, "kiosk-setup")
    assert_fits(page)


def test_terminal(demo, new_page, shot):
    page = new_page(1366, 768)
    page.goto(demo["hall"].base + "/terminal")
    expect(page.locator("#login")).to_be_visible()
    shot(page, "terminal-login")
    assert_fits(page)
    n, ticket = demo["called"][-1]
    page.fill("#login-user", "w01")  # window staff: full applicant data at their own window
    page.fill("#login-pass", DEMO_PASSWORD)
    page.select_option("#login-window", str(n))
    page.click("#login-submit")
    expect(page.locator("#cur-number")).to_have_text(ticket)
    expect(page.locator("#ap-phone")).to_have_text(re.compile(r"^1381234\d{4}$"))
    expect(page.locator("#wait-body tr").first).to_be_visible()
    shot(page, "terminal-desk")
    assert_fits(page)
    assert_not_clipped(page, ".tm-act, .tm-cur-number")
    page.keyboard.press("t")
    expect(page.locator("#dlg-transfer")).to_be_visible()
    shot(page, "terminal-transfer")
    page.keyboard.press("Escape")


def test_status_page(demo, new_page, shot):
    h = demo["hall"]
    waiting = [
        num
        for num, tok in demo["tokens"].items()
        if num not in {t for _, t in demo["called"]} and num.startswith("A")
    ]
    page = new_page(390, 844, mobile=True)
    page.goto(h.base + "/t/" + demo["tokens"][waiting[-1]])
    expect(page.locator("#state")).to_have_text("等候中")
    shot(page, "status-waiting")
    assert_fits(page)
    n, ticket = demo["called"][-1]
    page.goto(h.base + "/t/" + demo["tokens"][ticket])
    expect(page.locator("#window")).to_have_text(f"请到 {n} 号窗口")
    shot(page, "status-called")
    assert_fits(page)


def test_index_page(demo, new_page, shot):
    page = new_page(1280, 800)
    page.goto(demo["hall"].base + "/")
    expect(page.locator("#windows li")).to_have_count(len(demo["hall"].config.windows))
    shot(page, "index", full_page=True)
    assert_fits(page, scroll=True)


# Where each element's text wraps: the character starting each new line, with the one before.
LINE_STARTS = """(sel) => Array.from(document.querySelectorAll(sel)).filter(el => el.offsetParent !== null).map(el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const chars = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    for (let i = 0; i < n.data.length; i++) {
      const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
      const rect = r.getClientRects()[0];
      if (rect) chars.push({ch: n.data[i], top: rect.top, h: rect.height});
    }
  }
  const starts = [];
  for (let i = 1; i < chars.length; i++) {
    if (chars[i].top > chars[i - 1].top + chars[i - 1].h / 2) starts.push([chars[i - 1].ch, chars[i].ch]);
  }
  return {text: el.textContent, starts};
})"""
PHRASE_END = "·・、/"
PHRASE_START = "(（"


def assert_no_break_inside_words(page, selector: str) -> None:
    bad = [
        (d["text"], s)
        for d in page.evaluate(LINE_STARTS, selector)
        for s in d["starts"]
        if not (s[0] in PHRASE_END or s[1] in PHRASE_START)
    ]
    assert not bad, f"line breaks inside words: {bad}"


@pytest.mark.parametrize("size", [(1920, 1080), (1080, 1920)], ids=["landscape", "portrait"])
def test_kiosk_shows_every_queue_without_scrolling(demo, new_page, shot, size):
    page = new_page(*size)
    page.goto(demo["hall"].base + f"/kiosk?token={demo['kiosk']}")
    buttons = page.locator(".k-queue")
    expect(buttons).to_have_count(len(demo["hall"].config.queues))
    page.wait_for_timeout(200)
    shot(page, "kiosk-home-" + ("landscape" if size[0] > size[1] else "portrait"))
    assert_fits(page)
    hidden = page.evaluate("""() => Array.from(document.querySelectorAll('.k-queue')).map(b => {
        const r = b.getBoundingClientRect();
        return {q: b.dataset.queue, top: r.top, left: r.left, bottom: r.bottom, right: r.right};
      }).filter(r => r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth)""")
    assert not hidden, f"queue buttons not fully visible: {hidden}"
    assert_not_clipped(page, ".k-queue .name, .k-queue .meta")
    assert_no_break_inside_words(page, ".k-queue .name")
    # The buttons stay large enough to touch: at least 12 mm (about 45 px at 96 dpi) high.
    assert (
        min(page.evaluate("Array.from(document.querySelectorAll('.k-queue')).map(b => b.offsetHeight)")) >= 45
    )
    # The next steps fit this orientation too.
    page.click('.k-queue[data-queue="B"]')
    expect(page.locator("#choose")).to_be_visible()
    assert_fits(page)
    page.click("#opt-normal")
    expect(page.locator("#done")).to_be_visible()
    page.wait_for_function(
        "document.getElementById('t-qr').complete && document.getElementById('t-qr').naturalWidth > 0"
    )
    shot(page, "kiosk-ticket-" + ("landscape" if size[0] > size[1] else "portrait"))
    assert_fits(page)


def test_kiosk_error_is_plain_chinese(demo, new_page, shot):
    page = new_page(1920, 1080)
    page.goto(demo["hall"].base + f"/kiosk?token={demo['kiosk']}")
    page.locator(".k-queue.off").click()  # the closed queue: the server answers in English
    expect(page.locator("#error")).to_be_visible()
    shot(page, "kiosk-refused-landscape")
    text = page.locator("#error").inner_text()
    assert "该业务当前不在办理时间" in text
    assert not re.search(r"[A-Za-z]{2,}", text), text  # no English word, let alone a sentence


def test_wall_portrait_header_fits(demo, new_page, shot):
    page = new_page(1080, 1920, speech=False)
    # The worst case: a zone name and the voice mark (no system voice, no clips) in the header.
    page.add_init_script("speechSynthesis.getVoices = () => [];")
    page.route("**/static/voice/**", lambda route: route.abort())
    page.goto(demo["hall"].base + "/display/wall?zone=A区")
    expect(page.locator("#voice-status")).to_be_visible()
    page.wait_for_timeout(300)
    shot(page, "wall-portrait-header")
    assert_fits(page)
    assert_not_clipped(page, ".hall-name, .zone, .date, .clock, .voice-off")
    boxes = page.evaluate("""() => {
        const head = document.querySelector('.wall-head').getBoundingClientRect();
        const out = {};
        for (const id of ['hall-name', 'zone', 'date', 'clock']) {
          const r = document.getElementById(id).getBoundingClientRect();
          out[id] = {top: r.top, bottom: r.bottom};
        }
        return {head: {top: head.top, bottom: head.bottom}, items: out};
      }""")
    for name, r in boxes["items"].items():
        assert boxes["head"]["top"] <= r["top"] and r["bottom"] <= boxes["head"]["bottom"] + 1, (name, boxes)
    # The voice mark does not cover the call.
    mark = page.locator("#voice-status").bounding_box()
    ticket = page.locator("#now-ticket").bounding_box()
    assert mark["y"] + mark["height"] <= ticket["y"] or mark["x"] >= ticket["x"] + ticket["width"]
