"""A city on one machine (docs/city.md, "Measured"): N halls on one PostgreSQL, each publishing
to NATS, S screens per hall spread over G ``hallops gateway`` processes, each hall at R
commands/s (a staff desk: issue, call, start, finish). Reported: command p99 (send → reply at
the desk), call → screen p99 (the desk's ``call_next`` sent → the ``ticket_called`` event at
each screen), and CPU per event of each gateway. The same load on one SQLite hall process
(its screens connected to it directly) is the baseline of the same run.

    .venv/bin/python benchmarks/bench_city.py --halls 10 --screens 1000 --gateways 4 --seconds 60

Every part is a real process: PostgreSQL (Debian's binaries, as ``nobody`` under root), one
``nats-server``, one ``hallops serve`` per hall, the gateways, and screen client processes
(``--client-procs``). Nothing here is a unit test; figures go to docs/performance.md ("City").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"  # open 24 h; staff w1 at window 1
PASSWORD = "test-pass"
sys.path.insert(0, str(ROOT))


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answers on port {port}")


# ---------------------------------------------------------------------- screen client processes


async def _screens(spec: dict[str, Any]) -> dict[str, Any]:
    """Open the screens of ``spec["screens"]`` ([url, hall] pairs), wait for ``start`` (a file),
    record when each ``ticket_called`` arrives, stop at ``until``."""
    from websockets.asyncio.client import connect

    arrivals: dict[str, list[float]] = {}  # "hall/ticket" -> receive instants
    counts = {"connected": 0, "events": 0, "snapshots": 0}

    async def screen(url: str, hall: str) -> None:
        async with connect(url, compression=None, max_size=2**22, open_timeout=120) as ws:
            await ws.send(json.dumps({"id": 1, "type": "subscribe"}))
            counts["connected"] += 1
            while time.time() < spec["until"]:
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(0.1, spec["until"] - time.time()))
                except TimeoutError:
                    break
                now = time.time()
                if '"ticket_called"' in raw:
                    msg = json.loads(raw)
                    if msg.get("type") == "event" and msg["event"]["type"] == "ticket_called":
                        arrivals.setdefault(f"{hall}/{msg['event']['ticket']}", []).append(now)
                counts["events"] += 1

    tasks = []
    for url, hall in spec["screens"]:
        tasks.append(asyncio.create_task(screen(url, hall)))
        if len(tasks) % 50 == 0:
            await asyncio.sleep(0.05)  # no connection storm
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"arrivals": arrivals, **counts}


def screens_main() -> None:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(asyncio.run(_screens(spec))))


# ---------------------------------------------------------------------- desks


async def desk(
    url: str, hall: str, rate: float, until: float, sent: dict[str, float], lat: list[float]
) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, compression=None, max_size=2**22, open_timeout=60) as ws:
        rid = 0

        async def request(type_: str, **fields: Any) -> dict[str, Any]:
            nonlocal rid
            rid += 1
            t0 = time.time()
            await ws.send(json.dumps({"id": rid, "type": type_, **fields}))
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("re") == rid:
                    if time.time() < until:
                        lat.append(time.time() - t0)
                    return msg

        await request("login", username="w1", password=PASSWORD, window=1)
        await request("open_window", window=1)
        steps = [
            ("issue_ticket", {"queue": "A", "channel": "staff"}),
            ("call_next", {"window": 1}),
            ("start_service", {"window": 1}),
            ("finish_service", {"window": 1}),
        ]
        i, next_at = 0, time.time()
        while time.time() < until:
            type_, fields = steps[i % 4]
            t0 = time.time()
            reply = await request(type_, **fields)
            if type_ == "call_next" and reply.get("type") == "ok":
                sent[f"{hall}/{reply['ticket']['id']}"] = t0
            i += 1
            next_at += 1.0 / rate
            await asyncio.sleep(max(0.0, next_at - time.time()))


# ---------------------------------------------------------------------- one scenario


def hall_configs(n: int, folder: Path, port0: int) -> list[tuple[str, Path]]:
    text = SMALL.read_text()
    out = []
    for k in range(n):
        code = f"bench-{k + 1:03d}"
        path = folder / f"{code}.toml"
        path.write_text(text.replace('code = "small-test"', f'code = "{code}"'))
        out.append((code, path))
    return out


def spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_screens_and_desks(
    screens: list[tuple[str, str]],
    desks: list[tuple[str, str]],
    args: argparse.Namespace,
    watch: dict[str, int],
) -> dict[str, Any]:
    """Connect the screens (client processes), then run the desks for ``args.seconds``."""
    warm = 20.0 + len(screens) / 400  # time to connect every screen
    start = time.time() + warm
    until = start + args.seconds
    chunks = [screens[i :: args.client_procs] for i in range(args.client_procs)]
    procs = []
    for chunk in chunks:
        p = subprocess.Popen(
            [sys.executable, __file__, "_screens"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
        )
        assert p.stdin is not None
        p.stdin.write(json.dumps({"screens": chunk, "until": until + 3}).encode())
        p.stdin.close()
        procs.append(p)
    time.sleep(max(0.0, start - time.time()))
    cpu0 = {name: cpu_s(pid) for name, pid in watch.items()}
    sent: dict[str, float] = {}
    lat: list[float] = []

    async def all_desks() -> None:
        await asyncio.gather(*(desk(url, hall, args.rate, until, sent, lat) for url, hall in desks))

    asyncio.run(all_desks())
    cpu1 = {name: cpu_s(pid) for name, pid in watch.items()}
    results = []
    for p in procs:
        assert p.stdout is not None
        results.append(json.loads(p.stdout.read() or b"{}"))
        p.wait()
    arrivals: dict[str, list[float]] = {}
    connected = events = 0
    for r in results:
        connected += r.get("connected", 0)
        events += r.get("events", 0)
        for key, times in r.get("arrivals", {}).items():
            arrivals.setdefault(key, []).extend(times)
    delays = [t - sent[key] for key, times in arrivals.items() if key in sent for t in times]
    calls = len(sent)
    expected = calls * (len(screens) // max(1, len(desks)))
    return {
        "screens": len(screens),
        "connected": connected,
        "commands": len(lat),
        "calls": calls,
        "command_p50_ms": 1000 * (pct(lat, 50) or 0),
        "command_p99_ms": 1000 * (pct(lat, 99) or 0),
        "screen_p50_ms": 1000 * (pct(delays, 50) or 0),
        "screen_p99_ms": 1000 * (pct(delays, 99) or 0),
        "deliveries": len(delays),
        "expected_deliveries": expected,
        "screen_messages": events,
        "cpu_s": {k: cpu1[k] - cpu0[k] for k in watch},
        "seconds": args.seconds,
    }


def city_scenario(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from queue_server.city.local_pg import LocalCluster

    pg_folder = Path(tempfile.mkdtemp(prefix="hallops-bench-pg-"))
    pg_folder.chmod(0o755)
    cluster = LocalCluster(pg_folder / "pg", free_port())
    procs: list[subprocess.Popen[bytes]] = []
    try:
        url = cluster.start()
        nats_port = free_port()
        nats_bin = str(Path(sys.executable).parent / "nats-server")
        procs.append(spawn([nats_bin, "-a", "127.0.0.1", "-p", str(nats_port)], work / "nats.log"))
        nats_url = f"nats://127.0.0.1:{nats_port}"
        time.sleep(0.5)
        halls = hall_configs(args.halls, work, 0)
        hall_ports = []
        for code, path in halls:
            port = free_port()
            procs.append(
                spawn(
                    [
                        sys.executable,
                        "-m",
                        "queue_server.cli",
                        "serve",
                        "--config",
                        str(path),
                        "--db",
                        url,
                        "--nats",
                        nats_url,
                        "--port",
                        str(port),
                    ],
                    work / f"{code}.log",
                )
            )
            hall_ports.append(port)
        gw_ports = []
        gw_procs = {}
        for g in range(args.gateways):
            port = free_port()
            p = spawn(
                [
                    sys.executable,
                    "-m",
                    "queue_server.cli",
                    "gateway",
                    "--nats",
                    nats_url,
                    "--port",
                    str(port),
                ],
                work / f"gateway-{g}.log",
            )
            procs.append(p)
            gw_ports.append(port)
            gw_procs[f"gateway-{g + 1}"] = p.pid
        for port in (*hall_ports, *gw_ports):
            healthy(port)
        screens = [
            (f"ws://127.0.0.1:{gw_ports[(k * args.screens + s) % len(gw_ports)]}/ws?hall={code}", code)
            for k, (code, _) in enumerate(halls)
            for s in range(args.screens)
        ]
        desks = [
            (f"ws://127.0.0.1:{port}/ws", code) for port, (code, _) in zip(hall_ports, halls, strict=True)
        ]
        watch = {
            **gw_procs,
            **{f"hall-{k + 1}": procs[1 + k].pid for k in range(len(halls))},
            "nats": procs[0].pid,
        }
        out = run_screens_and_desks(screens, desks, args, watch)
        with __import__("psycopg").connect(url) as con:
            out["pg_events"] = con.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        return out
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        cluster.stop()
        shutil.rmtree(pg_folder, ignore_errors=True)


def sqlite_scenario(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    (work / "sqlite").mkdir()
    ((code, path),) = hall_configs(1, work / "sqlite", 0)
    port = free_port()
    proc = spawn(
        [
            sys.executable,
            "-m",
            "queue_server.cli",
            "serve",
            "--config",
            str(path),
            "--db",
            str(work / "sqlite" / "hall.db"),
            "--port",
            str(port),
        ],
        work / "sqlite.log",
    )
    try:
        healthy(port)
        screens = [(f"ws://127.0.0.1:{port}/ws", code) for _ in range(args.screens)]
        return run_screens_and_desks(screens, [(f"ws://127.0.0.1:{port}/ws", code)], args, {"hall": proc.pid})
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--halls", type=int, default=10)
    ap.add_argument("--screens", type=int, default=1000, help="screens per hall")
    ap.add_argument("--gateways", type=int, default=4)
    ap.add_argument("--rate", type=float, default=3.0, help="commands per second per hall")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--client-procs", type=int, default=4)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hallops-bench-city-"))
    try:
        base = sqlite_scenario(args, work)
        city = city_scenario(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    events = city["pg_events"]
    print(
        f"bench_city: {args.halls} halls × {args.screens} screens over {args.gateways} gateways, "
        f"{args.rate:g} commands/s per hall, {args.seconds:g} s, {os.cpu_count()} cores"
    )
    for name, r in (("baseline: one SQLite hall process", base), ("city", city)):
        print(
            f"  {name}: {r['connected']}/{r['screens']} screens, {r['commands']} commands, {r['calls']} calls"
        )
        print(f"    command p50 {r['command_p50_ms']:.1f} ms, p99 {r['command_p99_ms']:.1f} ms")
        print(
            f"    call → screen p50 {r['screen_p50_ms']:.0f} ms, p99 {r['screen_p99_ms']:.0f} ms "
            f"({r['deliveries']}/{r['expected_deliveries']} call deliveries)"
        )
    per_hall_events = events / max(1, args.halls)
    for name, cpu in city["cpu_s"].items():
        if name.startswith("gateway"):
            print(
                f"  {name}: {cpu:.2f} CPU s, {1e3 * cpu / max(1, events):.2f} ms per hall event "
                f"(all halls), {1e6 * cpu * args.gateways / max(1, city['screen_messages']):.1f} µs per screen message"
            )
    hall_cpu = [v for k, v in city["cpu_s"].items() if k.startswith("hall-")]
    print(
        f"  hall servers: {statistics.mean(hall_cpu):.2f} CPU s each ({1e3 * statistics.mean(hall_cpu) / max(1, per_hall_events):.2f} ms per event, "
        f"with its desk's commands); nats-server {city['cpu_s']['nats']:.2f} CPU s; {events} events in PostgreSQL"
    )
    print("  baseline hall process: " + f"{base['cpu_s']['hall']:.2f} CPU s")
    print(
        json.dumps({"baseline": base, "city": city}, default=str)[:4000]
        if os.environ.get("BENCH_JSON")
        else ""
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_screens":
        screens_main()
    else:
        main()
