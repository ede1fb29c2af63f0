"""Display gateways fed by NATS, against a real nats-server, real gateway processes and real
websocket screens: a screen on a gateway sees what a screen on the hall server sees; when its
gateway is killed it reconnects to another and resyncs, seeing every call exactly once; when
another hall server run takes over, the gateway resyncs its screens on its own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from typing import Any

import nats
import pytest
from city_support import HALL, Desk, desk, gateway, hall_server, healthz
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from queue_server.city import subjects
from queue_server.city.nats_fanout import NatsFanout


class Screen:
    """A wall screen that follows hallclient.js: subscribe → snapshot → events by seq; a gap
    sends resync and drops events until the snapshot; a dropped link reconnects, here to the
    next gateway of the list."""

    def __init__(self, urls: list[str], subscription: dict[str, Any] | None = None) -> None:
        self.urls = urls
        self.subscription = subscription or {}
        self.url_used: list[str] = []
        self.seq: int | None = None
        self.resyncing = False
        self.snapshots: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []  # applied, in order
        self.tickets: dict[str, dict[str, Any]] = {}
        self.windows: dict[int, dict[str, Any]] = {}
        self.gaps = 0
        self.task: asyncio.Task[None] | None = None

    @property
    def calls(self) -> list[str]:
        return [e["ticket"] for e in self.events if e["type"] == "ticket_called"]

    def start(self) -> Screen:
        self.task = asyncio.create_task(self.run())
        return self

    async def run(self) -> None:
        i = 0
        while True:
            url = self.urls[i % len(self.urls)]
            try:
                async with connect(url, open_timeout=2) as ws:
                    self.url_used.append(url)
                    self.seq, self.resyncing = None, False
                    await ws.send(json.dumps({"id": 1, "type": "subscribe", **self.subscription}))
                    async for raw in ws:
                        msg = json.loads(raw)
                        if "re" in msg:
                            assert msg["type"] == "ok", msg
                            continue
                        if msg["type"] == "snapshot":
                            self.seq, self.resyncing = msg["seq"], False
                            self.snapshots.append(msg)
                            self.tickets = {t["id"]: t for t in msg["state"]["tickets"]}
                            self.windows = {w["number"]: w for w in msg["state"]["windows"]}
                        elif msg["type"] == "event":
                            if self.seq is None or self.resyncing or msg["seq"] <= self.seq:
                                continue
                            if msg["seq"] != self.seq + 1:
                                self.gaps += 1
                                self.resyncing = True
                                await ws.send(json.dumps({"id": 2, "type": "resync"}))
                                continue
                            self.seq = msg["seq"]
                            ev = msg["event"]
                            self.events.append(ev)
                            if ev.get("ticket_view"):
                                self.tickets[ev["ticket_view"]["id"]] = ev["ticket_view"]
                            if ev.get("window_view"):
                                self.windows[ev["window_view"]["number"]] = ev["window_view"]
            except (ConnectionClosed, OSError):
                pass
            i += 1
            await asyncio.sleep(0.2)

    async def until(self, check, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert self.task is not None and not self.task.done(), (
                self.task.exception() if self.task else None
            )
            assert time.monotonic() < deadline, (
                f"screen: {len(self.events)} events, {len(self.snapshots)} snapshots"
            )
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def test_a_screen_on_a_gateway_sees_what_a_screen_on_the_hall_server_sees(tmp_path, nats_url):
    with gateway(nats_url, tmp_path / "gw.log") as (_, gw_port):
        async with hall_server(tmp_path, nats_url) as server, desk(server) as staff:
            await staff.call_one()  # before the screens: their snapshots hold it
            sub = {"zone": "A区"}
            direct = Screen([f"ws://127.0.0.1:{server.port}/ws"], sub).start()
            via = Screen([f"ws://127.0.0.1:{gw_port}/ws?hall={HALL}"], sub).start()
            await direct.until(lambda: direct.snapshots)
            await via.until(lambda: via.snapshots)
            d0, v0 = direct.snapshots[0]["state"], via.snapshots[0]["state"]
            assert {**v0, "hall": {**v0["hall"], "now": None}} == {**d0, "hall": {**d0["hall"], "now": None}}
            for _ in range(4):
                await staff.call_one()
            await direct.until(lambda: len(direct.calls) == 4)
            await via.until(lambda: len(via.calls) == 4)
            await asyncio.sleep(0.3)
            assert via.events == direct.events and len(via.events) == 16
            assert via.calls == staff.called[1:]
            assert via.gaps == 0 and via.seq == via.snapshots[0]["seq"] + 16
            with pytest.raises(AssertionError):  # kiosks and staff do not get in through a gateway
                async with connect(f"ws://127.0.0.1:{gw_port}/ws?hall={HALL}") as ws:
                    await Desk(ws).request("issue_ticket", queue="A")
            await direct.stop()
            await via.stop()
        health = healthz(gw_port)
        assert health["halls"][HALL]["subscribers"] == 0 and health["role"] == "gateway"


async def test_a_screen_whose_gateway_is_killed_resyncs_on_another_and_sees_every_call_once(
    tmp_path, nats_url
):
    with (
        gateway(nats_url, tmp_path / "gw1.log") as (gw1, port1),
        gateway(nats_url, tmp_path / "gw2.log") as (_, port2),
    ):
        urls = [f"ws://127.0.0.1:{port1}/ws?hall={HALL}", f"ws://127.0.0.1:{port2}/ws?hall={HALL}"]
        async with hall_server(tmp_path, nats_url) as server, desk(server) as staff:
            screen = Screen(urls).start()
            await screen.until(lambda: screen.snapshots)
            for _ in range(5):
                await staff.call_one()
            await screen.until(lambda: len(screen.calls) == 5)
            os.kill(gw1.pid, signal.SIGKILL)
            for _ in range(5):  # the hall goes on while the screen moves
                await staff.call_one()
                await asyncio.sleep(0.05)

            def recovered():
                return screen.url_used[-1] == urls[1] and len(screen.snapshots) >= 2

            await screen.until(recovered)
            for _ in range(3):
                await staff.call_one()
            in_snapshot = {c["ticket_id"] for c in screen.snapshots[-1]["state"]["recent_calls"]}
            await screen.until(lambda: set(staff.called) <= set(screen.calls) | in_snapshot)
            await asyncio.sleep(0.3)
            assert len(screen.calls) == len(set(screen.calls)), "a call shown twice"
            assert set(screen.calls) | in_snapshot == set(staff.called)
            assert screen.calls[-3:] == staff.called[-3:]
            # the screen's state is the hall's: same tickets and windows as a fresh snapshot
            fresh = Screen([f"ws://127.0.0.1:{server.port}/ws"]).start()
            await fresh.until(lambda: fresh.snapshots)
            assert {
                k: v for k, v in screen.tickets.items() if v["state"] in ("waiting", "called", "serving")
            } == fresh.tickets
            assert screen.windows == fresh.windows
            await fresh.stop()
            await screen.stop()


async def test_another_hall_server_run_makes_the_gateway_resync_its_screens(tmp_path, nats_url):
    with gateway(nats_url, tmp_path / "gw.log") as (_, gw_port):
        screen = Screen([f"ws://127.0.0.1:{gw_port}/ws?hall={HALL}"])
        async with hall_server(tmp_path, nats_url) as server, desk(server) as staff:
            screen.start()
            await screen.until(lambda: screen.snapshots)
            await staff.call_one()
            await screen.until(lambda: len(screen.calls) == 1)
        async with hall_server(tmp_path, nats_url) as server, desk(server) as staff:  # a new run: new src
            await staff.call_one()
            await screen.until(
                lambda: (
                    len(screen.snapshots) >= 2
                    and len(screen.calls)
                    + sum(
                        1
                        for c in screen.snapshots[-1]["state"]["recent_calls"]
                        if c["ticket_id"] == staff.called[-1]
                    )
                    >= 2
                )
            )
            await staff.call_one()
            await screen.until(lambda: screen.calls[-1:] == staff.called[-1:])
        assert len(screen.url_used) == 1, "the screen stayed connected to its gateway"
        assert healthz(gw_port)["halls"][HALL]["resyncs"] >= 1
        await screen.stop()


async def test_a_gap_in_the_hall_stream_makes_the_gateway_resync_its_screens(tmp_path, nats_url):
    """An event lost between the hall and the gateway (here: the stream jumps ahead) must not
    leave a screen silently behind: the gateway fetches a snapshot and pushes it."""
    with gateway(nats_url, tmp_path / "gw.log") as (_, gw_port):
        async with hall_server(tmp_path, nats_url) as server, desk(server) as staff:
            screen = Screen([f"ws://127.0.0.1:{gw_port}/ws?hall={HALL}"]).start()
            await screen.until(lambda: screen.snapshots)
            await staff.call_one()
            await screen.until(lambda: len(screen.calls) == 1)
            fanout = server.fanout
            assert isinstance(fanout, NatsFanout)
            nc = await nats.connect(nats_url)
            try:  # as if events n+1 .. n+4 had been lost on the way
                await nc.publish(
                    subjects.events(HALL),
                    json.dumps(
                        {"src": fanout.src, "n": fanout.n + 5, "event": {"type": "ticket_called"}}
                    ).encode(),
                )
                await nc.flush()
            finally:
                await nc.close()
            await screen.until(lambda: len(screen.snapshots) == 2)
            assert healthz(gw_port)["halls"][HALL]["resyncs"] == 1
            await staff.call_one()  # the stream goes on from the fresh snapshot
            await screen.until(lambda: screen.calls == staff.called)
            assert len(screen.url_used) == 1 and screen.gaps == 0
            await screen.stop()


async def test_a_hall_that_requires_display_tokens_takes_them_at_the_gateway(tmp_path, nats_url):
    from queue_server.server.auth import hash_token, new_token
    from queue_server.store.base import DeviceToken

    with gateway(nats_url, tmp_path / "gw.log") as (_, gw_port):
        async with hall_server(tmp_path, nats_url, require_display_token=True) as server:
            display, kiosk = new_token(), new_token()
            await server.store.add_token(
                hash_token(display), DeviceToken(role="display", window=None, name="墙屏-1"), "x"
            )
            await server.store.add_token(
                hash_token(kiosk), DeviceToken(role="kiosk", window=None, name="kiosk-1"), "x"
            )
            async with connect(f"ws://127.0.0.1:{gw_port}/ws?hall={HALL}") as ws:
                c = Desk(ws)
                for rid, msg in enumerate(
                    [
                        {"type": "subscribe"},
                        {"type": "auth", "token": kiosk},
                        {"type": "auth", "token": "not-a-token"},
                    ],
                    start=1,
                ):
                    await ws.send(json.dumps({"id": rid, **msg}))
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    assert reply["type"] == "error", reply
                    assert reply["code"] == ("display_token_required" if rid == 1 else "unauthenticated"), (
                        reply
                    )
                c.rid = 10
                assert (await c.request("auth", token=display))["role"] == "display"
                await ws.send(json.dumps({"id": 20, "type": "subscribe"}))
                got = [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(2)]
                assert {m["type"] for m in got} == {"snapshot", "ok"}
                assert next(m for m in got if m["type"] == "snapshot")["state"]["hall"]["code"] == HALL
