"""``hallops demo`` end to end, as a new user meets it: a subprocess on a simulated day that
is not today, at high speed, against its real server and SQLite file.

One demo runs for the module (the cases, ratings and the loop need some simulated hours);
then it is stopped with Ctrl-C and restarted on the same database.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "halls" / "demo.toml"
DAY = "2026-12-21"  # a Monday, and not the day the tests run
HISTORY_DAY = "2026-12-18"  # the working day before it: the demo's history
PASSWORD = "hallops-demo"


def _start(db: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
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
            "--speed",
            "600",
            "--no-dashboard",
            "--date",
            DAY,
            "--history",
            "1",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _header(proc: subprocess.Popen[str]) -> tuple[list[str], dict[str, str]]:
    lines: list[str] = []
    urls: dict[str, str] = {}
    for line in proc.stdout:  # type: ignore[union-attr]
        lines.append(line)
        m = re.match(r"\s+([a-z ]+?)\s{2,}(http://\S+)", line)
        if m:
            urls[m.group(1)] = m.group(2)
        if line.startswith("Ctrl-C"):
            return lines, urls
    raise AssertionError("the demo ended before printing its URLs:\n" + "".join(lines))


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    return out


def _q(db: Path, sql: str, *args: Any) -> Any:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchone()[0]
    finally:
        con.close()


def _wait(db: Path, sql: str, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            n = _q(db, sql)
            if n:
                return int(n)
        except sqlite3.OperationalError:
            pass
        time.sleep(0.5)
    return 0


async def _ws(url: str, *msgs: dict[str, Any]) -> list[dict[str, Any]]:
    """Send requests in order on one connection; their replies (pushes skipped)."""
    out = []
    async with connect(url) as ws:
        for i, msg in enumerate(msgs, 1):
            await ws.send(json.dumps({"id": i, **msg}))
            while True:
                reply = json.loads(await ws.recv())
                if reply.get("re") == i:
                    out.append(reply)
                    break
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    proc = _start(db)
    try:
        lines, urls = _header(proc)
        base = urls["health"].rsplit("/", 1)[0]
        yield {
            "db": db,
            "proc": proc,
            "lines": lines,
            "urls": urls,
            "base": base,
            "ws": base.replace("http://", "ws://") + "/ws",
        }
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_the_simulator_plays_counters_back_office_and_raters(demo: dict[str, Any]) -> None:
    db = demo["db"]
    live = f"service_date = '{DAY}'"
    # hours of the live day at 600×, over the websocket: every kind of case step, ratings, loops
    assert _wait(db, f"SELECT COUNT(*) FROM cases WHERE state = 'completed' AND {live}", 90), (
        "no case delivered"
    )
    assert _wait(db, f"SELECT COUNT(*) FROM events WHERE type = 'materials_requested' AND {live}", 30), (
        "no 补正"
    )
    assert _wait(db, f"SELECT COUNT(*) FROM events WHERE type = 'review_started' AND {live}", 60), "no review"
    assert _wait(db, f"SELECT COUNT(*) FROM events WHERE type = 'service_rated' AND {live}", 30), "no rating"
    assert _wait(db, f"SELECT COUNT(*) FROM events WHERE type = 'rectification_opened' AND {live}", 90), (
        "no 差评"
    )
    # the back office took over the history's open cases: it decides them on the live day
    adopted = (
        "SELECT COUNT(*) FROM events WHERE type = 'case_decided' AND service_date = '{day}'"
        " AND json_extract(data, '$.receipt_no') LIKE 'SL-{history}-%'"
    ).format(day=DAY, history=HISTORY_DAY.replace("-", ""))
    assert _wait(db, adopted, 90), "the history's cases were not taken over"
    # ratings came from pads and from status pages (the citizen's phone)
    assert _q(
        db, f"SELECT COUNT(*) FROM events WHERE type = 'service_rated' AND actor LIKE 'device:%' AND {live}"
    )
    assert _q(
        db,
        f"SELECT COUNT(*) FROM events WHERE type = 'service_rated' AND actor NOT LIKE 'device:%' AND {live}",
    )
    # only the demo's dates (the history, then the live days), never the machine's
    assert _q(db, f"SELECT COUNT(*) FROM events WHERE service_date < '{HISTORY_DAY}'") == 0
    assert _q(db, f"SELECT COUNT(*) FROM events WHERE service_date = '{HISTORY_DAY}'") > 1000
    # the back office has work: the manager's list of cases is not empty
    replies = asyncio.run(
        _ws(
            demo["ws"], {"type": "login", "username": "manager", "password": PASSWORD}, {"type": "list_cases"}
        )
    )
    assert replies[0]["type"] == "ok", replies[0]
    assert replies[1]["type"] == "ok" and replies[1]["cases"], replies[1]


def test_the_hall_clock_is_stored_and_sent_with_its_speed(demo: dict[str, Any]) -> None:
    db = demo["db"]
    clock = json.loads(_q(db, "SELECT value FROM meta WHERE key = 'hall_clock'"))
    at = datetime.fromisoformat(clock["at"])
    assert at.utcoffset() is not None and at.date().isoformat() == DAY
    assert clock["speed"] == 600.0 and abs(clock["wall"] - time.time()) < 120
    (pong,) = asyncio.run(_ws(demo["ws"], {"type": "ping"}))
    assert pong["clock_speed"] == 600.0
    assert pong["server_time"].startswith(DAY) and pong["server_time"].endswith("+08:00")


def test_every_printed_address_answers_and_its_tokens_work(demo: dict[str, Any]) -> None:
    urls = demo["urls"]
    for name in (
        "hall index",
        "wall display",
        "window display",
        "kiosk",
        "rating pad",
        "staff terminal",
        "back office",
        "health",
    ):
        with urllib.request.urlopen(urls[name], timeout=10) as resp:
            assert resp.status == 200, name
    text = "".join(demo["lines"])
    assert "window 4 is yours: account w04, password hallops-demo" in text  # 无差别综合受理, low counter
    assert "account bo-realestate, password hallops-demo" in text
    kiosk = urls["kiosk"].split("token=")[1]
    pad = urls["rating pad"].split("token=")[1]
    replies = asyncio.run(_ws(demo["ws"], {"type": "auth", "token": kiosk}))
    assert replies[0]["type"] == "ok" and replies[0]["role"] == "kiosk"
    replies = asyncio.run(_ws(demo["ws"], {"type": "auth", "token": pad}))
    assert replies[0]["type"] == "ok" and replies[0]["role"] == "rating_pad"
    # the index page's data lists every screen with its token, every window's pad included
    with urllib.request.urlopen(urls["hall index"] + "config.json", timeout=10) as resp:
        listed = {link["label"]: link["url"] for link in json.load(resp)["demo"]}
    assert listed["kiosk"] == urls["kiosk"] and "rating pad 1" in listed
    # the person's window and account are left alone by the simulator
    assert _q(demo["db"], f"SELECT COUNT(*) FROM events WHERE window = 4 AND service_date = '{DAY}'") == 0
    assert (
        _q(
            demo["db"],
            f"SELECT COUNT(*) FROM events WHERE actor LIKE '%bo-realestate%' AND service_date = '{DAY}'",
        )
        == 0
    )


def test_zz_ctrl_c_then_restart_continues_without_refusals(demo: dict[str, Any]) -> None:
    db, proc = demo["db"], demo["proc"]
    first = _stop(proc)
    m = re.search(r"stopped at simulated (\S+ [0-9:]+):", first)
    assert m, first
    stopped = datetime.fromisoformat(m.group(1))
    assert "refused" not in first and "{" not in first, first
    again = _start(db, "--seconds", "25")
    out, _ = again.communicate(timeout=90)
    m2 = re.search(r"continues at (\S+ \S+)", out)
    assert m2, out
    assert datetime.fromisoformat(m2.group(1)) >= stopped  # never back in time
    assert "refused" not in out and "unexpected" not in out, out
    assert "{" not in out, out  # no raw dict anywhere


def test_zzz_every_dashboard_page_on_the_demo_day(
    demo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 point 1: after the demo ran (and stopped: its clock stands still) on a day that
    is not the machine's, every dashboard page opens on the hall's day and today's figures
    are plain SQL over that simulated day."""
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(ROOT / "tests" / "dashboard"))
    from dashboard.theme import parse_number

    import dashboard_expected as ex  # the dashboard tests' SQL figures

    db = demo["db"]
    assert demo["proc"].poll() is not None  # stopped by the restart test
    clock = json.loads(_q(db, "SELECT value FROM meta WHERE key = 'hall_clock'"))
    assert clock["speed"] == 0.0
    today = datetime.fromisoformat(clock["at"]).date()
    assert today.isoformat() >= DAY and today != datetime.now().date()
    monkeypatch.setenv("HALLOPS_DB", str(db))
    monkeypatch.setenv("HALLOPS_CONFIG", str(DEMO))
    monkeypatch.delenv("HALLOPS_NOW", raising=False)
    at = AppTest.from_file(str(ROOT / "dashboard" / "streamlit_app.py"), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    figures = ex.day_figures(con, today, today)
    metrics = {x.label: x.value for x in at.metric}
    assert parse_number(metrics["今日取号"]) == figures["issued"]
    assert parse_number(metrics["今日办结"]) == figures["served"]
    for page in (
        "app_pages/cases.py",
        "app_pages/ratings.py",
        "app_pages/windows.py",
        "app_pages/report.py",
        "app_pages/whatif.py",
    ):
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
    at.switch_page("app_pages/ratings.py").run()
    live_day = date.fromisoformat(DAY)
    at.date_input(key="f_dates").set_value((live_day, today)).run()
    assert not at.exception, at.exception
    metrics = {x.label: x.value for x in at.metric}
    expected = ex.rating_figures(con, live_day, today, datetime.fromisoformat(clock["at"]))
    con.close()
    assert expected["rated"] > 0 and parse_number(metrics["评价数"]) == expected["rated"]
    assert parse_number(metrics["差评数"]) == expected["rectifications"]
