"""The wall's recorded-clip voice: the clip sequence of a call, the committed clip set, and
real, non-silent audio on stock Chromium (no Mandarin system voice, nothing downloaded)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
VOICE_DIR = ROOT / "displays" / "static" / "voice"
MAKE_CLIPS = ROOT / "displays" / "voice" / "make_clips.py"

FAST = "window.HALLOPS_ANNOUNCER = {chimeMs: 60, gapMs: 20, repeat: 1};"


def _make_clips_module():
    spec = importlib.util.spec_from_file_location("make_clips", MAKE_CLIPS)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_clip_set_matches_the_script_and_is_small():
    manifest = json.loads((VOICE_DIR / "manifest.json").read_text(encoding="utf-8"))
    table = _make_clips_module().clip_table()
    assert set(manifest["clips"]) == set(table)
    for key, clip in manifest["clips"].items():
        path = VOICE_DIR / clip["file"]
        assert path.read_bytes()[:4] == b"OggS", key  # Ogg Vorbis, which Chromium decodes
        assert clip["pinyin"] == table[key][1]
        assert 0.1 < clip["duration_s"] < 2.0, (key, clip)
    total = sum(p.stat().st_size for p in VOICE_DIR.iterdir())
    assert total < 2 * 1024 * 1024, total
    # Every letter a queue code can use, every digit, 十 and the carrier words.
    assert {chr(c) for c in range(ord("A"), ord("Z") + 1)} <= set(manifest["clips"])
    assert set("零一二三四五六七八九十") <= set(manifest["clips"])
    assert {"请", "号", "到", "号窗口", "办理", "再次呼叫"} <= set(manifest["clips"])


def test_a_call_gives_the_expected_clip_sequence(hall, new_page):
    page = new_page(800, 600)
    page.goto(hall.base + "/display/wall")

    def seq(number, window, kind="call"):
        return page.evaluate("([n, w, k]) => VoiceClips.callClips(n, w, k)", [number, window, kind])

    assert seq("A001", 15) == ["请", "A", "零", "零", "一", "号", "到", "十", "五", "号窗口", "办理"]
    assert seq("A001", 3) == ["请", "A", "零", "零", "一", "号", "到", "三", "号窗口", "办理"]
    assert seq("b120", 20) == ["请", "B", "一", "二", "零", "号", "到", "二", "十", "号窗口", "办理"]
    assert seq("P007", 10)[-4:] == ["到", "十", "号窗口", "办理"]
    assert seq("X999", 99) == ["请", "X", "九", "九", "九", "号", "到", "九", "十", "九", "号窗口", "办理"]
    assert seq("A001", 1, "recall")[:2] == ["再次呼叫", "请"]
    # The announcer's own items carry the same sequence; every clip named exists in the set.
    assert page.evaluate("Announcer.clipsFor('A001', 15)") == seq("A001", 15)
    names = set(json.loads((VOICE_DIR / "manifest.json").read_text(encoding="utf-8"))["clips"])
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        for w in (1, 9, 10, 11, 19, 20, 45, 99):
            assert set(seq(letter + "123", w)) <= names


def test_wall_plays_non_silent_clips_on_stock_chromium(hall, manager, new_page):
    # No speech stub: Debian's Chromium as it is, which has no Mandarin system voice.
    page = new_page(1920, 1080, speech=False)
    page.add_init_script(FAST)
    page.goto(hall.base + "/display/wall")
    expect(page.locator("#hc-conn")).to_be_hidden()
    page.wait_for_function("hallAnnouncer.voiceAvailable !== null")
    has_zh = page.evaluate("speechSynthesis.getVoices().some(v => /^(zh|cmn)/i.test(v.lang))")
    assert not has_zh, "this test is about a machine without a Mandarin system voice"
    assert page.evaluate("hallAnnouncer.voiceMode") == "clips"
    expect(page.locator("#voice-status")).to_be_hidden()  # no 语音不可用 any more

    for _ in range(15):
        manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)
    expect(page.locator("#now-ticket")).to_have_text("A001")
    page.wait_for_function(
        "hallAnnouncer.history.length === 1 && hallAnnouncer.pending() === 0", timeout=15_000
    )
    assert page.evaluate("hallAnnouncer.lastClips") == [
        "请",
        "A",
        "零",
        "零",
        "一",
        "号",
        "到",
        "一",
        "号窗口",
        "办理",
    ]
    meter = page.evaluate("hallAnnouncer.meter")
    # The clips went through the Web Audio graph and were measured on its analyser: a silent
    # or missing clip set, a suspended context or a broken graph gives peak 0.
    assert meter["frames"] >= 10, meter
    assert meter["peak"] > 0.2, meter
    assert meter["rms"] > 0.02, meter
    assert page.evaluate("hallAnnouncer.audio.state") == "running"


def test_clips_preferred_over_a_system_voice_when_asked(hall, manager, new_page):
    page = new_page(1920, 1080)  # with the fake zh-CN system voice of conftest
    page.goto(hall.base + "/display/wall")
    page.wait_for_function("hallAnnouncer.voiceAvailable !== null")
    assert page.evaluate("hallAnnouncer.voiceMode") == "speech"  # the browser's own voice first
    page = new_page(1920, 1080)
    page.goto(hall.base + "/display/wall?voice=clips")
    page.wait_for_function("hallAnnouncer.voiceAvailable !== null")
    assert page.evaluate("hallAnnouncer.voiceMode") == "clips"
    manager.ok("issue_ticket", queue="A")
    manager.ok("open_window", window=1)
    manager.ok("call_next", window=1)
    page.wait_for_function(
        "hallAnnouncer.history.length === 1 && hallAnnouncer.pending() === 0", timeout=15_000
    )
    assert page.evaluate("window.__spoken") == []
    assert page.evaluate("hallAnnouncer.meter.peak") > 0.2
