"""The protocol fuzz of tests/server/test_fuzz.py, long: ``N`` frames (default 100,000) from
anonymous, kiosk and manager connections of one real server. Not collected by pytest.

    .venv/bin/python tests/fuzz/fuzz_protocol.py [N] [SEED]

The frames come from a plain ``random`` generator with the shapes of the Hypothesis
strategies of test_fuzz.py (near-valid requests of every type, junk requests, any JSON value,
random bytes and text, lone surrogates and control characters in strings): Hypothesis takes
about 20 ms to draw one, too slow for 100,000. Prints the count of frames, ok and error
replies, and the codes seen; stops with the frame at the first one that breaks a rule (an
undocumented code, internal_error, no reply, a refusal that changed the event log). The last
run is recorded in docs/security.md."""

from __future__ import annotations

import collections
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "server")]

from test_fuzz import Fuzzed, check_one  # noqa: E402

from queue_server.server.registry import REQUESTS  # noqa: E402

TYPES = sorted(REQUESTS)
NAMES = sorted({f.name for r in REQUESTS.values() for f in r.fields})
PLAUSIBLE = [
    "A",
    "B",
    "P",
    "A001",
    "B001",
    "w1",
    "manager",
    "normal",
    "green",
    "appointment",
    "kiosk",
    "staff",
    "2026-11-23",
    "2026-11-23T10:00:00+08:00",
    "9999-01-01",
    "approve",
    "post",
    "SW-003",
    "",
]
ODD = ["\ud800", "\udfff", "a\x00b", "\x1b[31m", "\n", "\t", "\u202e", "张三丰", "😀", "\uffff", "%00", "../"]


def text(r: random.Random) -> str:
    pick = r.random()
    if pick < 0.4:
        return r.choice(PLAUSIBLE)
    if pick < 0.7:
        return r.choice(PLAUSIBLE) + r.choice(ODD)
    return "".join(chr(r.randrange(0, 0x11000)) for _ in range(r.randrange(0, 8)))


def value(r: random.Random, depth: int = 0) -> Any:
    pick = r.randrange(9 if depth < 3 else 7)
    if pick == 0:
        return None
    if pick == 1:
        return r.random() < 0.5
    if pick == 2:
        return r.choice([0, 1, 2, 3, 9, -1, 2**31, 2**70, 100_000])
    if pick == 3:
        return r.uniform(-1e9, 1e9)
    if pick in (4, 5, 6):
        return text(r)
    if pick == 7:
        return [value(r, depth + 1) for _ in range(r.randrange(4))]
    return {text(r): value(r, depth + 1) for _ in range(r.randrange(4))}


def plausible(r: random.Random, kind: Any) -> Any:
    if r.random() < 0.15:
        return value(r)
    if kind is str:
        return text(r)
    if kind is int:
        return r.randrange(0, 12)
    if kind is bool:
        return r.random() < 0.5
    if kind is list:
        return [r.choice(["A", "B", 1, 2, "waiting", text(r)]) for _ in range(r.randrange(3))]
    return {k: text(r) for k in ("name", "phone", "id_number") if r.random() < 0.6}


def frame(r: random.Random) -> str | bytes:
    pick = r.randrange(10)
    if pick < 5:  # near-valid: a real type with its own fields
        req = REQUESTS[r.choice(TYPES)]
        msg: dict[str, Any] = {"id": r.randrange(1, 10**6), "type": req.type}
        for f in req.fields:
            if f.required or r.random() < 0.5:
                msg[f.name] = plausible(r, f.kind)
        return json.dumps(msg)
    if pick < 7:  # junk: any id, any type, any fields
        msg = {"id": value(r), "type": r.choice([*TYPES, text(r)])}
        for _ in range(r.randrange(5)):
            msg[r.choice([*NAMES, text(r)])] = value(r)
        return json.dumps(msg)
    if pick == 7:
        return json.dumps(value(r))
    if pick == 8:
        return r.randbytes(r.randrange(64))
    return "".join(chr(r.randrange(0x20, 0xD800)) for _ in range(r.randrange(64)))


def main(n: int, seed: int) -> int:
    r = random.Random(seed)
    codes: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        fuzzed = Fuzzed(Path(tmp))
        started = time.monotonic()
        try:
            for i in range(n):
                f = frame(r)
                try:
                    reply = check_one(fuzzed, r.choice(["anonymous", "kiosk", "manager"]), f)
                except Exception:
                    print(f"frame {i} (seed {seed}) broke a rule: {f!r}", file=sys.stderr)
                    raise
                codes[reply.get("code", "ok")] += 1
                if (i + 1) % 10_000 == 0:
                    print(f"{i + 1} frames, {time.monotonic() - started:.0f} s", flush=True)
        finally:
            fuzzed.close()
    total = sum(codes.values())
    print(
        f"{total} frames (seed {seed}) in {time.monotonic() - started:.0f} s: {codes['ok']} ok,"
        f" {total - codes['ok']} errors, all documented, no refusal changed the log"
    )
    print("codes:", ", ".join(f"{k} {c}" for k, c in codes.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(
        main(
            int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 11
        )
    )
