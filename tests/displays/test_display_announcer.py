"""Voice announcements on the wall display: the text, the queue, repeats and recalls."""

from __future__ import annotations

from playwright.sync_api import expect

DIGITS = "零一二三四五六七八九"
PASSWORD = "test-pass"


def spoken(number: str, window: int, *, recall: bool = False) -> str:
    """The expected Mandarin call, built independently of announcer.js."""
    spelled = " ".join(DIGITS[int(ch)] if ch.isdigit() else ch for ch in number)
    return ("再次呼叫 " if recall else "") + f"请 {spelled} 号 到 {window} 号窗口 办理"


def open_wall(new_page, hall, **kwargs):
    page = new_page(1920, 1080, **kwargs)
    page.goto(hall.base + "/display/wall")
    expect(page.locator("#hc-conn")).to_be_hidden()
    return page


def test_call_text_is_a_pure_function(hall, new_page):
    page = new_page(800, 600)
    page.goto(hall.base + "/display/wall")
    assert page.evaluate("Announcer.callText('A012', 5)") == "请 A 零 一 二 号 到 5 号窗口 办理"
    assert page.evaluate("Announcer.callText('B100', 12)") == "请 B 一 零 零 号 到 12 号窗口 办理"
    assert page.evaluate("Announcer.spellNumber('a007')") == "A 零 零 七"
    assert page.evaluate("Announcer.displayText('A012', 5)") == "请 A012 号 到 5 号窗口 办理"
    assert (
        page.evaluate("Announcer.callText('A012', 5, 'recall')")
        == "再次呼叫 请 A 零 一 二 号 到 5 号窗口 办理"
    )
    assert spoken("A012", 5) == "请 A 零 一 二 号 到 5 号窗口 办理"


def test_five_calls_at_once_give_five_announcements_in_order(hall, manager, new_page):
    wall = open_wall(new_page, hall)
    for q in ("A", "A", "A", "B", "P"):
        manager.ok("issue_ticket", queue=q)
    windows = (1, 2, 3, 5, 9)
    for w in windows:
        manager.ok("open_window", window=w)

    watcher = hall.client()
    watcher.ok("subscribe")
    watcher.events(0.2)  # the snapshot and the open_window events

    # Five staff connections call at the same moment: the server commits them together and
    # the wall receives five ticket_called events back to back.
    callers = [hall.client() for _ in windows]
    for c in callers:
        c.ok("login", username="manager", password=PASSWORD)
    rids = [c.send("call_next", window=w) for c, w in zip(callers, windows, strict=True)]
    for c, rid in zip(callers, rids, strict=True):
        assert c.reply(rid)["type"] == "ok"
    calls = [
        m["event"]
        for m in watcher.events(0.5)
        if m["type"] == "event" and m["event"]["type"] == "ticket_called"
    ]
    assert len(calls) == 5
    expected = [spoken(e["data"]["number"], e["window"]) for e in calls]
    assert len(set(expected)) == 5

    wall.wait_for_function("window.__spoken.length >= 10 && hallAnnouncer.pending() === 0", timeout=15_000)
    wall.wait_for_timeout(300)  # nothing else may follow
    utterances = wall.evaluate("window.__spoken")
    # announce_repeat defaults to 2: each call spoken twice, in the order the calls were made.
    assert utterances == [t for t in expected for _ in range(2)]
    history = wall.evaluate("hallAnnouncer.history.map(h => h.text)")
    assert history == expected  # exactly five announcements
    assert wall.evaluate("hallAnnouncer.chimes") == 5  # a chime before each
    assert wall.evaluate("window.__overlap") == 0  # never two at once
    # The newest call is on screen, the others in the recent list.
    last = calls[-1]["data"]["number"]
    expect(wall.locator("#now-ticket")).to_have_text(last)
    for e in calls[:-1]:
        expect(wall.locator(f'#recent-list li[data-ticket="{e["data"]["number"]}"]')).to_be_visible()
    for c in [watcher, *callers]:
        c.close()


def test_recall_is_announced_again_and_a_resync_does_not_repeat(hall, manager, new_page):
    wall = open_wall(new_page, hall)
    manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)
    text = spoken("A001", 1)
    wall.wait_for_function("window.__spoken.length === 2")
    manager.ok("recall", window=1)
    wall.wait_for_function("window.__spoken.length === 4")
    # A fresh snapshot (resync) brings the same call again: it is not announced twice.
    wall.evaluate("hallClient.resync()")
    wall.wait_for_timeout(600)
    assert wall.evaluate("window.__spoken") == [text] * 2 + [spoken("A001", 1, recall=True)] * 2
    assert wall.evaluate("hallAnnouncer.history.length") == 2


def test_calls_already_on_screen_are_not_announced_when_the_page_opens(hall, manager, new_page):
    manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)
    wall = open_wall(new_page, hall)
    expect(wall.locator("#now-ticket")).to_have_text("A001")
    wall.wait_for_timeout(500)
    assert wall.evaluate("window.__spoken") == []


# No system voice and no clip set either (the clips are not served): the last resort.
NO_VOICES = """
(() => {
  window.__spoken = [];
  speechSynthesis.getVoices = () => [];
  speechSynthesis.speak = (u) => { window.__spoken.push(u.text); };
  window.HALLOPS_ANNOUNCER = {chimeMs: 60, gapMs: 20};
})();
"""


def test_without_any_voice_the_call_is_shown_and_marked(hall, manager, new_page):
    page = new_page(1920, 1080, speech=False)
    page.add_init_script(NO_VOICES)
    page.route("**/static/voice/**", lambda route: route.abort())
    page.goto(hall.base + "/display/wall")
    expect(page.locator("#voice-status")).to_be_visible()
    expect(page.locator("#voice-status")).to_contain_text("语音不可用")
    manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)
    expect(page.locator("#now-ticket")).to_have_text("A001")
    page.wait_for_function("hallAnnouncer.history.length === 1 && hallAnnouncer.chimes === 1")
    assert page.evaluate("window.__spoken") == []  # no speech with a voice that cannot read Chinese
    assert page.evaluate("hallAnnouncer.voiceMode") is None
