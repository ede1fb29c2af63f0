"""``hallops demo`` as a user runs it: a subprocess, stopped with Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "halls" / "demo.toml"


def _demo(db: Path, *extra: str) -> subprocess.Popen[str]:
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
            "--history",
            "0",
            "--start",
            "2026-11-23",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _urls(proc: subprocess.Popen[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for line in proc.stdout:  # type: ignore[union-attr]
        m = re.match(r"\s+([a-z ]+?)\s{2,}(http://\S+)", line)
        if m:
            urls[m.group(1)] = m.group(2)
        if line.startswith("Ctrl-C"):
            return urls
    raise AssertionError("the demo ended before printing its URLs")


def _count(db: Path, sql: str) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def _wait_for(db: Path, sql: str, deadline: float) -> int:
    while time.monotonic() < deadline:
        try:
            n = _count(db, sql)
            if n:
                return n
        except sqlite3.OperationalError:
            pass  # not created yet
        time.sleep(0.2)
    return 0


def test_demo_serves_the_hall_through_the_websocket_and_stops_on_ctrl_c(tmp_path):
    db = tmp_path / "demo.db"
    proc = _demo(db)
    try:
        urls = _urls(proc)
        assert set(urls) >= {
            "wall display",
            "window display",
            "kiosk",
            "staff terminal",
            "rating pad",
            "health",
        }
        assert re.search(r"/kiosk\?token=[\w-]{20,}$", urls["kiosk"])
        with urllib.request.urlopen(urls["health"], timeout=10) as resp:
            health = json.loads(resp.read())
        assert resp.status == 200 and health["status"] == "ok"
        deadline = time.monotonic() + 30
        assert _wait_for(db, "SELECT COUNT(*) FROM events WHERE type = 'service_finished'", deadline)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "stopped at simulated 2026-11-23" in out
    # what the websocket clients did, as the server recorded it
    assert (
        _count(db, "SELECT COUNT(*) FROM events WHERE type = 'ticket_issued' AND actor LIKE 'device:kiosk-%'")
        > 0
    )
    assert (
        _count(db, "SELECT COUNT(*) FROM events WHERE type = 'staff_logged_in' AND actor = 'staff:w01'") == 1
    )
    assert (
        _count(db, "SELECT COUNT(*) FROM events WHERE type = 'ticket_called' AND actor LIKE 'staff:w%'") > 0
    )
    assert _count(db, "SELECT COUNT(*) FROM events WHERE at < '2026-11-23T08:00'") == 0

    # a second run continues the same day and its numbering
    last_id = _count(db, "SELECT MAX(id) FROM events")
    last_a = _count(db, "SELECT MAX(seq) FROM tickets WHERE queue = 'A' AND number LIKE 'A%'")
    last_at = _count(db, "SELECT MAX(at) FROM events")
    again = _demo(db, "--seconds", "10")  # the desks log in again first (scrypt: ~0.25 s each)
    out, _ = again.communicate(timeout=60)
    assert again.returncode == 0, out
    assert "continues at 2026-11-23" in out
    new_a = [
        n
        for (n,) in sqlite3.connect(db).execute(
            "SELECT json_extract(data, '$.seq') FROM events WHERE type = 'ticket_issued' AND id > ?"
            " AND json_extract(data, '$.queue') = 'A'",
            (last_id,),
        )
    ]
    assert new_a and min(new_a) == last_a + 1
    assert _count(db, f"SELECT COUNT(*) FROM events WHERE id > {last_id} AND at < '{last_at}'") == 0
    assert _count(db, f"SELECT COUNT(*) FROM events WHERE id > {last_id} AND type = 'day_started'") == 0
