"""Estimated wait for a waiting ticket.

Method (documented in docs/wait-estimate.md):

* Service time of a queue: an exponentially weighted mean (EWMA, weight ``ewma_alpha`` for
  the newest sample, 0.05 by default) of the *window cycle*: from a window's call to its next
  call, sampled when the next call comes within ``CYCLE_GAP_S`` of the citizen leaving the
  counter (finished, no-show or transferred), so the walk-up, recalls, no-shows and the gap
  between citizens count, and breaks do not. The mean starts from the queue's configured
  ``default_service_s``.
* Release schedule: each open window serving the queue is free for it first when the
  ticket at its counter is expected to be done (``remaining_service``, from how long that
  ticket has taken already; at once when nobody is there), then every ``mean / share``
  seconds, its share of attention being ``weight(q) / sum of weights of the queues it
  serves that have someone waiting``.
* The ticket at place ``i`` of the line (0-based) is called at the ``i + 1``-th release
  of the merged schedules.
* With no window open, the windows that serve the queue are assumed to open:
  ``(ahead + 0.5) * mean / capacity`` over their shares.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime

MIN_SAMPLE_S = 10.0
MAX_SAMPLE_S = 4 * 3600.0
CYCLE_GAP_S = 60.0  # a call this soon after the counter emptied continues the cycle


@dataclass(kw_only=True)
class ServiceTime:
    mean_s: float
    samples: int = 0

    def observe(self, seconds: float, alpha: float) -> None:
        x = min(max(seconds, MIN_SAMPLE_S), MAX_SAMPLE_S)
        self.mean_s = (1 - alpha) * self.mean_s + alpha * x  # starts from the configured prior
        self.samples += 1


@dataclass(kw_only=True)
class WindowCycle:
    """What one window's cycle sample needs: its last call and when its counter emptied."""

    last_call_at: datetime | None = None
    last_queue: str | None = None
    released_at: datetime | None = None

    def sample(self, call_at: datetime) -> float | None:
        """The cycle that a call at ``call_at`` closes, or None when it does not close one
        (first call, a break in between, or a counter that stood empty for a while)."""
        if self.last_call_at is None or self.released_at is None or self.released_at < self.last_call_at:
            return None
        if (call_at - self.released_at).total_seconds() > CYCLE_GAP_S:
            return None
        return (call_at - self.last_call_at).total_seconds()


@dataclass(frozen=True, kw_only=True)
class Capacity:
    servers: float  # window-equivalents serving the queue (open ones, or all if none open)
    free: float  # of those, window-equivalents with nobody at the counter


def wait_seconds(ahead: int, mean_s: float, cap: Capacity) -> float:
    if cap.servers <= 0:
        return ahead * mean_s + mean_s / 2
    k = ahead + 1 - cap.free
    if k <= 0:
        return 0.0
    return max(0.0, (k - 0.5) * mean_s / cap.servers)


@dataclass(frozen=True, kw_only=True)
class Release:
    first: float  # seconds from now until the window is free for the queue
    period: float  # seconds between its releases after that


def remaining_service(mean_s: float, elapsed_s: float) -> float:
    """Expected rest of a service that has run ``elapsed_s``: about 0.62 of a mean seen at
    a random moment (services vary, coefficient of variation about 0.5), the plain
    remainder later on, never below a quarter of the mean for one that runs long."""
    return max(0.62 * mean_s - 0.5 * elapsed_s, mean_s - elapsed_s, 0.25 * mean_s)


def release_times(releases: list[Release], n: int) -> list[float]:
    """The times of the first ``n`` releases of the merged window schedules, in order."""
    heap = [(r.first, r.period) for r in releases]
    heapq.heapify(heap)
    out: list[float] = []
    for _ in range(n):
        at, period = heapq.heappop(heap)
        out.append(at)
        heapq.heappush(heap, (at + period, period))
    return out
