"""Wait figures from the hall's events: what ``hallops simulate`` prints.

The wait of a ticket is from its issue to its *first* call (a transferred ticket's second
wait is not counted again); tickets never called have no wait. "Max waiting" is the most
tickets waiting in the queue at once.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..hall.config import HallConfig
from ..hall.events import (
    Event,
    ServiceFinished,
    ServiceRated,
    TicketCalled,
    TicketIssued,
    TicketReactivated,
    TicketTransferred,
)
from ..hall.events import (
    EventType as E,
)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), linear between the closest ranks; 0.0 for no values."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class QueueFigures:
    issued: int = 0
    called: int = 0
    served: int = 0  # service finished in this queue
    no_shows: int = 0  # tickets marked no-show at least once
    transferred_out: int = 0
    waits: list[float] = field(default_factory=list)  # seconds, first call
    max_waiting: int = 0

    @property
    def mean_wait(self) -> float:
        return sum(self.waits) / len(self.waits) if self.waits else 0.0

    @property
    def p90_wait(self) -> float:
        return percentile(self.waits, 90)

    @property
    def max_wait(self) -> float:
        return max(self.waits, default=0.0)


class WaitStats:
    """Feed it events (``observe``); read per-queue figures (``queues``, ``total``)."""

    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.queues: dict[str, QueueFigures] = {q.code: QueueFigures() for q in config.queues}
        self._issued: dict[str, tuple[str, datetime]] = {}  # ticket -> (queue at issue, at)
        self._called: set[str] = set()
        self._no_show: set[str] = set()
        self._queue_of: dict[str, str] = {}  # ticket -> queue it waits in now
        self._waiting: Counter[str] = Counter()
        self.events = 0
        self.days: set[str] = set()
        self.cases: Counter[str] = Counter()  # case event types (case_accepted ...)
        self.ratings = 0
        self.bad_ratings = 0  # 差评: levels 1-2

    def observe(self, events: list[Event], hall: Any = None) -> None:
        for ev in events:
            self.events += 1
            self._one(ev)

    def _one(self, ev: Event) -> None:
        t = ev.type
        if t.startswith("case_") or t == "materials_requested":
            self.cases[t] += 1
            return
        if t == "service_rated":
            self.ratings += 1
            self.bad_ratings += 1 if isinstance(ev, ServiceRated) and ev.bad else 0
            return
        if t == E.DAY_STARTED:
            self._issued.clear()
            self._called.clear()
            self._no_show.clear()
            self._queue_of.clear()
            self._waiting.clear()
            return
        tid = ev.ticket
        if tid is None:
            return
        if isinstance(ev, TicketIssued):
            q = ev.queue
            self.days.add(ev.at.date().isoformat())
            self._issued[tid] = (q, ev.at)
            self._queue_of[tid] = q
            self.queues[q].issued += 1
            self._enter(q)
        elif isinstance(ev, TicketCalled):
            q = self._queue_of.get(tid, ev.queue)
            self._leave(q)
            if tid not in self._called and tid in self._issued:
                self._called.add(tid)
                q0, at = self._issued[tid]
                self.queues[q0].called += 1
                self.queues[q0].waits.append((ev.at - at).total_seconds())
        elif isinstance(ev, ServiceFinished):
            self.queues[ev.queue].served += 1
        elif t == E.TICKET_NO_SHOW:
            if tid not in self._no_show and tid in self._issued:
                self._no_show.add(tid)
                self.queues[self._issued[tid][0]].no_shows += 1
        elif isinstance(ev, TicketReactivated):
            self._enter(self._queue_of.get(tid, ev.queue))
        elif isinstance(ev, TicketTransferred):
            src, dst = ev.from_queue, ev.to_queue
            if src in self.queues:
                self.queues[src].transferred_out += 1
            self._queue_of[tid] = dst
            self._enter(dst)
        elif t == E.TICKET_CANCELLED:
            pass  # the simulator cancels nothing; a cancelled waiting ticket is rare in life

    def _enter(self, q: str) -> None:
        if q in self.queues:
            self._waiting[q] += 1
            self.queues[q].max_waiting = max(self.queues[q].max_waiting, self._waiting[q])

    def _leave(self, q: str) -> None:
        if q in self.queues and self._waiting[q] > 0:
            self._waiting[q] -= 1

    def total(self) -> QueueFigures:
        out = QueueFigures()
        for f in self.queues.values():
            out.issued += f.issued
            out.called += f.called
            out.served += f.served
            out.no_shows += f.no_shows
            out.transferred_out += f.transferred_out
            out.waits.extend(f.waits)
            out.max_waiting = max(out.max_waiting, f.max_waiting)
        return out


def _m(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def summary_table(stats: WaitStats) -> str:
    """One run: per queue issued, served, no-shows, mean / p90 / max wait, max waiting."""
    rows = [("queue", "issued", "served", "no-show", "mean min", "p90 min", "max min", "max waiting")]
    for q in stats.config.queues:
        f = stats.queues[q.code]
        if not f.issued:
            continue
        rows.append(
            (
                f"{q.code} {q.name}",
                str(f.issued),
                str(f.served),
                f"{_pct(f.no_shows, f.issued)}",
                _m(f.mean_wait),
                _m(f.p90_wait),
                _m(f.max_wait),
                str(f.max_waiting),
            )
        )
    t = stats.total()
    rows.append(
        (
            "all",
            str(t.issued),
            str(t.served),
            _pct(t.no_shows, t.issued),
            _m(t.mean_wait),
            _m(t.p90_wait),
            _m(t.max_wait),
            str(t.max_waiting),
        )
    )
    return _render(rows)


def cases_line(stats: WaitStats) -> str:
    """Cases and ratings of a run, or "" when there were none."""
    if not stats.cases and not stats.ratings:
        return ""
    k = stats.cases
    created = k["case_accepted"] + k["case_rejected"] + k["materials_requested"]
    return (
        f"cases (办件): {k['case_accepted']} accepted, {k['materials_requested']} 补正 notices, "
        f"{k['case_rejected']} 不予受理, {k['case_decided']} decided, {k['case_delivered']} delivered "
        f"({created} created at the windows); ratings: {stats.ratings}, 差评 {stats.bad_ratings} "
        f"({_pct(stats.bad_ratings, stats.ratings)})"
    )


def compare_table(
    base: WaitStats, plan: WaitStats, base_name: str = "config", plan_name: str = "plan"
) -> str:
    """Two runs side by side: served, mean and p90 wait (minutes), max waiting, per queue."""
    head = (
        "queue",
        f"served {base_name}",
        f"served {plan_name}",
        f"mean {base_name}",
        f"mean {plan_name}",
        f"p90 {base_name}",
        f"p90 {plan_name}",
        f"max waiting {base_name}",
        f"max waiting {plan_name}",
    )
    rows = [head]
    for q in base.config.queues:
        a, b = base.queues[q.code], plan.queues.get(q.code)
        if b is None or not (a.issued or b.issued):
            continue
        rows.append(
            (
                f"{q.code} {q.name}",
                str(a.served),
                str(b.served),
                _m(a.mean_wait),
                _m(b.mean_wait),
                _m(a.p90_wait),
                _m(b.p90_wait),
                str(a.max_waiting),
                str(b.max_waiting),
            )
        )
    a, b = base.total(), plan.total()
    rows.append(
        (
            "all",
            str(a.served),
            str(b.served),
            _m(a.mean_wait),
            _m(b.mean_wait),
            _m(a.p90_wait),
            _m(b.p90_wait),
            str(a.max_waiting),
            str(b.max_waiting),
        )
    )
    return "waits in minutes, from issue to first call\n" + _render(rows)


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)  # CJK characters take two columns


def _render(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for r in rows:
        cells = [r[0] + " " * (widths[0] - _width(r[0]))]
        cells += [" " * (widths[i] - _width(v)) + v for i, v in enumerate(r) if i > 0]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
