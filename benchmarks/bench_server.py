"""Queue server under issue 17's load, against a bare websockets server measured in the
same run with the same client.

Processes, so that every server is measured from outside:

* the hall server: ``hallops serve`` (the real CLI) on a fresh SQLite file, ``synchronous=FULL``,
  with the benchmark's hall ``benchmarks/halls/bench.toml`` (queue A on four windows, the
  kiosk rate limit lifted; spare queues AB..AE take over when a queue nears its 999 numbers);
* the bare server (this file, ``--bare-server``): answers each command at once with an ok of
  the hall's median reply size, then sends one event of the hall's median event size to
  every display with ``websockets.broadcast()``; with ``--frame-floor`` a second bare phase
  sends the same bytes with the hall's frame-once writer (``fanout.send_frame``);
* display workers (``--display-procs`` child processes): N display connections, all
  subscribed to everything. A display is a minimal websocket client (handshake, unmasked
  frame parser, pong) that stamps each frame with ``time.monotonic()`` on arrival; one
  reference display parses every event to match it to its command;
* this process: the driver, the same for both servers. A kiosk issues ``--kiosk-rate``
  tickets/s open-loop; four windows go call_next → start_service → finish_service without
  pause at ``--window-rate`` commands/s each. Arrivals (15/s) exceed services (4 × 10 / 3 ≈
  13/s): the queue grows for the whole run, as on a real morning.

``time.monotonic()`` is CLOCK_MONOTONIC, one clock for all processes of the machine.

Reported, median over ``--runs`` runs, hall and bare side by side with the p99 ratio:
p50/p99/max of send → ok per command type; call → display (call_next's send → its
``ticket_called`` at the last of the N displays; for the bare server, the event its call
caused); every command → last display; the server's CPU per event (/proc); and from the hall's
``/metrics``, the event-loop lag, GC pauses and commit times. ``uptime`` is printed per run.

    .venv/bin/python benchmarks/bench_server.py --displays 200 --runs 3
    .venv/bin/python benchmarks/bench_server.py --displays 1000 --runs 3 --frame-floor
    .venv/bin/python benchmarks/bench_server.py --displays 200 --seconds 300 --no-bare   # stalls
    .venv/bin/python benchmarks/bench_server.py --py-spy /tmp/spy.txt     # py-spy raw profile

Figures are recorded in docs/performance.md, "Queue server".
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import multiprocessing as mp
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_HALL = ROOT / "benchmarks" / "halls" / "bench.toml"  # open 24 h, queue A on windows 1-4
EVENT_PREFIX = b'{"type":"event","seq":'
SNAPSHOT_PREFIX = b'{"type":"snapshot"'


# ====================================================================== display worker


@dataclass
class Record:
    """Arrival times per event seq, over all displays of one phase."""

    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)
    count: Counter = field(default_factory=Counter)
    meta: dict[int, tuple[str, str | None]] = field(default_factory=dict)  # seq -> (type, ticket)
    samples: dict[str, str] = field(default_factory=dict)  # event type -> one raw message
    latest: float = 0.0

    def add(self, seq: int, t: float) -> None:
        if seq not in self.first:
            self.first[seq] = t
        self.last[seq] = t
        self.count[seq] += 1
        self.latest = t


class Display(asyncio.Protocol):
    """A minimal websocket client: just enough to count and time frames from 1,000 sockets."""

    def __init__(
        self, host: str, port: int, path: str, record: Record, *, reference: bool, hello: str
    ) -> None:
        self.host, self.port, self.path = host, port, path
        self.record = record
        self.reference = reference
        self.hello = hello
        self.buf = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed before ready"))

    def data_received(self, data: bytes) -> None:
        t = time.monotonic()
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in bytes(buf[:16]):
                self.ready.set_exception(ConnectionError(bytes(buf[:end]).decode(errors="replace")))
                return
            del buf[: end + 4]
            self.open = True
            self.send(0x1, self.hello.encode())
        pos, n = 0, len(buf)
        while n - pos >= 2:
            op, length, head = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            end = pos + head + length
            if end > n:
                break
            start = pos + head
            if op == 0x1:
                self.on_text(buf, start, end, t)
            elif op == 0x9:  # ping -> pong
                self.send(0xA, bytes(buf[start:end]))
            elif op == 0x8:
                self.transport.close()  # type: ignore[union-attr]
            pos = end
        del buf[:pos]

    def on_text(self, buf: bytearray, start: int, end: int, t: float) -> None:
        head = bytes(buf[start : start + 40])
        if head.startswith(EVENT_PREFIX):
            comma = head.index(b",", len(EVENT_PREFIX))
            seq = int(head[len(EVENT_PREFIX) : comma])
            self.record.add(seq, t)
            if self.reference:
                text = bytes(buf[start:end]).decode()
                ev = json.loads(text)["event"]
                self.record.meta[seq] = (ev["type"], ev.get("ticket"))
                self.record.samples.setdefault(ev["type"], text)
        elif not self.ready.done() and (head.startswith(SNAPSHOT_PREFIX) or head == b"ready"):
            self.ready.set_result(None)

    def send(self, opcode: int, payload: bytes) -> None:
        key = os.urandom(4)
        n = len(payload)
        head = (
            bytes([0x80 | opcode, 0x80 | n])
            if n < 126
            else bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        )
        masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        self.transport.write(head + key + masked)  # type: ignore[union-attr]


def cpu_seconds_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def worker_main(conn: Any) -> None:
    loop = asyncio.get_running_loop()
    records: dict[str, Record] = {}
    displays: dict[str, list[Display]] = {}
    while True:
        cmd, *args = await loop.run_in_executor(None, conn.recv)
        if cmd == "connect":
            phase, port, path, n, hello, reference = args
            record = records[phase] = Record()
            mine = displays[phase] = []
            t0 = time.monotonic()
            batch: list[Display] = []
            for i in range(n):
                proto = Display("127.0.0.1", port, path, record, reference=reference and i == 0, hello=hello)
                batch.append(proto)
                await loop.create_connection(lambda p=proto: p, "127.0.0.1", port)  # type: ignore[misc]
                if len(batch) == 100 or i == n - 1:
                    await asyncio.wait_for(asyncio.gather(*(d.ready for d in batch)), 120)
                    mine.extend(batch)
                    batch = []
            conn.send({"connected": n, "seconds": time.monotonic() - t0})
        elif cmd == "collect":
            phase, expected, timeout = args
            record = records[phase]
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                complete = record.count and all(c >= expected for c in record.count.values())
                if complete and time.monotonic() - record.latest > 0.5:
                    break
                await asyncio.sleep(0.1)
            conn.send(
                {
                    "first": record.first,
                    "last": record.last,
                    "count": dict(record.count),
                    "meta": record.meta,
                    "samples": record.samples,
                }
            )
        elif cmd == "cpu":
            conn.send(cpu_seconds_self())
        elif cmd == "disconnect":
            for d in displays.pop(args[0], []):
                if d.transport is not None:
                    d.transport.close()
            records.pop(args[0], None)
            await asyncio.sleep(0.2)
            conn.send("disconnected")
        elif cmd == "close":
            for group in displays.values():
                for d in group:
                    if d.transport is not None:
                        d.transport.close()
            conn.send("closed")
            return


def display_worker(conn: Any) -> None:
    asyncio.run(worker_main(conn))


class Worker:
    """The driver's handle on one display worker process."""

    def __init__(self) -> None:
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=display_worker, args=(child,), daemon=True)
        self.proc.start()

    async def call(self, *cmd: Any) -> Any:
        loop = asyncio.get_running_loop()
        self.conn.send(cmd)
        return await loop.run_in_executor(None, self.conn.recv)


class Displays:
    """N displays spread over the display worker processes; their records merged."""

    def __init__(self, procs: int) -> None:
        self.workers = [Worker() for _ in range(procs)]

    def shares(self, n: int) -> list[int]:
        k = len(self.workers)
        return [n // k + (1 if i < n % k else 0) for i in range(k)]

    async def connect(self, phase: str, port: int, path: str, n: int, hello: str) -> float:
        t0 = time.monotonic()
        await asyncio.gather(
            *(
                w.call("connect", phase, port, path, share, hello, i == 0)
                for i, (w, share) in enumerate(zip(self.workers, self.shares(n), strict=False))
            )
        )
        return time.monotonic() - t0

    async def collect(self, phase: str, n: int, timeout: float) -> dict[str, Any]:
        parts = await asyncio.gather(
            *(
                w.call("collect", phase, share, timeout)
                for w, share in zip(self.workers, self.shares(n), strict=False)
            )
        )
        merged: dict[str, Any] = {"first": {}, "last": {}, "count": Counter(), "meta": {}, "samples": {}}
        for part in parts:
            for seq, t in part["first"].items():
                merged["first"][seq] = min(t, merged["first"].get(seq, t))
            for seq, t in part["last"].items():
                merged["last"][seq] = max(t, merged["last"].get(seq, t))
            merged["count"].update(part["count"])
            merged["meta"].update(part["meta"])
            merged["samples"].update(part["samples"])
        return merged

    async def cpu(self) -> float:
        return sum(await asyncio.gather(*(w.call("cpu") for w in self.workers)))

    async def disconnect(self, phase: str) -> None:
        await asyncio.gather(*(w.call("disconnect", phase) for w in self.workers))

    async def close(self) -> None:
        await asyncio.gather(*(w.call("close") for w in self.workers))


# ====================================================================== the bare server


async def bare_server_main(port: int, mode: str) -> None:
    """The floor: answers each command at once with an ok of the hall's size, then sends one
    event of the hall's size to every display: with ``broadcast()`` (``mode`` "broadcast"), or
    with the hall's own frame-once writer (``mode`` "frame", ``fanout.send_frame``)."""
    from websockets.asyncio.server import broadcast, serve

    displays: set[Any] = set()
    shape: dict[str, Any] = {"event": "", "reply_pad": 0}
    seq = 0
    frame_once = mode == "frame"
    sys.path.insert(0, str(ROOT))
    from queue_server.server.fanout import frame_text, send_frame

    async def handler(ws: Any) -> None:
        first = await ws.recv()
        if first == "display":
            displays.add(ws)
            await ws.send("ready")
            try:
                await ws.wait_closed()
            finally:
                displays.discard(ws)
            return
        if first.startswith("shape "):
            shape.update(json.loads(first[6:]))
            await ws.send("ok")
            return
        pad = "x" * shape["reply_pad"]

        async def answer(msg: str) -> None:
            nonlocal seq
            rid = json.loads(msg)["id"]
            seq += 1
            k = seq
            await ws.send(f'{{"re":{rid},"type":"ok","seq":{k},"pad":"{pad}"}}')
            payload = shape["event"].replace("%SEQ%", str(k), 1)
            if frame_once:
                send_frame(displays, frame_text(payload.encode()))
            else:
                broadcast(displays, payload)

        await answer(first)
        async for msg in ws:
            await answer(msg)

    # the same connection settings as HallServer.start()
    async with serve(
        handler,
        "127.0.0.1",
        port,
        compression=None,
        max_size=2**20,
        ping_interval=20,
        ping_timeout=20,
        write_limit=2**16,
    ):
        print("listening", flush=True)
        await asyncio.Future()


# ====================================================================== driver


class Device:
    """A driver connection: requests with ids, replies matched by ``re``, timed."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next = 0
        self.pending: dict[int, asyncio.Future[tuple[float, dict]]] = {}
        self.lost = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                t = time.monotonic()
                msg = json.loads(raw)
                fut = self.pending.pop(msg.get("re"), None) if "re" in msg else None
                if fut is not None and not fut.done():
                    fut.set_result((t, msg))
        except ConnectionClosed as exc:
            for fut in self.pending.values():
                if not fut.done():
                    fut.set_exception(exc)

    async def call(self, type_: str, **fields: Any) -> tuple[float, float, dict]:
        """Send and wait for the reply; a lost connection or no reply in 20 s gives an error
        reply ``{"type": "lost"}`` (the server hung up, e.g. on a keepalive timeout)."""
        from websockets.exceptions import ConnectionClosed

        self.next += 1
        rid = self.next
        fut = self.pending[rid] = asyncio.get_running_loop().create_future()
        t_send = time.monotonic()
        try:
            await self.ws.send(json.dumps({"id": rid, "type": type_, **fields}))
            t_reply, msg = await asyncio.wait_for(fut, 20)
        except (ConnectionClosed, TimeoutError) as exc:
            self.lost = True
            return t_send, time.monotonic(), {"type": "lost", "why": str(exc)}
        return t_send, t_reply, msg


EXPECTED_EVENT = {
    "issue_ticket": "ticket_issued",
    "call_next": "ticket_called",
    "start_service": "service_started",
    "finish_service": "service_finished",
}
COMMANDS = tuple(EXPECTED_EVENT)
WINDOWS = (1, 2, 3, 4)
KIOSK_QUEUES = ("A", "AB", "AC", "AD", "AE")  # the next one once a queue nears its 999 numbers
QUEUE_NUMBERS = 990


@dataclass
class Sample:
    command: str
    t_send: float
    t_reply: float
    ok: bool
    reply_bytes: int
    key: Any  # hall: (event type, ticket id) of the event it caused; bare: the event's seq


def pct(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def median(values: list[float]) -> float:
    v = sorted(x for x in values if not math.isnan(x))
    if not v:
        return math.nan
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


async def run_load(
    devices: dict[str, Device], args: argparse.Namespace, *, bare: bool, issued: Counter
) -> list[Sample]:
    """Issue 17's load: the kiosk issues ``--kiosk-rate`` tickets/s open-loop; each of the four
    windows goes call_next → start_service → finish_service without pause, paced at
    ``--window-rate`` commands/s (a window that falls behind goes on at once). Arrivals exceed
    the service rate, so the queue only grows."""
    samples: list[Sample] = []
    end = time.monotonic() + args.seconds

    def key_of(command: str, msg: dict) -> Any:
        if bare:
            return msg.get("seq")
        return (EXPECTED_EVENT[command], (msg.get("ticket") or {}).get("id"))

    async def one(dev: Device, command: str, fields: dict[str, Any]) -> dict:
        t_send, t_reply, msg = await dev.call(command, **fields)
        ok = msg.get("type") == "ok"
        samples.append(
            Sample(
                command,
                t_send,
                t_reply,
                ok,
                len(json.dumps(msg, ensure_ascii=False).encode()),
                key_of(command, msg) if ok else None,
            )
        )
        return msg

    async def kiosk() -> None:
        tasks = []
        start = time.monotonic()
        k = 0
        while True:
            at = start + k / args.kiosk_rate
            if at >= end:
                break
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            queue = next(q for q in KIOSK_QUEUES if issued[q] < QUEUE_NUMBERS)
            issued[queue] += 1
            tasks.append(asyncio.create_task(one(devices["kiosk"], "issue_ticket", {"queue": queue})))
            k += 1
        await asyncio.gather(*tasks)

    async def window(number: int) -> None:
        dev = devices[f"w{number}"]
        start = time.monotonic() + number * 0.01
        k = 0
        while True:
            for command in ("call_next", "start_service", "finish_service"):
                at = start + k / args.window_rate
                if at >= end:
                    return
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                k += 1
                if dev.lost:
                    return
                msg = await one(dev, command, {"window": number})
                if command == "call_next" and msg.get("type") != "ok":
                    break  # nobody waiting (the first seconds of a bare-less run): call again

    await asyncio.gather(kiosk(), *(window(n) for n in WINDOWS))
    return samples


def stats(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"n": len(ms), "p50": pct(ms, 50), "p99": pct(ms, 99), "max": max(ms) if ms else math.nan}


def scrape_metrics(port: int) -> dict[str, float]:
    """A few of the hall server's own figures from /metrics (loop lag, GC, commit time)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        out[name] = float(value)
    return out


async def phase(
    args: argparse.Namespace,
    displays: Displays,
    *,
    bare: bool,
    port: int,
    pid: int,
    tokens: dict[str, str],
    shape: dict[str, Any] | None,
    name: str,
) -> dict[str, Any]:
    """One server under the load: samples, arrivals at the displays, CPU."""
    from websockets.asyncio.client import connect

    path = "/" if bare else "/ws"
    url = f"ws://127.0.0.1:{port}{path}"
    opts: dict[str, Any] = {"compression": None, "ping_interval": None, "max_size": 2**22}
    result: dict[str, Any] = {}
    if bare:
        assert shape is not None
        async with connect(url, **opts) as ws:
            await ws.send("shape " + json.dumps(shape))
            await ws.recv()
    names = ["kiosk", *(f"w{n}" for n in WINDOWS)]
    conns = [await connect(url, **opts) for _ in names]
    try:
        devices = {n: Device(ws) for n, ws in zip(names, conns, strict=False)}
        issued: Counter = Counter()
        if not bare:
            for n, dev in devices.items():
                _, _, msg = await dev.call("auth", token=tokens[n])
                assert msg["type"] == "ok", msg
            for number in WINDOWS:
                await devices[f"w{number}"].call("open_window", window=number)
            for _ in range(args.prefill):  # a line before the clock starts
                await devices["kiosk"].call("issue_ticket", queue="A")
            issued["A"] += args.prefill
        hello = "display" if bare else '{"id":1,"type":"subscribe"}'
        result["connect_s"] = await displays.connect(name, port, path, args.displays, hello)
        result["server_rss_mb"] = proc_rss_mb(pid)
        await asyncio.sleep(1.0)
        cpu0 = (proc_cpu(pid), await displays.cpu(), cpu_seconds_self())
        t0 = time.monotonic()
        samples = await run_load(devices, args, bare=bare, issued=issued)
        record = await displays.collect(name, args.displays, 10)
        wall = time.monotonic() - t0
        cpu1 = (proc_cpu(pid), await displays.cpu(), cpu_seconds_self())
    finally:
        for ws in conns:
            await ws.close()
    await displays.disconnect(name)
    ok = [s for s in samples if s.ok]
    result["cpu"] = {
        k: (b - a) / wall for k, a, b in zip(("server", "displays", "driver"), cpu0, cpu1, strict=False)
    }
    result["cpu_per_event_ms"] = (cpu1[0] - cpu0[0]) / max(1, len(ok)) * 1000
    result["commands"] = len(samples)
    result["ok"] = len(ok)
    result["rate"] = len(ok) / args.seconds
    result["errors"] = dict(Counter(s.command for s in samples if not s.ok))
    result["by_command"] = {c: stats([s.t_reply - s.t_send for s in ok if s.command == c]) for c in COMMANDS}
    result["all_commands"] = stats([s.t_reply - s.t_send for s in ok])
    seq_of = {meta: seq for seq, meta in record["meta"].items()} if not bare else None
    call_display, send_display, missing = [], [], 0
    for s in ok:
        seq = s.key if bare else seq_of.get(tuple(s.key))  # type: ignore[union-attr]
        if seq is None or record["count"].get(seq, 0) < args.displays:
            missing += 1
            continue
        send_display.append(record["last"][seq] - s.t_send)
        if s.command == "call_next":
            call_display.append(record["last"][seq] - s.t_send)
    result["call_display"] = stats(call_display)
    result["send_display"] = stats(send_display)
    result["not_everywhere"] = missing
    if not bare:
        samples_by_size = sorted(record["samples"].values(), key=len)
        result["event_sample"] = samples_by_size[len(samples_by_size) // 2] if samples_by_size else "{}"
        result["reply_bytes"] = int(median([s.reply_bytes for s in ok]))
        result["server_metrics"] = scrape_metrics(port)
        result["queue_left"] = dict(issued)
    return result


def start_server(cmd: list[str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)


async def hall_phase(
    args: argparse.Namespace, displays: Displays, name: str, root: Path, tmp: Path
) -> dict[str, Any]:
    """The hall server (its code from ``root``) on a fresh database, under the load."""
    db = tmp / f"{name}.db"
    tokens = await mint_tokens(db)
    port = free_port()
    serve_cmd = [sys.executable]
    if args.profile and name == "hall":
        serve_cmd += ["-m", "cProfile", "-o", str(args.profile)]
    serve_cmd += [
        "-m",
        "queue_server.cli",
        "serve",
        "--config",
        str(args.config),
        "--db",
        str(db),
        "--port",
        str(port),
        "--synchronous",
        args.synchronous,
    ]
    env = {**os.environ, "PYTHONPATH": str(root)}
    with open(tmp / f"{name}.log", "wb") as log:
        server = subprocess.Popen(serve_cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=log)
    spy = None
    try:
        wait_http(port, server)
        if args.py_spy and name == "hall":
            spy = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "-p",
                    str(server.pid),
                    "-o",
                    str(args.py_spy),
                    "--format",
                    "raw",
                    "-r",
                    "200",
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        return await phase(
            args, displays, bare=False, port=port, pid=server.pid, tokens=tokens, shape=None, name=name
        )
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(30)
        server.send_signal(signal.SIGINT)  # a clean stop, so that cProfile writes its file
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


async def one_run(args: argparse.Namespace, displays: Displays) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="hallops-bench-"))
    try:
        return await _one_run(args, displays, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def _one_run(args: argparse.Namespace, displays: Displays, tmp: Path) -> dict[str, Any]:
    run: dict[str, Any] = {"fsync": fsync_times(tmp), "load_before": os.getloadavg(), "uptime": uptime()}
    run["hall"] = await hall_phase(args, displays, "hall", ROOT, tmp)
    if args.before:
        run["before"] = await hall_phase(args, displays, "before", args.before.resolve(), tmp)
    if not args.no_bare:
        event = run["hall"]["event_sample"]
        shape = {
            "event": re.sub(r'"seq":\d+', '"seq":%SEQ%', event, count=1),
            "reply_pad": max(0, run["hall"]["reply_bytes"] - 40),
        }
        for mode in ("broadcast", "frame") if args.frame_floor else ("broadcast",):
            port = free_port()
            bare = subprocess.Popen(
                [sys.executable, __file__, "--bare-server", str(port), "--bare-mode", mode],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            name = "bare" if mode == "broadcast" else "bare_frame"
            try:
                assert bare.stdout is not None and bare.stdout.readline().strip() == "listening"
                run[name] = await phase(
                    args, displays, bare=True, port=port, pid=bare.pid, tokens={}, shape=shape, name=name
                )
            finally:
                bare.kill()
                bare.wait()
        run["payload_bytes"] = len(event.encode())
    run["load_after"] = os.getloadavg()
    return run


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        return "load average {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


# ====================================================================== report


def fmt(v: float) -> str:
    return f"{v:8.1f}" if not math.isnan(v) else f"{'—':>8}"


def table(runs: list[dict[str, Any]], servers: list[str], figure: str) -> list[str]:
    """Median over the runs of p50/p99/max, one column group per server."""
    lines = []
    head = " | ".join(f"{s} p50 | {s} p99 | {s} max" for s in servers)
    lines.append(f"| {figure:<26} | {head} | p99 ratio |")
    lines.append("|" + "---|" * (2 + 3 * len(servers)))
    rows: list[tuple[str, Any]] = [(c, lambda r, s, c=c: r[s]["by_command"][c]) for c in COMMANDS]
    rows += [
        ("all commands", lambda r, s: r[s]["all_commands"]),
        ("call → display (last)", lambda r, s: r[s]["call_display"]),
        ("command → display (last)", lambda r, s: r[s]["send_display"]),
    ]
    for label, get in rows:
        cells = []
        p99s = []
        for s in servers:
            vals = [get(r, s) for r in runs if s in r]
            p50, p99, mx = (median([v[k] for v in vals]) for k in ("p50", "p99", "max"))
            p99s.append(median([v["p99"] for v in vals]))
            cells.append(f"{fmt(p50)} | {fmt(p99)} | {fmt(mx)}")
        ratio = (
            median([get(r, servers[0])["p99"] / get(r, servers[1])["p99"] for r in runs if servers[1] in r])
            if len(servers) > 1
            else math.nan
        )
        lines.append(f"| {label:<26} | {' | '.join(cells)} | {ratio:6.2f}× |")
    return lines


def report(args: argparse.Namespace, runs: list[dict[str, Any]]) -> str:
    servers = (
        ["hall"]
        + ([] if args.no_bare else ["bare"])
        + (["before"] if args.before else [])
        + (["bare_frame"] if args.frame_floor else [])
    )
    lines = [
        f"hallops bench_server · {args.displays} displays · kiosk {args.kiosk_rate:g} tickets/s · "
        f"{len(WINDOWS)} windows at {args.window_rate:g} commands/s each · {args.seconds:g} s · "
        f"{len(runs)} run(s) · synchronous={args.synchronous} · {args.display_procs} display process(es)",
        f"{os.cpu_count()} CPUs · Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M %Z')}",
    ]
    for i, r in enumerate(runs, 1):
        lines.append(
            f"run {i}: {r['uptime']} (before); load after {r['load_after'][0]:.1f}; "
            f"fsync p50 {pct(r['fsync'], 50) * 1000:.2f} ms"
        )
        for s in servers:
            x = r[s]
            lines.append(
                f"  {s:<10} {x['ok']}/{x['commands']} ok ({x['rate']:.1f}/s), errors {x['errors'] or 'none'},"
                f" not at every display {x['not_everywhere']}; CPU server {x['cpu']['server']:.0%},"
                f" displays {x['cpu']['displays']:.0%}, driver {x['cpu']['driver']:.0%};"
                f" server CPU per event {x['cpu_per_event_ms']:.2f} ms; connect {x['connect_s']:.1f} s"
            )
        m = r["hall"].get("server_metrics") or {}
        if m:
            lag = [v for k, v in m.items() if k.startswith("hallops_event_loop_lag_seconds_max")]
            gcmax = [v for k, v in m.items() if k.startswith("hallops_gc_pause_seconds_max")]
            commits = m.get("hallops_db_commit_seconds_count", math.nan)
            csum = m.get("hallops_db_commit_seconds_sum", math.nan)
            lines.append(
                f"  hall /metrics: loop lag max {max(lag, default=math.nan) * 1000:.1f} ms;"
                f" GC pause max {max(gcmax, default=math.nan) * 1000:.1f} ms;"
                f" commits {commits:.0f}, mean {csum / commits * 1000 if commits else math.nan:.2f} ms"
            )
    lines += [
        "",
        f"latency in ms, median of {len(runs)} run(s) (ratio: median of the per-run p99 ratios,"
        f" {servers[0]} / {servers[1] if len(servers) > 1 else '—'})",
        "",
    ]
    lines += table(runs, servers, "figure")
    if len(servers) > 1:
        cmd = median([r["hall"]["all_commands"]["p99"] / r["bare"]["all_commands"]["p99"] for r in runs])
        disp = median([r["hall"]["call_display"]["p99"] / r["bare"]["call_display"]["p99"] for r in runs])
        others = [
            median([r["hall"]["by_command"][c]["p50"] for r in runs]) for c in COMMANDS if c != "call_next"
        ]
        call50 = median([r["hall"]["by_command"]["call_next"]["p50"] for r in runs])
        worst = max(r["hall"]["all_commands"]["max"] for r in runs)
        cpu = median([r["hall"]["cpu_per_event_ms"] for r in runs])
        cpu_bare = median([r["bare"]["cpu_per_event_ms"] for r in runs])
        lines += [
            "",
            f"goal command p99 ≤ 2× bare: {cmd:.2f}× → {'met' if cmd <= 2 else 'MISSED'}",
            f"goal call → display p99 ≤ 2× bare: {disp:.2f}× → {'met' if disp <= 2 else 'MISSED'}",
            f"goal call_next p50 ≤ 2× the other commands' ({median(others):.1f} ms): {call50:.1f} ms"
            f" → {'met' if call50 <= 2 * median(others) else 'MISSED'}",
            f"worst single command {worst:.1f} ms ({'≤' if worst <= 100 else '>'} 100 ms)",
            f"server CPU per event: hall {cpu:.2f} ms, bare broadcast() {cpu_bare:.2f} ms",
        ]
        if "before" in servers:
            b99 = median([r["before"]["all_commands"]["p99"] for r in runs])
            h99 = median([r["hall"]["all_commands"]["p99"] for r in runs])
            bcpu = median([r["before"]["cpu_per_event_ms"] for r in runs])
            lines.append(
                f"before → now: command p99 {b99:.1f} → {h99:.1f} ms; server CPU per event {bcpu:.2f} → "
                f"{cpu:.2f} ms ({cpu / bcpu:.0%})"
            )
        if "bare_frame" in servers:
            fr = median([r["bare_frame"]["cpu_per_event_ms"] for r in runs])
            lines.append(
                f"bare server CPU per event: frame once {fr:.2f} ms = {fr / cpu_bare:.0%} of broadcast()"
            )
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


async def mint_tokens(db: Path) -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from queue_server.server.auth import hash_token, new_token
    from queue_server.store import SqliteStore
    from queue_server.store.base import DeviceToken

    store = SqliteStore(db)
    await store.open()
    tokens: dict[str, str] = {}
    try:
        for name, role, window in (("kiosk", "kiosk", None), *((f"w{n}", "window", n) for n in WINDOWS)):
            tok = new_token()
            await store.add_token(
                hash_token(tok),
                DeviceToken(role=role, window=window, name=f"bench-{name}"),
                "2026-01-01T00:00:00+08:00",
            )
            tokens[name] = tok
    finally:
        await store.close()
    return tokens


def fsync_times(directory: Path, n: int = 30) -> list[float]:
    """What one durable commit costs at least on this disk: a 4 KiB write and its fsync."""
    out = []
    with open(directory / "fsync-probe", "wb") as f:
        for _ in range(n):
            f.write(os.urandom(4096))
            f.flush()
            t0 = time.perf_counter()
            os.fsync(f.fileno())
            out.append(time.perf_counter() - t0)
    (directory / "fsync-probe").unlink()
    return out


def wait_http(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not answer /healthz")


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise SystemExit(f"need {needed} open files, the hard limit is {hard}")


async def drive(args: argparse.Namespace, displays: Displays) -> list[dict[str, Any]]:
    runs = []
    try:
        for i in range(args.runs):
            runs.append(await one_run(args, displays))
            print(f"run {i + 1}/{args.runs} done", file=sys.stderr, flush=True)
            print(report(args, runs[-1:]), file=sys.stderr, flush=True)  # each run as it ends
            if args.json:
                args.json.write_text(json.dumps(runs, default=list, indent=1))
    finally:
        await displays.close()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--displays", type=int, default=200)
    parser.add_argument("--kiosk-rate", type=float, default=15.0, help="tickets issued per second")
    parser.add_argument("--window-rate", type=float, default=10.0, help="commands per second per window")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each measured phase")
    parser.add_argument(
        "--runs", type=int, default=1, help="runs (fresh servers each); the report gives medians"
    )
    parser.add_argument("--prefill", type=int, default=40, help="tickets issued before the clock starts")
    parser.add_argument(
        "--display-procs", type=int, default=0, help="display processes (0: 1 per 500 displays)"
    )
    parser.add_argument("--config", type=Path, default=BENCH_HALL)
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument(
        "--no-bare", action="store_true", help="the hall server only (e.g. a 5-minute stall hunt)"
    )
    parser.add_argument(
        "--frame-floor",
        action="store_true",
        help="also a bare phase that sends with fanout.send_frame instead of broadcast()",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="also run the hall server from this source tree (e.g. `git archive` of an older commit)",
    )
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, write the stats here")
    parser.add_argument(
        "--py-spy", type=Path, help="record the hall server with py-spy (raw format) to this file"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare-mode", default="broadcast", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        asyncio.run(bare_server_main(args.bare_server, args.bare_mode))
        return
    if args.display_procs <= 0:
        args.display_procs = max(1, math.ceil(args.displays / 500))
    raise_nofile(2 * args.displays + 256)
    displays = Displays(args.display_procs)  # forked before any event loop exists in this process
    runs = asyncio.run(drive(args, displays))
    print(report(args, runs))
    if args.json:
        args.json.write_text(json.dumps(runs, default=list, indent=1))
    if args.profile and args.profile.exists():
        import pstats

        print(f"\nserver profile ({args.profile}), by own time:")
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
