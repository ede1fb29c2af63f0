"""A fuzz test of the protocol (Hypothesis): random JSON shapes, near-valid requests of every
type and random bytes, sent by anonymous, kiosk and manager connections of one real server.
Each gets an ``ok`` or an ``error`` with a documented code, within seconds, on a connection
that stays open; a refused request never adds an event to the log (but the ``day_started`` of
a roll-over, which stands whatever the command that brought it).

``tests/fuzz/fuzz_protocol.py`` runs the same checks 100,000 times (docs/security.md)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queue_server.config_file import load_hall_config
from queue_server.server.app import HallServer
from queue_server.server.auth import hash_token, new_token
from queue_server.server.protocol import ERROR_CODES
from queue_server.server.registry import REQUESTS
from queue_server.store import SqliteStore
from queue_server.store.base import DeviceToken

from _support import SMALL_HALL, STAFF_PASSWORD, SyncClient, _background_loop

FIELD_NAMES = sorted({f.name for r in REQUESTS.values() for f in r.fields})
TEXT = st.text(alphabet=st.characters(codec=None), max_size=12)  # any code point, surrogates too
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    TEXT,
    st.sampled_from(["A", "B", "A001", "2026-11-23", "2026-11-23T10:00:00+08:00", "w1"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """A request of a real type with fields drawn from every type's field names (or junk)."""
    msg: dict[str, Any] = {
        "id": draw(st.one_of(st.integers(), TEXT, VALUES)),
        "type": draw(st.sampled_from(sorted(REQUESTS)) | TEXT),
    }
    for name in draw(st.lists(st.sampled_from(FIELD_NAMES) | TEXT, max_size=5)):
        msg[name] = draw(VALUES)
    return msg


def _plausible(field: Any) -> st.SearchStrategy[Any]:
    kind = field.kind
    if kind is str:
        return (
            st.sampled_from(
                [
                    "A",
                    "B",
                    "P",
                    "A001",
                    "w1",
                    "manager",
                    "normal",
                    "green",
                    "kiosk",
                    "staff",
                    "2026-11-23",
                    "2026-11-23T10:00:00+08:00",
                    "approve",
                    "post",
                ]
            )
            | TEXT
        )
    if kind is int:
        return st.integers(0, 12)
    if kind is bool:
        return st.booleans()
    if kind is list:
        return st.lists(st.sampled_from(["A", "B", 1, 2, "waiting"]) | TEXT, max_size=3)
    return st.fixed_dictionaries({}, optional={"name": TEXT, "phone": TEXT, "id_number": TEXT})


@st.composite
def near_valid(draw: st.DrawFn) -> dict[str, Any]:
    """A request of a real type with its own fields, plausible or junk values: these reach
    the handlers and the core, and some succeed."""
    req = REQUESTS[draw(st.sampled_from(sorted(REQUESTS)))]
    msg: dict[str, Any] = {"id": draw(st.integers(1, 10**6)), "type": req.type}
    for f in req.fields:
        if f.required or draw(st.booleans()):
            msg[f.name] = (
                draw(_plausible(f) | VALUES) if draw(st.integers(0, 5)) == 0 else draw(_plausible(f))
            )
    return msg


FRAMES = st.one_of(
    near_valid().map(json.dumps),
    near_valid().map(json.dumps),
    requests().map(json.dumps),  # \\udXXX escapes: lone surrogates and controls reach the server
    VALUES.map(json.dumps),
    st.binary(max_size=64),  # a binary frame, mostly not UTF-8
    st.text(alphabet=st.characters(codec="utf-8"), max_size=64),
)


class Fuzzed:
    """One server on the background loop of the sync clients, and a client per role."""

    def __init__(self, tmp: Path) -> None:
        self.loop = _background_loop()
        config = load_hall_config(SMALL_HALL)
        self.db = tmp / "fuzz.db"
        self.server = HallServer(config, SqliteStore(self.db), host="127.0.0.1", port=0)
        self._run(self.server.start())
        self.url = f"ws://127.0.0.1:{self.server.port}/ws"
        self.clients: dict[str, SyncClient] = {}
        self._reader: sqlite3.Connection | None = None

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def client(self, role: str) -> SyncClient:
        """The client of ``role``, connected again when the server ended its session."""
        cl = self.clients.get(role)
        if cl is None or cl.client.ws.close_code is not None:
            cl = self.clients[role] = SyncClient(self.url)
            if role == "kiosk":
                token = new_token()
                self._run(
                    self.server.store.add_token(
                        hash_token(token), DeviceToken(role="kiosk", window=None, name="fuzz"), "2026-01-01"
                    )
                )
                assert cl.request("auth", token=token)["type"] == "ok"
            elif role == "manager":
                assert cl.request("login", username="manager", password=STAFF_PASSWORD)["type"] == "ok"
        return cl

    def events(self) -> int:
        if self._reader is None:
            self._reader = sqlite3.connect(self.db, isolation_level=None, check_same_thread=False)
        # a day roll-over (day_started) stands even when the command that brought it is refused
        return int(
            self._reader.execute("SELECT COUNT(*) FROM events WHERE type != 'day_started'").fetchone()[0]
        )

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        self._run(self.server.stop())


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    f = Fuzzed(tmp_path_factory.mktemp("fuzz"))
    try:
        yield f
    finally:
        f.close()


def check_one(f: Fuzzed, role: str, frame: str | bytes) -> dict[str, Any]:
    """Send one frame as ``role``; the reply is ok or a documented error, and a refusal
    changed nothing."""
    cl = f.client(role)
    before = f.events()
    cl._run(cl.client.send_raw(frame))
    reply = cl.reply(timeout=10)
    assert reply["type"] in ("ok", "error"), reply
    if reply["type"] == "error":
        assert reply["code"] in ERROR_CODES, reply
        assert reply["code"] != "internal_error", (frame, reply)
        assert f.events() == before, (frame, reply)
    return reply


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(role=st.sampled_from(["anonymous", "kiosk", "manager"]), frame=FRAMES)
def test_any_frame_gets_a_documented_answer_and_a_refusal_changes_nothing(
    fuzzed: Fuzzed, role: str, frame: str | bytes
) -> None:
    check_one(fuzzed, role, frame)
