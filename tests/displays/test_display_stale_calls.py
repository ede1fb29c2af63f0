"""The wall's stale-call policy: at a high call rate the big panel shows the newest call at
once, and the voice backlog stays bounded by skipping to the newest call per window."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

# A slow zh-CN voice (each utterance 300 ms), so the announcements fall behind the calls;
# the wall's largest backlog is sampled every 10 ms.
SLOW_SPEECH = """
(() => {
  window.__spoken = [];
  const voice = {lang: 'zh-CN', name: 'Slow Mandarin', localService: true, default: true, voiceURI: 'slow'};
  const synth = window.speechSynthesis;
  synth.getVoices = () => [voice];
  synth.speak = (u) => {
    window.__spoken.push(u.text);
    setTimeout(() => { if (u.onend) u.onend(new Event('end')); }, 300);
  };
  synth.cancel = () => {};
  window.HALLOPS_ANNOUNCER = {chimeMs: 100, gapMs: 20};
  window.__maxPending = 0;
  // What the voice was doing each time the big panel changed.
  window.__panel = [];
  document.addEventListener('DOMContentLoaded', () => {
    const el = document.getElementById('now-ticket');
    new MutationObserver(() => window.__panel.push({
      ticket: el.textContent,
      voice: window.hallAnnouncer && hallAnnouncer.current ? hallAnnouncer.current.number : null,
      pending: window.hallAnnouncer ? hallAnnouncer.pending() : 0,
    })).observe(el, {childList: true, characterData: true, subtree: true});
  });
  setInterval(() => {
    if (window.hallAnnouncer) window.__maxPending = Math.max(window.__maxPending, hallAnnouncer.pending());
  }, 10);
})();
"""

DIGITS = "零一二三四五六七八九"
WINDOWS = (1, 2, 5)  # all serve queue A in the test hall
ROUNDS = 8


def spoken(number: str, window: int) -> str:
    spelled = " ".join(DIGITS[int(ch)] if ch.isdigit() else ch for ch in number)
    return f"请 {spelled} 号 到 {window} 号窗口 办理"


@pytest.mark.parametrize(
    ("query", "limits", "reason"),
    [
        ("voice_max_pending=3&voice_max_age_s=20", [3, 20000], "pending"),
        ("voice_max_pending=100&voice_max_age_s=1", [100, 1000], "age"),
    ],
    ids=["too-many", "too-old"],
)
def test_backlog_bounded_and_panel_shows_the_newest_call(hall, manager, new_page, query, limits, reason):
    page = new_page(1920, 1080, speech=False)
    page.add_init_script(SLOW_SPEECH)
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    page.goto(hall.base + "/display/wall?" + query)
    expect(page.locator("#hc-conn")).to_be_hidden()
    assert page.evaluate("[hallAnnouncer.maxPending, hallAnnouncer.maxAgeMs]") == limits

    for _ in range(len(WINDOWS) * ROUNDS):
        manager.ok("issue_ticket", queue="A")
    for w in WINDOWS:
        manager.ok("open_window", window=w)
    last_by_window: dict[int, str] = {}
    last = ""
    for _ in range(ROUNDS):
        for w in WINDOWS:
            last = manager.ok("call_next", window=w)["ticket"]["number"]
            last_by_window[w] = last
            manager.ok("start_service", window=w)
            manager.ok("finish_service", window=w)
    calls = len(WINDOWS) * ROUNDS

    # The panel shows the newest call as soon as it arrives, while the voice is still behind
    # (a panel that followed the voice would show it only once the voice got there).
    expect(page.locator("#now-ticket")).to_have_text(last)
    panel = page.evaluate("window.__panel")
    first = next(i for i, p in enumerate(panel) if p["ticket"] == last)
    assert panel[first]["voice"] != last and panel[first]["pending"] > 1, panel[first]

    page.wait_for_function("hallAnnouncer.pending() === 0", timeout=20_000)
    if reason == "pending":  # bounded: never more than max_pending waiting plus the one being announced
        assert page.evaluate("window.__maxPending") <= limits[0] + 1
    assert reason in page.evaluate("hallAnnouncer.skipLog.map(s => s.reason)")
    history = page.evaluate("hallAnnouncer.history.map(h => h.text)")
    assert len(history) < calls  # stale calls were skipped ...
    for w, number in last_by_window.items():  # ... but each window's newest call was announced
        assert spoken(number, w) in history
    skipped = page.evaluate("hallAnnouncer.skipLog.reduce((n, s) => n + s.skipped.length, 0)")
    assert skipped == calls - len(history)
    assert any("[announcer] behind" in w and "skipped" in w for w in warnings), warnings
    # ... and it stays there while the voice catches up on older calls.
    panel = page.evaluate("window.__panel")
    assert {p["ticket"] for p in panel[first:]} == {last}, panel[first:]
    expect(page.locator("#now-ticket")).to_have_text(last)
