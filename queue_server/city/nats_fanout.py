"""The hall server's side of the city fan-out: its own subscribers as before (``LocalFanout``:
staff terminals, kiosks, pads, and any screen still connected to the hall server), plus every
committed public event published on NATS for the display gateways, and answers to the
gateways' snapshot and config requests.

``publish`` is called by the server's writer after the commit, synchronously; the events go
out in order through one sender task. ``n`` counts them per server run (``src``): a gateway
that sees ``n`` jump, or ``src`` change, asks for a fresh snapshot. A snapshot is taken in the
writer (a read that sees committed state only) together with the ``n`` of the last event
published before it, so a gateway can join the two without a gap or a duplicate.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from websockets.asyncio.server import ServerConnection

from ..hall.hall import Hall
from ..server.fanout import Filter, LocalFanout, TicketView, encode
from . import subjects

if TYPE_CHECKING:
    from ..server.app import HallServer

log = logging.getLogger("hallops.city.nats")


class NatsFanout:
    def __init__(self, url: str, hall: str, local: LocalFanout | None = None) -> None:
        self.url = url
        self.hall = subjects.check_hall(hall)
        self.local = local or LocalFanout()
        self.src = secrets.token_hex(6)
        self.n = 0
        self._out: asyncio.Queue[bytes] = asyncio.Queue()
        self._nc: NatsClient | None = None
        self._sender: asyncio.Task[None] | None = None
        self._server: HallServer | None = None

    async def start(self, server: HallServer) -> None:
        """Connect and answer the gateways; call after ``server.start()``."""
        self._server = server
        self._nc = await nats.connect(
            self.url,
            name=f"hallops-hall-{self.hall}",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=5,
        )
        await self._nc.subscribe(subjects.snapshot(self.hall), cb=self._on_snapshot)
        await self._nc.subscribe(subjects.config(self.hall), cb=self._on_config)
        await self._nc.subscribe(subjects.auth(self.hall), cb=self._on_auth)
        await self._nc.flush()
        self._sender = asyncio.create_task(self._send_loop(), name=f"hallops-nats-{self.hall}")
        log.info(
            "hall %s publishes its events on %s (run %s)", self.hall, subjects.events(self.hall), self.src
        )

    async def close(self) -> None:
        if self._sender is not None:
            while not self._out.empty() and self._nc is not None and self._nc.is_connected:
                await asyncio.sleep(0.01)
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self._sender = None
        if self._nc is not None:
            try:
                await self._nc.drain()
            except Exception as exc:
                log.debug("NATS drain on close: %s", exc)
            self._nc = None

    # ---------------------------------------------------------------- Fanout

    def subscribe(
        self, conn: ServerConnection, flt: Filter, ticket_id: str | None, snapshot: dict[str, Any]
    ) -> None:
        self.local.subscribe(conn, flt, ticket_id, snapshot)

    def unsubscribe(self, conn: ServerConnection) -> None:
        self.local.unsubscribe(conn)

    def publish(self, descs: Iterable[dict[str, Any]], ticket_view: TicketView | None = None) -> None:
        descs = list(descs)
        self.local.publish(descs, ticket_view)
        for desc in descs:
            if desc.get("audience") == "staff":
                continue  # cases, ratings, rectifications: never on the public bus
            self.n += 1
            self._out.put_nowait(encode({"src": self.src, "n": self.n, "event": desc}).encode())

    @property
    def subscriber_count(self) -> int:
        return self.local.subscriber_count

    # ---------------------------------------------------------------- NATS side

    async def _send_loop(self) -> None:
        subject = subjects.events(self.hall)
        while True:
            data = await self._out.get()
            try:
                assert self._nc is not None
                await self._nc.publish(subject, data)
            except Exception as exc:
                log.warning("could not publish an event of hall %s: %s", self.hall, exc)

    async def _on_snapshot(self, msg: Msg) -> None:
        server = self._server
        assert server is not None

        def read(hall: Hall, now: datetime) -> tuple[int, dict[str, Any]]:
            return self.n, hall.public_state(now)

        try:
            n, state = await server.writer.read(read)
            await msg.respond(encode({"src": self.src, "n": n, "state": state}).encode())
        except Exception:
            log.exception("snapshot for a gateway failed")

    async def _on_config(self, msg: Msg) -> None:
        assert self._server is not None
        config = {
            **self._server.http.public_config(),
            "require_display_token": self._server.config.require_display_token,
        }
        await msg.respond(encode(config).encode())

    async def _on_auth(self, msg: Msg) -> None:
        """A gateway checks a screen's display token (by its hash); other roles get nothing."""
        assert self._server is not None
        try:
            token_hash = json.loads(msg.data)["token_hash"]
            tok = await self._server.store.find_token(str(token_hash))
        except Exception:
            log.exception("display token check for a gateway failed")
            tok = None
        if tok is not None and tok.role == "display":
            answer: dict[str, Any] = {"role": "display", "name": tok.name}
        else:
            answer = {"role": None}
        await msg.respond(encode(answer).encode())
