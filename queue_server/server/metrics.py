"""The server's own measurements, for ``GET /metrics`` (Prometheus text format).

One ``Metrics`` per server, with its own registry (two servers in one test process do not
share figures). What is measured, and where:

* ``hallops_command_seconds{type}``: a request from its arrival to its reply, by type
  (``HallServer``);
* ``hallops_event_loop_lag_seconds``: how late a 50 ms timer fires (``LoopLagProbe``): any
  work or pause that holds the event loop shows here;
* ``hallops_gc_pause_seconds{generation}``: each garbage collection (``gc.callbacks``);
* ``hallops_db_commit_seconds`` and ``hallops_writer_batch_commands``: the writer's commits;
* ``hallops_fanout_publish_seconds``, ``hallops_fanout_pending_events`` (committed events not
  yet handed to the screens), ``hallops_fanout_frames_total``, ``hallops_fanout_slow_screens_total``
  (screens cut off because their write buffer was full), ``hallops_writer_queue_depth``;
* ``hallops_connections{role}`` and ``hallops_subscribers``: read when scraped.

docs/operations.md lists them with a sample Grafana panel.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# seconds: from well under a millisecond (a reply from memory) to the 100 ms a stall is
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
LAG_INTERVAL_S = 0.05


class _Live(Collector):
    """Figures read when scraped: connections by role, subscribers, fan-out counters."""

    def __init__(self, read: Callable[[], dict[str, Any]]) -> None:
        self._read = read

    def collect(self) -> Iterable[Any]:
        now = self._read()
        conns = GaugeMetricFamily(
            "hallops_connections", "Open websocket connections, by role", labels=["role"]
        )
        for role, n in sorted(now.get("roles", {}).items()):
            conns.add_metric([role], n)
        yield conns
        yield GaugeMetricFamily(
            "hallops_subscribers", "Screens subscribed to the fan-out", value=now.get("subscribers", 0)
        )
        yield GaugeMetricFamily(
            "hallops_writer_queue_depth", "Requests waiting for the writer", value=now.get("writer_queue", 0)
        )
        yield CounterMetricFamily(
            "hallops_fanout_frames", "Event frames written to screens", value=now.get("frames", 0)
        )
        yield CounterMetricFamily(
            "hallops_fanout_slow_screens",
            "Screens cut off because they did not read what they were sent",
            value=now.get("slow_screens", 0),
        )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.command_seconds = Histogram(
            "hallops_command_seconds",
            "A request from arrival to reply, by type",
            ["type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "hallops_event_loop_lag_seconds",
            "How late a 50 ms timer of the event loop fired",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.loop_lag_max = Gauge(
            "hallops_event_loop_lag_seconds_max", "The largest event-loop lag since start", registry=r
        )
        self.gc_pause = Histogram(
            "hallops_gc_pause_seconds",
            "Garbage-collection pauses, by generation",
            ["generation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.gc_pause_max = Gauge(
            "hallops_gc_pause_seconds_max", "The longest garbage-collection pause since start", registry=r
        )
        self.commit_seconds = Histogram(
            "hallops_db_commit_seconds",
            "One database transaction of the writer",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_commands = Histogram(
            "hallops_writer_batch_commands",
            "Commands committed together",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=r,
        )
        self.publish_seconds = Histogram(
            "hallops_fanout_publish_seconds",
            "Handing one event to every screen",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pending_events = Gauge(
            "hallops_fanout_pending_events", "Committed events not yet handed to the screens", registry=r
        )
        self.failed_commits = Counter(
            "hallops_db_failed_commits", "Transactions the database refused", registry=r
        )
        self._gc_started = 0.0
        self._probe: asyncio.Task[None] | None = None

    def watch(self, read: Callable[[], dict[str, Any]]) -> None:
        """Register the figures read at scrape time (``roles``, ``subscribers``, ...)."""
        self.registry.register(_Live(read))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # ------------------------------------------------------------------ probes

    def start(self) -> None:
        """Start the event-loop lag probe and the GC timings (call from the running loop)."""
        gc.callbacks.append(self._on_gc)
        self._probe = asyncio.create_task(self._lag_loop(), name="hallops-loop-lag")

    async def stop(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None

    async def _lag_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            t0 = loop.time()
            await asyncio.sleep(LAG_INTERVAL_S)
            lag = max(0.0, loop.time() - t0 - LAG_INTERVAL_S)
            self.loop_lag.observe(lag)
            if lag > self._max(self.loop_lag_max):
                self.loop_lag_max.set(lag)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        pause = time.perf_counter() - self._gc_started
        self.gc_pause.labels(str(info.get("generation", "?"))).observe(pause)
        if pause > self._max(self.gc_pause_max):
            self.gc_pause_max.set(pause)

    @staticmethod
    def _max(gauge: Gauge) -> float:
        return float(gauge._value.get())  # prometheus_client has no public getter


def roles_of(clients: Iterable[Any]) -> dict[str, int]:
    """Connections by role (``anonymous`` before auth)."""
    return dict(Tally((getattr(c, "role", None) or "anonymous") for c in clients))
