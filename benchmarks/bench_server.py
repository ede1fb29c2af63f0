"""Queue server under load: command latency and fan-out to many displays, against a raw
websockets ``broadcast()`` baseline measured in the same run.

Four processes, so the server is measured from outside:

* the hall server: ``hallops serve`` (the real CLI) on a fresh SQLite file, ``synchronous=FULL``;
* a tiny raw websockets server (this file, ``--raw-server``): on each trigger it calls
  ``websockets.broadcast()`` with a message of the size of a real hall event and answers with
  the monotonic time of the call;
* the display worker (a child process): N display connections to the hall server (all
  subscribed to everything), later N to the raw server. Displays are a minimal websocket
  client (handshake, unmasked frame parser, pong) that stamps each frame with
  ``time.monotonic()`` on arrival and reads only the ``seq`` of events, so 1,000 of them fit
  in one Python process; one reference display parses every event in full;
* this process: the driver. A kiosk and window devices (window tokens for 1, 2 and 9) send
  commands open-loop at ``--rate`` per second: issue_ticket, then call_next / start_service /
  finish_service in turn on the windows.

``time.monotonic()`` is CLOCK_MONOTONIC, one clock for all processes of the machine, so a
send time in the driver and an arrival time in the display worker can be subtracted.

Measured, per command and per event (an event is matched to its command by type and ticket):

* command latency: send → ok reply (the reply leaves after the commit, and after the
  event was handed to every display connection);
* fan-out send → last display: send of the command → arrival at the last of the N displays
  (an upper bound of commit → last display: it includes the request, the batch and the fsync);
* fan-out ok → last display: ok reply → last display (a lower bound: the server hands the
  event to the displays before it writes the reply);
* raw broadcast() → last client: the raw server's time of the ``broadcast()`` call → arrival
  at the last of its N clients; and trigger send → last client, comparable with the hall's
  send → last display.

    .venv/bin/python benchmarks/bench_server.py                   # 1,000 displays, 30 commands/s, 20 s
    .venv/bin/python benchmarks/bench_server.py --displays 200 --seconds 5
    .venv/bin/python benchmarks/bench_server.py --profile /tmp/server.prof   # cProfile of the server

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
SMALL_HALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"  # open 24 h, queues A, B, P
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

    def __init__(self, host: str, port: int, path: str, record: Record, *, reference: bool, hello: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.record = record
        self.reference = reference
        self.hello = hello
        self.buf = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())

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
            del buf[:end + 4]
            self.open = True
            self.send(0x1, self.hello.encode())
        pos, n = 0, len(buf)
        while n - pos >= 2:
            op, length, head = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
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
        head = bytes(buf[start:start + 40])
        if head.startswith(EVENT_PREFIX):
            comma = head.index(b",", len(EVENT_PREFIX))
            seq = int(head[len(EVENT_PREFIX):comma])
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
        head = bytes([0x80 | opcode, 0x80 | n]) if n < 126 else bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload))
        self.transport.write(head + key + masked)  # type: ignore[union-attr]


def cpu_seconds_self() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def worker_main(conn: Any) -> None:
    loop = asyncio.get_running_loop()
    records: dict[str, Record] = {}
    displays: list[Display] = []
    while True:
        cmd, *args = await loop.run_in_executor(None, conn.recv)
        if cmd == "connect":
            phase, port, path, n, hello = args
            record = records[phase] = Record()
            t0 = time.monotonic()
            batch: list[Display] = []
            for i in range(n):
                proto = Display("127.0.0.1", port, path, record, reference=(i == 0), hello=hello)
                batch.append(proto)
                await loop.create_connection(lambda p=proto: p, "127.0.0.1", port)
                if len(batch) == 100 or i == n - 1:
                    await asyncio.wait_for(asyncio.gather(*(d.ready for d in batch)), 120)
                    displays.extend(batch)
                    batch = []
            conn.send({"connected": n, "seconds": time.monotonic() - t0})
        elif cmd == "collect":
            phase, expected, timeout = args
            record = records[phase]
            deadline = time.monotonic() + timeout
            n = expected
            while time.monotonic() < deadline:
                complete = record.count and all(c >= n for c in record.count.values())
                if complete and time.monotonic() - record.latest > 0.5:
                    break
                await asyncio.sleep(0.1)
            conn.send({"first": record.first, "last": record.last, "count": dict(record.count),
                       "meta": record.meta, "samples": record.samples})
        elif cmd == "cpu":
            conn.send(cpu_seconds_self())
        elif cmd == "close":
            for d in displays:
                if d.transport is not None:
                    d.transport.close()
            conn.send("closed")
            return


def display_worker(conn: Any) -> None:
    asyncio.run(worker_main(conn))


class Worker:
    """The driver's handle on the display worker process."""

    def __init__(self) -> None:
        ctx = mp.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=display_worker, args=(child,), daemon=True)
        self.proc.start()

    async def call(self, *cmd: Any) -> Any:
        loop = asyncio.get_running_loop()
        self.conn.send(cmd)
        return await loop.run_in_executor(None, self.conn.recv)


# ====================================================================== raw websockets server


async def raw_server_main(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    displays: set[Any] = set()

    async def handler(ws: Any) -> None:
        first = await ws.recv()
        if first == "display":
            displays.add(ws)
            await ws.send("ready")
            try:
                await ws.wait_closed()
            finally:
                displays.discard(ws)
        elif first == "control":
            template = await ws.recv()
            async for msg in ws:
                k = int(msg)
                payload = template.replace("%SEQ%", str(k), 1)
                t_call = time.monotonic()
                broadcast(displays, payload)
                t_done = time.monotonic()
                await ws.send(json.dumps({"re": k, "t_call": t_call, "t_done": t_done, "clients": len(displays)}))

    # the same connection settings as HallServer.start()
    async with serve(handler, "127.0.0.1", port, compression=None, max_size=2**20, ping_interval=20,
                     ping_timeout=20, write_limit=2**16):
        print("listening", flush=True)
        await asyncio.Future()


# ====================================================================== driver


class Device:
    """A driver connection: requests with ids, replies matched by ``re``, timed."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next = 0
        self.pending: dict[int, asyncio.Future[tuple[float, dict]]] = {}
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
        self.next += 1
        rid = self.next
        fut = self.pending[rid] = asyncio.get_running_loop().create_future()
        t_send = time.monotonic()
        await self.ws.send(json.dumps({"id": rid, "type": type_, **fields}))
        t_reply, msg = await asyncio.wait_for(fut, 60)
        return t_send, t_reply, msg


EXPECTED_EVENT = {"issue_ticket": "ticket_issued", "call_next": "ticket_called",
                  "start_service": "service_started", "finish_service": "service_finished"}


def pct(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


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
        for name, role, window in (("kiosk", "kiosk", None), ("w1", "window", 1), ("w2", "window", 2),
                                   ("w9", "window", 9)):
            tok = new_token()
            await store.add_token(hash_token(tok), DeviceToken(role=role, window=window, name=f"bench-{name}"),
                                  "2026-01-01T00:00:00+08:00")
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


@dataclass
class Sample:
    command: str
    t_send: float
    t_reply: float
    ok: bool
    key: tuple[str, str | None] | None  # (event type, ticket id) of the event it caused


async def run_commands(devices: dict[str, Device], rate: float, seconds: float) -> list[Sample]:
    """Open loop: the k-th command leaves at start + k / rate, whatever the replies."""
    total = int(rate * seconds)
    windows = [("w1", 1), ("w2", 2), ("w9", 9)]
    cycle = ("call_next", "start_service", "finish_service")
    step = dict.fromkeys((w for _, w in windows), 0)
    samples: list[Sample] = []
    tasks = []

    async def one(dev: Device, command: str, fields: dict[str, Any]) -> None:
        t_send, t_reply, msg = await dev.call(command, **fields)
        ok = msg.get("type") == "ok"
        ticket = (msg.get("ticket") or {}).get("id") if ok else None
        samples.append(Sample(command, t_send, t_reply, ok, (EXPECTED_EVENT[command], ticket) if ok else None))

    start = time.monotonic() + 0.2
    n_window = n_issue = 0
    for k in range(total):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if k % 4 == 0:
            queue = "P" if n_issue % 3 == 2 else "A"  # windows 1 and 2 serve A, window 9 serves P
            n_issue += 1
            tasks.append(asyncio.create_task(one(devices["kiosk"], "issue_ticket", {"queue": queue})))
        else:
            name, number = windows[n_window % 3]
            n_window += 1
            command = cycle[step[number] % 3]
            step[number] += 1
            tasks.append(asyncio.create_task(one(devices[name], command, {"window": number})))
    await asyncio.gather(*tasks)
    return samples


async def run_raw(control: Any, rate: float, count: int) -> list[dict]:
    """Trigger ``count`` raw broadcasts at ``rate`` per second; returns the raw server's answers
    with the driver's send and reply times."""
    answers: dict[int, dict] = {}
    sends: dict[int, float] = {}

    async def reader() -> None:
        async for raw in control:
            t = time.monotonic()
            msg = json.loads(raw)
            msg["t_reply"] = t
            answers[msg["re"]] = msg
            if len(answers) == count:
                return

    task = asyncio.create_task(reader())
    start = time.monotonic() + 0.2
    for k in range(1, count + 1):
        delay = start + (k - 1) / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sends[k] = time.monotonic()
        await control.send(str(k))
    await asyncio.wait_for(task, 60)
    for k, msg in answers.items():
        msg["t_send"] = sends[k]
    return [answers[k] for k in sorted(answers)]


def row(name: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"| {name:<44} | {len(ms):>5} | {pct(ms, 50):>8.1f} | {pct(ms, 99):>8.1f} | "
            f"{max(ms) if ms else math.nan:>8.1f} |")


async def drive(args: argparse.Namespace, worker: Worker) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    tmp = Path(tempfile.mkdtemp(prefix="hallops-bench-"))
    db = tmp / "hall.db"
    tokens = await mint_tokens(db)
    hall_port, raw_port = free_port(), free_port()

    serve_cmd = [sys.executable]
    if args.profile:
        serve_cmd += ["-m", "cProfile", "-o", str(args.profile)]
    serve_cmd += ["-m", "queue_server.cli", "serve", "--config", str(args.config), "--db", str(db),
                  "--port", str(hall_port), "--synchronous", args.synchronous]
    result: dict[str, Any] = {"fsync": fsync_times(tmp), "load_before": os.getloadavg()}
    server_log = open(tmp / "serve.log", "wb")
    server = subprocess.Popen(serve_cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=server_log)
    raw = subprocess.Popen([sys.executable, __file__, "--raw-server", str(raw_port)], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_http(hall_port, server)
        assert raw.stdout is not None and raw.stdout.readline().strip() == "listening"
        url = f"ws://127.0.0.1:{hall_port}/ws"
        opts = {"compression": None, "ping_interval": None}  # the server pings; a starved driver must not hang up
        async with connect(url, **opts) as k_ws, connect(url, **opts) as w1_ws, \
                connect(url, **opts) as w2_ws, connect(url, **opts) as w9_ws:
            devices = {"kiosk": Device(k_ws), "w1": Device(w1_ws), "w2": Device(w2_ws), "w9": Device(w9_ws)}
            for name, dev in devices.items():
                _, _, msg = await dev.call("auth", token=tokens[name])
                assert msg["type"] == "ok", msg
            for name, number in (("w1", 1), ("w2", 2), ("w9", 9)):
                await devices[name].call("open_window", window=number)
            for i in range(15):  # a short line before the clock starts
                await devices["kiosk"].call("issue_ticket", queue="P" if i % 3 == 2 else "A")

            connected = await worker.call("connect", "hall", hall_port, "/ws", args.displays,
                                          '{"id":1,"type":"subscribe"}')
            result["connect_s"] = connected["seconds"]
            result["server_rss_mb"] = proc_rss_mb(server.pid)
            await asyncio.sleep(1.0)

            cpu0 = (proc_cpu(server.pid), await worker.call("cpu"), cpu_seconds_self())
            t0 = time.monotonic()
            samples = await run_commands(devices, args.rate, args.seconds)
            record = await worker.call("collect", "hall", args.displays, 30)
            wall = time.monotonic() - t0
            cpu1 = (proc_cpu(server.pid), await worker.call("cpu"), cpu_seconds_self())
        result["cpu_hall"] = {name: (b - a) / wall for name, a, b in
                              zip(("server", "displays", "driver"), cpu0, cpu1)}
        result["server_cpu_per_command"] = (cpu1[0] - cpu0[0]) / len(samples)
        result["hall_wall"] = wall

        by_key = {meta: seq for seq, meta in record["meta"].items()}
        latency = [s.t_reply - s.t_send for s in samples]
        send_last, ok_last, spread, missing = [], [], [], 0
        for s in samples:
            if not s.ok:
                continue
            seq = by_key.get(tuple(s.key))  # type: ignore[arg-type]
            if seq is None or record["count"].get(seq, 0) < args.displays:
                missing += 1
                continue
            send_last.append(record["last"][seq] - s.t_send)
            ok_last.append(record["last"][seq] - s.t_reply)
            spread.append(record["last"][seq] - record["first"][seq])
        result["hall"] = {"latency": latency, "send_last": send_last, "ok_last": ok_last, "spread": spread,
                          "commands": len(samples), "ok": sum(s.ok for s in samples),
                          "errors": Counter(s.command for s in samples if not s.ok), "not_everywhere": missing,
                          "by_command": {c: [s.t_reply - s.t_send for s in samples if s.command == c]
                                         for c in EXPECTED_EVENT}}
        sample = sorted(record["samples"].values(), key=len)
        payload = sample[len(sample) // 2]  # an event of median size
        result["payload_bytes"] = len(payload.encode())

        # ---------------------------------------------------------------- raw baseline
        await worker.call("connect", "raw", raw_port, "/", args.displays, "display")
        template = re.sub(r'"seq":\d+', '"seq":%SEQ%', payload, count=1)
        count = int(args.rate * args.raw_seconds)
        async with connect(f"ws://127.0.0.1:{raw_port}/", max_size=2**20, **opts) as control:
            await control.send("control")
            await control.send(template)
            await asyncio.sleep(0.5)
            cpu0 = proc_cpu(raw.pid)
            t0 = time.monotonic()
            answers = await run_raw(control, args.rate, count)
            raw_record = await worker.call("collect", "raw", args.displays, 30)
            result["cpu_raw_server"] = (proc_cpu(raw.pid) - cpu0) / (time.monotonic() - t0)
            result["raw_cpu_per_broadcast"] = (proc_cpu(raw.pid) - cpu0) / count
        call_last, raw_send_last, raw_ack_last, call_time, raw_missing = [], [], [], [], 0
        for a in answers:
            k = a["re"]
            if raw_record["count"].get(k, 0) < args.displays:
                raw_missing += 1
                continue
            call_last.append(raw_record["last"][k] - a["t_call"])
            raw_send_last.append(raw_record["last"][k] - a["t_send"])
            raw_ack_last.append(raw_record["last"][k] - a["t_reply"])
            call_time.append(a["t_done"] - a["t_call"])
        result["raw"] = {"call_last": call_last, "send_last": raw_send_last, "ack_last": raw_ack_last,
                         "call_time": call_time, "count": count, "not_everywhere": raw_missing}
        result["load_after"] = os.getloadavg()
    finally:
        await worker.call("close")
        server.send_signal(signal.SIGINT)  # a clean stop, so that cProfile writes its file
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        raw.kill()
        raw.wait()
        server_log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def report(args: argparse.Namespace, r: dict[str, Any]) -> str:
    hall, rawr = r["hall"], r["raw"]
    lines = [
        f"hallops bench_server · {args.displays} displays · {args.rate:g} commands/s for {args.seconds:g} s"
        f" · synchronous={args.synchronous}",
        f"{os.cpu_count()} CPUs · Python {platform.python_version()} · {time.strftime('%Y-%m-%d %H:%M')}"
        f" · load average before {r['load_before'][0]:.1f}, after {r['load_after'][0]:.1f}"
        f" · fsync of 4 KiB on the database's disk: p50 {pct(r['fsync'], 50) * 1000:.1f} ms,"
        f" max {max(r['fsync']) * 1000:.1f} ms",
        f"displays connected and subscribed in {r['connect_s']:.1f} s; server RSS with them {r['server_rss_mb']:.0f} MB;"
        f" event payload (median) {r['payload_bytes']} bytes",
        f"commands: {hall['commands']} sent, {hall['ok']} ok, errors {dict(hall['errors']) or 'none'};"
        f" events not seen by every display: {hall['not_everywhere']}",
        "",
        f"| {'latency (ms)':<44} | {'n':>5} | {'p50':>8} | {'p99':>8} | {'max':>8} |",
        f"|{'-' * 46}|{'-' * 7}|{'-' * 10}|{'-' * 10}|{'-' * 10}|",
        row("command: send → ok reply", hall["latency"]),
        *(row(f"  {c}", v) for c, v in hall["by_command"].items()),
        row("hall fan-out: command send → last display", hall["send_last"]),
        row("hall fan-out: ok reply → last display", hall["ok_last"]),
        row("hall: first display → last display", hall["spread"]),
        row("raw broadcast(): call → last client", rawr["call_last"]),
        row("raw: trigger send → last client", rawr["send_last"]),
        row("raw: ack → last client", rawr["ack_last"]),
        row("raw: duration of the broadcast() call", rawr["call_time"]),
        "",
        f"CPU (share of one core during the phase, {r['hall_wall']:.1f} s): "
        + ", ".join(f"{k} {v:.0%}" for k, v in r["cpu_hall"].items())
        + f"; raw server {r['cpu_raw_server']:.0%}",
        f"CPU per command in the hall server {r['server_cpu_per_command'] * 1000:.1f} ms;"
        f" per broadcast in the raw server {r['raw_cpu_per_broadcast'] * 1000:.1f} ms"
        f" (/proc, 10 ms ticks: averages only)",
        f"raw broadcasts: {rawr['count']}, not seen by every client: {rawr['not_everywhere']}",
    ]
    p99_cmd = pct(hall["latency"], 99) * 1000
    hall_hi, hall_lo = pct(hall["send_last"], 99), pct(hall["ok_last"], 99)
    raw_call = pct(rawr["call_last"], 99)
    lines += [
        "",
        f"aim command p99 ≤ 50 ms: {p99_cmd:.1f} ms → {'met' if p99_cmd <= 50 else 'MISSED'}",
        f"aim fan-out p99 ≤ 2 × raw broadcast p99 ({2 * raw_call * 1000:.1f} ms): "
        f"hall send → last {hall_hi * 1000:.1f} ms ({hall_hi / raw_call:.2f} ×), "
        f"ok → last {hall_lo * 1000:.1f} ms ({hall_lo / raw_call:.2f} ×)",
    ]
    return "\n".join(lines)


def raise_nofile(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise SystemExit(f"need {needed} open files, the hard limit is {hard}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--displays", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=30.0, help="commands per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the measured phase")
    parser.add_argument("--raw-seconds", type=float, default=10.0, help="length of the raw broadcast phase")
    parser.add_argument("--config", type=Path, default=SMALL_HALL)
    parser.add_argument("--synchronous", choices=["FULL", "NORMAL"], default="FULL",
                        help="the server's SQLite mode (FULL, the default of hallops serve: every ok survives power loss)")
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, write the stats here")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--raw-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_server:
        asyncio.run(raw_server_main(args.raw_server))
        return
    raise_nofile(4 * args.displays + 256)  # both ends of each display socket, for both servers
    worker = Worker()  # forked before any event loop exists in this process
    result = asyncio.run(drive(args, worker))
    print(report(args, result))
    if args.json:
        args.json.write_text(json.dumps({k: v for k, v in result.items()}, default=list, indent=1))
    if args.profile and args.profile.exists():
        import pstats

        print(f"\nserver profile ({args.profile}), by own time:")
        pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
