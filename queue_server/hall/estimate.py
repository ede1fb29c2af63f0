"""Estimated wait for a waiting ticket.

Method (documented in docs/wait-estimate.md):

* Service time of a queue: an exponentially weighted mean (EWMA, weight ``ewma_alpha`` for
  the newest) of the window occupancy of finished tickets (call to finish, so the walk to
  the counter counts), starting from the queue's configured ``default_service_s``.
* Capacity for a queue: each open window serving it contributes its share of attention,
  ``weight(q) / sum of weights of the queues it serves that have someone waiting``; a
  window with no ticket at its counter counts as free.
* A ticket with ``ahead`` tickets before it in its queue waits for
  ``k = ahead + 1 - free`` window releases; each release comes every ``mean / capacity``
  seconds, the first after half a service on average: ``(k - 0.5) * mean / capacity``,
  0 when a free window is there for it.
* With no window open, the windows that serve the queue are assumed to open.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_SAMPLE_S = 10.0
MAX_SAMPLE_S = 4 * 3600.0


@dataclass(kw_only=True)
class ServiceTime:
    mean_s: float
    samples: int = 0

    def observe(self, seconds: float, alpha: float) -> None:
        x = min(max(seconds, MIN_SAMPLE_S), MAX_SAMPLE_S)
        self.mean_s = (1 - alpha) * self.mean_s + alpha * x  # starts from the configured prior
        self.samples += 1


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
