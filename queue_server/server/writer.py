"""The writer: the one task that owns the hall's state.

Only the writer applies commands. It takes ``Job``s (a typed core command and what the
reply needs) and ``Read``s from one queue; the commands that arrive together form one batch,
committed in one transaction. A job's future gets an immutable ``Outcome`` (its reply and its
events) only after that transaction committed; then the batch's events are described and
published to the fan-out. If the commit fails, the in-memory state is rebuilt from the
database and every job of the batch gets ``storage_failed``: nothing of it reaches a reply
or a push.

A read runs between batches, never inside one: it sees committed state only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from ..hall import commands as c
from ..hall.errors import HallError
from ..hall.events import Event
from ..hall.hall import Hall
from ..recorder import batch_for
from ..store.base import Store
from .fanout import Fanout
from .metrics import Metrics

log = logging.getLogger("hallops.server")

T = TypeVar("T")

# (hall after the command, its events, the job) -> the reply payload; a module-level function
ReplyBuilder = Callable[[Hall, "tuple[Event, ...]", "Job", datetime], "dict[str, Any]"]
# (hall before the command, the job) -> False to skip the command; raises HallError to refuse it
Guard = Callable[[Hall, "Job"], bool]


@dataclass(frozen=True, kw_only=True)
class Job:
    """One command for the writer, as immutable data: the typed core command, who acts, the
    sender's view (``viewer``: role, window, scope, for access guards and reply views), a
    guard run on the state just before the command and the builder of the reply."""

    command: c.Command
    actor: c.Actor = c.SYSTEM
    viewer: Any = None
    guard: Guard | None = None
    reply: ReplyBuilder | None = None

    def arg(self, name: str) -> Any:
        """A field of the command (guards and replies are shared by several command types)."""
        return getattr(self.command, name)


@dataclass(frozen=True)
class Outcome:
    """What a committed command produced: the reply payload and its events."""

    reply: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Read(Generic[T]):
    """A read of committed state: ``fn(hall, now, *args)``, run between batches."""

    fn: Callable[..., T]
    args: tuple[Any, ...] = ()


@dataclass(eq=False)
class _Item:
    work: Job | Read[Any]
    future: asyncio.Future[Any]


class Writer:
    def __init__(
        self,
        store: Store,
        fanout: Fanout,
        clock: Callable[[], datetime],
        rebuild: Callable[[], Awaitable[Hall]],
        *,
        max_batch: int = 64,
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.fanout = fanout
        self.clock = clock
        self._rebuild = rebuild
        self.max_batch = max_batch
        self._hall: Hall | None = None
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._hall = await self._rebuild()
        # The loaded state lives as long as the server: move it out of the collector's sight,
        # so that no full collection walks it again while commands wait (issue 17).
        gc.collect()
        gc.freeze()
        self._task = asyncio.create_task(self._loop(), name="hallops-writer")

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the writer (for /metrics)."""
        return self._queue.qsize()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def hall(self) -> Hall | None:
        """The hall the writer owns, for inspection by tests only (between batches it is the
        committed state). Request handlers never use it: they go through ``apply``/``read``."""
        return self._hall

    async def apply(self, job: Job) -> Outcome:
        """Run one command; its outcome once it is committed (or its HallError)."""
        outcome: Outcome = await self._put(job)
        return outcome

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(hall, now, *args)`` on committed state, between batches."""
        value: T = await self._put(Read(fn, args))
        return value

    async def _put(self, work: Job | Read[Any]) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Item(work, fut))
        return await fut

    # ------------------------------------------------------------------ the loop

    async def _loop(self) -> None:
        while True:
            first = await self._queue.get()
            items = [first]
            while isinstance(first.work, Job) and len(items) < self.max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                items.append(nxt)
                if isinstance(nxt.work, Read):
                    break
            jobs = [i for i in items if isinstance(i.work, Job)]
            if jobs:
                await self._run_batch(jobs)
            for item in items:
                if isinstance(item.work, Read):
                    self._run_read(item)

    def _run_read(self, item: _Item) -> None:
        assert self._hall is not None and isinstance(item.work, Read)
        try:
            item.future.set_result(item.work.fn(self._hall, self.clock(), *item.work.args))
        except Exception as exc:
            item.future.set_exception(exc)

    async def _run_batch(self, items: list[_Item]) -> None:
        hall = self._hall
        assert hall is not None
        now = self.clock()
        events: list[Event] = []
        results: list[tuple[_Item, Outcome | HallError]] = []
        for item in items:
            job = item.work
            assert isinstance(job, Job)
            try:
                if job.guard is not None and not job.guard(hall, job):
                    results.append((item, Outcome()))
                    continue
                produced = tuple(hall.handle(job.command, now, job.actor))
                events.extend(produced)
                reply = job.reply(hall, produced, job, now) if job.reply is not None else {}
                results.append((item, Outcome(MappingProxyType(reply), produced)))
            except HallError as err:
                events.extend(err.events)  # a day roll-over still stands
                results.append((item, err))
            except Exception as exc:
                # The core may have half-applied this command: drop the in-memory state,
                # fail this command, and run the rest of the batch again on rebuilt state.
                log.exception("command failed unexpectedly; rebuilding state from the database")
                hall.take_changes()
                self._hall = await self._rebuild()
                item.future.set_exception(exc)
                await self._run_batch([i for i in items if i is not item])
                return
        batch = batch_for(hall, events)
        if batch.has_writes:
            t0 = time.perf_counter()
            try:
                await self.store.commit(batch)
            except Exception as exc:
                if self.metrics is not None:
                    self.metrics.failed_commits.inc()
                log.exception("commit failed; rebuilding state from the database")
                self._hall = await self._rebuild()
                failed = HallError("storage_failed", f"the database refused the change: {exc}")
                for item, _ in results:
                    if not item.future.done():
                        item.future.set_exception(failed)
                return
            if self.metrics is not None:
                self.metrics.commit_seconds.observe(time.perf_counter() - t0)
                self.metrics.batch_commands.observe(len(items))
        # committed: now the outcomes may leave, and the events be announced
        for item, result in results:
            if item.future.done():
                continue
            if isinstance(result, Outcome):
                item.future.set_result(result)
            else:
                item.future.set_exception(result)
        if events:
            await self._publish(hall, events, now)

    async def _publish(self, hall: Hall, events: list[Event], now: datetime) -> None:
        # Let the senders' replies go out first; then announce, one event at a time,
        # yielding between events so a long batch never blocks the loop for long.
        await asyncio.sleep(0)
        views: dict[str, dict[str, Any] | None] = {}

        def ticket_view(tid: str) -> dict[str, Any] | None:
            if tid not in views:
                views[tid] = hall.ticket_view(tid, now)
            return views[tid]

        metrics = self.metrics
        for i, ev in enumerate(events):
            if metrics is not None:
                metrics.pending_events.set(len(events) - i)
            t0 = time.perf_counter()
            self.fanout.publish([hall.describe(ev, now)], ticket_view=ticket_view)
            views.clear()
            if metrics is not None:
                metrics.publish_seconds.observe(time.perf_counter() - t0)
            if len(events) > 1:
                await asyncio.sleep(0)
        if metrics is not None:
            metrics.pending_events.set(0)
