"""``hallops city`` starts a whole trial city in one command (PostgreSQL, NATS, three halls,
two gateways, the simulator), prints every address, and Ctrl-C stops all of it."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from city_support import ROOT, healthz
from websockets.asyncio.client import connect

HALLS = ("demo-county", "district-north", "town-east")


def read_banner(proc: subprocess.Popen[str], timeout: float = 180) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if line.startswith("Ctrl-C stops."):
            return lines
    raise AssertionError("hallops city did not print its addresses:\n" + "\n".join(lines))


def answer(port: int, timeout: float = 30) -> dict:
    """The /healthz of a port that must answer (the simulator keeps the halls' process busy)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
                return json.loads(resp.read())
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"nothing answers /healthz on port {port}")


async def first_event(gateway_port: int, hall: str) -> dict:
    async with connect(f"ws://127.0.0.1:{gateway_port}/ws?hall={hall}") as ws:
        await ws.send(json.dumps({"id": 1, "type": "subscribe"}))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if msg.get("type") == "event":
                return msg


async def test_hallops_city_runs_a_trial_city_and_ctrl_c_stops_it() -> None:
    # PostgreSQL runs as nobody when the tests run as root: a folder nobody can reach (not pytest's 0700 one)
    folder = Path(tempfile.mkdtemp(prefix="hallops-city-"))
    folder.chmod(0o755)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "city",
            "--folder",
            str(folder),
            "--no-dashboard",
            "--speed",
            "60",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = read_banner(proc)
        text = "\n".join(banner)
        assert re.search(r"PostgreSQL  postgresql://postgres@127\.0\.0\.1:\d+/postgres", text), text
        servers = [int(p) for p in re.findall(r"server    http://127\.0\.0\.1:(\d+)/healthz", text)]
        gateways = [int(p) for p in re.findall(r"gateway \d   http://127\.0\.0\.1:(\d+)/healthz", text)]
        assert len(servers) == 3 and len(gateways) == 2, text
        for port in servers:
            health = answer(port)
            assert health["status"] == "ok", health
        for hall in HALLS:
            assert f"wall      http://127.0.0.1:{gateways[0]}/display/wall?hall={hall}" in text
        event = await first_event(
            gateways[1], "demo-county"
        )  # the simulator's calls reach a gateway's screen
        assert event["seq"] >= 1 and event["event"]["type"]
        assert answer(gateways[1])["halls"]["demo-county"]["synced"]
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)
    assert proc.returncode == 0, rest
    assert "the trial city stopped" in rest
    for port in (*servers, *gateways):
        assert healthz(port) is None, f"port {port} still answers after Ctrl-C"
