"""Password guessing against a normal client's ping: the real ``hallops serve`` in a
subprocess, a normal client pinging it, and 8 concurrent guessers sending wrong passwords.

Two phases in one run, on one server: the ping latency of the normal client alone (the
floor), then the same while 8 guessers (in a process of their own) log in as fast as they are
answered for ``--seconds``.
The rule (issue 11): the ping p99 with guessers stays within 2× the p99 without.

``--limits off`` raises the login limits so every guess costs a full scrypt (the hashing
thread at full load: what the event loop must survive); ``--limits on`` (the hall's default
limits) shows the guessers turned away with ``rate_limited``.

    .venv/bin/python benchmarks/bench_login.py                  # both, 15 s each
    .venv/bin/python benchmarks/bench_login.py --limits off --seconds 5

Figures are recorded in docs/performance.md, "Login under guessing".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
GUESSERS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(tmp: Path, limits: bool) -> tuple[subprocess.Popen[bytes], int]:
    text = SMALL.read_text(encoding="utf-8")
    if not limits:
        text = text.replace("[rules]\n", "[rules]\nlogin_attempts = 100000000\n", 1)
    config = tmp / "hall.toml"
    config.write_text(text, encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "serve",
            "--config",
            str(config),
            "--db",
            str(tmp / "hall.db"),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.1)


async def pinger(url: str, seconds: float, interval: float = 0.02) -> list[float]:
    """Round-trip times (ms) of pings, one every ``interval`` s, for ``seconds``."""
    out: list[float] = []
    async with connect(url) as ws:
        end = time.monotonic() + seconds
        n = 0
        while time.monotonic() < end:
            n += 1
            t0 = time.perf_counter()
            await ws.send(json.dumps({"id": n, "type": "ping"}))
            while json.loads(await ws.recv()).get("re") != n:
                pass
            out.append((time.perf_counter() - t0) * 1000)
            await asyncio.sleep(interval)
    return out


async def guesser(url: str, stop: asyncio.Event, counts: dict[str, int]) -> None:
    # as if through the hall's reverse proxy from a LAN address (loopback has no address limit)
    async with connect(url, additional_headers={"X-Forwarded-For": "10.0.0.66"}) as ws:
        n = 0
        while not stop.is_set():
            n += 1
            user = secrets.choice(["w1", "w2", "manager", f"nobody{n}"])
            await ws.send(
                json.dumps({"id": n, "type": "login", "username": user, "password": secrets.token_hex(6)})
            )
            reply = json.loads(await ws.recv())
            code = reply.get("code", "ok")
            counts[code] = counts.get(code, 0) + 1


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def guessers(url: str, seconds: float) -> dict[str, int]:
    stop = asyncio.Event()
    counts: dict[str, int] = {}
    tasks = [asyncio.create_task(guesser(url, stop, counts)) for _ in range(GUESSERS)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks)
    return counts


def guessing_process(url: str, seconds: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    """The guessers in a process of their own: their loop never delays the normal client's."""
    out.put(asyncio.run(guessers(url, seconds)))


def phase(url: str, seconds: float) -> tuple[list[float], list[float], dict[str, int]]:
    alone = asyncio.run(pinger(url, seconds))
    ctx = mp.get_context("spawn")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    proc = ctx.Process(target=guessing_process, args=(url, seconds + 1.5, out))
    proc.start()
    time.sleep(1.0)  # the guessers are at it
    loaded = asyncio.run(pinger(url, seconds))
    counts = out.get(timeout=60)
    proc.join(10)
    return alone, loaded, counts


def run(limits: bool, seconds: float) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = start_server(Path(tmp), limits)
        try:
            alone, loaded, counts = phase(f"ws://127.0.0.1:{port}/ws", seconds)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    p99a, p99l = pct(alone, 99), pct(loaded, 99)
    ratio = p99l / p99a
    print(
        f"limits {'on' if limits else 'off'}: {GUESSERS} guessers, {seconds:.0f} s per phase, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"  ping alone:         n={len(alone)} median {statistics.median(alone):.2f} ms, p99 {p99a:.2f} ms")
    print(
        f"  ping with guessers: n={len(loaded)} median {statistics.median(loaded):.2f} ms, p99 {p99l:.2f} ms"
    )
    print(f"  p99 ratio {ratio:.2f} (rule: <= 2.0) -> {'PASS' if ratio <= 2.0 else 'FAIL'}")
    print(
        f"  guesses answered: {sum(counts.values())} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})"
    )
    return ratio <= 2.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limits", choices=["on", "off", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    ok = True
    for limits in [False, True] if args.limits == "both" else [args.limits == "on"]:
        ok = run(limits, args.seconds) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
