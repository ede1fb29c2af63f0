"""Run one hall server until SIGTERM/SIGINT, on SQLite or on a city's PostgreSQL (optionally as
a standby), optionally publishing its committed events to NATS.

``run_hall_server`` is what ``hallops serve`` runs (queue_server/cli.py).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys

from .. import __version__
from ..hall.config import HallConfig
from ..server.app import HallServer
from ..store.open import store_for
from ..store.postgres_errors import HallLocked
from ..store.sqlite import SchemaTooNew

log = logging.getLogger("hallops.city.serve")

EXIT_LOCK_LOST = 3


def _fail(message: str) -> int:
    print(f"hallops: {message}", file=sys.stderr, flush=True)
    return 1


async def run_hall_server(
    config: HallConfig,
    *,
    db: str,
    host: str = "127.0.0.1",
    port: int = 8765,
    standby: bool = False,
    nats: str | None = None,
    synchronous: str = "FULL",
) -> int:
    """Serve until a signal (exit 0) or until the hall lock is lost (exit 3: a standby has or
    will take over; the process must not write any more)."""
    try:
        store = store_for(db, hall=config.code, standby=standby, synchronous=synchronous)
    except ValueError as exc:
        return _fail(str(exc))
    fanout = None
    if nats:
        from .nats_fanout import NatsFanout

        fanout = NatsFanout(nats, config.code)
    server = HallServer(config, store, host=host, port=port, fanout=fanout)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if standby:
        print(
            f"HallOps {__version__} · {config.name} ({config.code}): standby, waiting for the primary",
            flush=True,
        )
    starting = asyncio.create_task(server.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():  # a signal while a standby waits
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        await store.close()
        return 0
    stopping.cancel()
    try:
        starting.result()
    except (SchemaTooNew, HallLocked) as exc:
        return _fail(str(exc))
    except OSError as exc:
        await store.close()
        if exc.errno == errno.EADDRINUSE:
            return _fail(f"port {port} on {host} is already in use")
        return _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    if fanout is not None:
        await fanout.start(server)
    base = f"http://{host}:{server.port}"
    print(f"HallOps {__version__} · {config.name} ({config.code})", flush=True)
    print(f"  websocket  ws://{host}:{server.port}/ws", flush=True)
    print(f"  wall       {base}/display/wall", flush=True)
    print(f"  kiosk      {base}/kiosk", flush=True)
    print(f"  terminal   {base}/terminal", flush=True)
    print(f"  health     {base}/healthz", flush=True)
    lost = getattr(store, "lost", None)
    waits = [asyncio.create_task(stop.wait())]
    if lost is not None:
        waits.append(asyncio.create_task(lost.wait()))
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for w in waits:
        w.cancel()
    code = EXIT_LOCK_LOST if lost is not None and lost.is_set() else 0
    if fanout is not None:
        await fanout.close()
    await server.stop()
    return code
