"""The demo in Chromium, as a person joining it: the screens show the hall's (simulated)
time, not the machine's, and a person serves a ticket at the window the simulator left free
while the simulator runs the rest of the hall."""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "halls" / "demo.toml"
DAY = "2026-12-21"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "demo",
            "--config",
            str(DEMO),
            "--db",
            str(db),
            "--port",
            "0",
            "--no-dashboard",
            "--history",
            "0",
            "--date",
            DAY,
        ],  # the default speed: 60×
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    urls: dict[str, str] = {}
    notes: dict[str, str] = {}
    try:
        for line in proc.stdout:  # type: ignore[union-attr]
            m = re.match(r"\s+([a-z ]+?)\s{2,}(http://\S+)(?:\s+\((.*)\))?", line)
            if m:
                urls[m.group(1)] = m.group(2)
                notes[m.group(1)] = m.group(3) or ""
            if line.startswith("Ctrl-C"):
                break
        base = urls["health"].rsplit("/", 1)[0]
        yield {"db": db, "urls": urls, "notes": notes, "base": base}
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _q(db: Path, sql: str, *args: Any) -> Any:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = con.execute(sql, args).fetchone()
        return row[0] if row else None
    finally:
        con.close()


def _hall_time(text: str) -> timedelta:
    h, m, s = (int(x) for x in text.split(":"))
    return timedelta(hours=h, minutes=m, seconds=s)


def test_wall_and_status_page_show_the_halls_time(demo: dict[str, Any], browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(demo["urls"]["wall display"])
    expect(page.locator("#date")).to_contain_text("2026年12月21日")  # the simulated day, not the machine's
    expect(page.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    page.wait_for_timeout(1500)  # the clock's speed comes with the first ping
    first = _hall_time(page.locator("#clock").inner_text())
    page.wait_for_timeout(3000)
    later = _hall_time(page.locator("#clock").inner_text())
    assert later - first >= timedelta(seconds=120), (first, later)  # 3 real seconds at 60×: ~3 hall minutes
    page.close()

    deadline = time.monotonic() + 60
    token = None
    while token is None and time.monotonic() < deadline:
        token = _q(
            demo["db"], "SELECT status_token FROM tickets WHERE state = 'waiting' ORDER BY issued_at DESC"
        )
        time.sleep(0.5)
    assert token, "no ticket waiting"
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(f"{demo['base']}/t/{token}")
    expect(phone.locator("#updated")).to_have_text(re.compile(r"更新于 \d\d:\d\d:\d\d"))
    shown = _hall_time(phone.locator("#updated").inner_text().split()[-1])
    at = datetime.fromisoformat(_q(demo["db"], "SELECT MAX(at) FROM events"))  # the hall's time now, about
    hall = timedelta(hours=at.hour, minutes=at.minute, seconds=at.second)
    assert abs(shown - hall) < timedelta(minutes=15), (shown, hall)
    phone.close()


def test_a_person_serves_a_ticket_at_the_free_window(demo: dict[str, Any], browser: Any) -> None:
    note = demo["notes"]["staff terminal"]
    m = re.search(r"window (\d+) is yours: account (\S+), password (\S+)", note)
    assert m, note
    window, account, password = int(m.group(1)), m.group(2), m.group(3)
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(demo["urls"]["staff terminal"])
    page.fill("#login-user", account)
    page.fill("#login-pass", password)
    page.select_option("#login-window", str(window))
    page.click("#login-submit")
    open_button = page.locator('[data-act="open_window"]')
    expect(open_button).to_be_enabled(timeout=15000)
    open_button.click()
    deadline = time.monotonic() + 90
    number = ""
    while time.monotonic() < deadline:  # nobody may be waiting yet: the hall is just opening
        page.locator('[data-act="call_next"]').click()
        page.wait_for_timeout(1000)
        number = page.locator("#cur-number").inner_text().strip()
        if re.match(r"^[A-Z]\d{3}$", number):
            break
    assert re.match(r"^[A-Z]\d{3}$", number), f"no ticket called: {number!r}"
    page.locator('[data-act="start_service"]').click()
    page.wait_for_timeout(500)
    page.locator('[data-act="finish_service"]').click()
    deadline = time.monotonic() + 10
    done = 0
    while not done and time.monotonic() < deadline:
        done = _q(
            demo["db"],
            "SELECT COUNT(*) FROM events WHERE type = 'service_finished' AND window = ?"
            f" AND actor = 'staff:{account}'",
            window,
        )
        time.sleep(0.3)
    assert done == 1
    # the simulator went on meanwhile, and never touched the person's window
    assert (
        _q(
            demo["db"],
            f"SELECT COUNT(*) FROM events WHERE window = ? AND actor != 'staff:{account}'"
            " AND type NOT IN ('ticket_issued')",
            window,
        )
        == 0
    )
    assert _q(demo["db"], "SELECT COUNT(*) FROM events WHERE type = 'service_finished'") > 1
    page.close()
