"""Staffing plans: which window is staffed when, serving which queues.

The default plan is the hall config's: every window is staffed whenever one of its queues
is open. A what-if plan (``hallops simulate --plan FILE``) changes that with a small TOML
file; the format is documented in docs/simulator.md::

    name = "two extra 无差别综合 windows in the morning peak"
    base = "config"          # or "none": only what the entries below open

    [[windows]]              # extra windows, not in the hall config
    number = 21
    queues = ["A"]

    [[shifts]]               # staffed [from, to), optionally serving other queues
    windows = [21, 22]
    from = "09:00"
    to = "11:00"
    queues = ["A"]           # optional: what the windows serve during the shift
    days = ["mon", "tue"]    # optional: weekdays (default every day)

    [[closed]]               # not staffed [from, to)
    windows = [3]
    from = "14:00"
    to = "17:30"

A window that serves other queues during a shift (window 5, 税务, serving A from 9 to 11)
becomes a separate window of the simulated hall (number 105, "5号窗口(临时: A)"): its staff
member logs out of 5 and into 105 for the shift, as a terminal would, so the hall core and
its estimate see exactly which queues each open window serves.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..hall.config import WEEKDAYS, HallConfig, QueueKind, WindowConfig, WindowQueue

OWN = ()  # assignment: the window's own queues


class PlanError(ValueError):
    pass


@dataclass(frozen=True, kw_only=True)
class Rule:
    windows: tuple[int, ...]
    start_min: int
    end_min: int
    queues: tuple[str, ...] | None = None
    days: frozenset[int] = frozenset(range(7))


@dataclass(frozen=True, kw_only=True)
class Session:
    """One stretch of a desk at one (possibly logical) window."""

    start_min: int
    end_min: int
    window: int  # the window number in the simulated hall's config
    queues: tuple[str, ...]
    drain: bool  # the queues close at the end: serve everyone left before leaving


@dataclass(frozen=True, kw_only=True)
class StaffingPlan:
    name: str = "config"
    base: bool = True
    extra_windows: tuple[WindowConfig, ...] = ()
    shifts: tuple[Rule, ...] = ()
    closed: tuple[Rule, ...] = ()
    logical: dict[tuple[int, tuple[str, ...]], int] = field(default_factory=dict)
    _cache: dict[tuple[HallConfig, int], dict[int, list[Session]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def hall_config(self, config: HallConfig) -> HallConfig:
        """The config of the simulated hall: extra and logical windows added."""
        windows = list(config.windows) + list(self.extra_windows)
        by_number = {w.number: w for w in windows}
        for (physical, queues), number in sorted(self.logical.items(), key=lambda kv: kv[1]):
            base = by_number[physical]
            kinds = [q.kind for q in config.queues if q.code in queues]
            windows.append(
                WindowConfig(
                    number=number,
                    name=f"{physical}号窗口(临时: {'/'.join(queues)})",
                    kind=kinds[0] if kinds else base.kind,
                    zone=base.zone,
                    queues=tuple(WindowQueue(queue=q) for q in queues),
                    department=base.department,
                    accessible=base.accessible,
                )
            )
        return dataclasses.replace(config, windows=tuple(windows))

    def desks(self, config: HallConfig) -> list[int]:
        """The physical windows (one staff member each), in number order. ``config`` may be
        the hall's or the simulated one (logical windows are not desks)."""
        logical = set(self.logical.values())
        return sorted(({w.number for w in config.windows} | {w.number for w in self.extra_windows}) - logical)

    def sessions(self, config: HallConfig, day: date) -> dict[int, list[Session]]:
        """Physical window → the day's sessions, in time order (they depend on the weekday only)."""
        key = (config, day.weekday())
        if key not in self._cache:
            self._cache[key] = self._sessions(config, day.weekday())
        return {n: list(ss) for n, ss in self._cache[key].items()}

    def _sessions(self, config: HallConfig, wd: int) -> dict[int, list[Session]]:
        queues = {q.code: q for q in config.queues}
        all_windows = {w.number: w for w in config.windows} | {w.number: w for w in self.extra_windows}

        def open_at(codes: tuple[str, ...], minute: int) -> bool:
            return any(queues[c].hours.is_open(wd, minute) for c in codes if c in queues)

        extra = {w.number for w in self.extra_windows}
        out: dict[int, list[Session]] = {}
        for number in self.desks(config):
            wcfg = all_windows[number]
            own = tuple(wq.queue for wq in wcfg.queues)
            line: list[tuple[str, ...] | None] = [None] * 1440
            if self.base and number not in extra:
                for m in range(1440):
                    if open_at(own, m):
                        line[m] = OWN
            for rule in self.closed:
                if number in rule.windows and wd in rule.days:
                    for m in range(rule.start_min, rule.end_min):
                        line[m] = None
            for rule in self.shifts:
                if number in rule.windows and wd in rule.days:
                    shift = OWN if rule.queues is None or rule.queues == own else rule.queues
                    for m in range(rule.start_min, rule.end_min):
                        line[m] = shift
            sessions: list[Session] = []
            m = 0
            while m < 1440:
                assign = line[m]
                if assign is None:
                    m += 1
                    continue
                start = m
                while m < 1440 and line[m] == assign:
                    m += 1
                served = own if assign == OWN else assign
                window = number if assign == OWN else self.logical[(number, assign)]
                sessions.append(
                    Session(
                        start_min=start,
                        end_min=m,
                        window=window,
                        queues=served,
                        drain=not open_at(served, m) if m < 1440 else True,
                    )
                )
            if sessions:
                out[number] = sessions
        return out


def desk_accounts(config: HallConfig, numbers: list[int]) -> dict[int, tuple[str, str]]:
    """Physical window → (username, name) of the staff member working there.

    ``w05`` / ``w5`` when the config has such a window account, else the window accounts
    not yet used in config order, else a made-up ``sim-<n>`` (fine for the core, which does
    not check accounts; the live demo uses a window token for those)."""
    window_accounts = [s for s in config.staff if s.role.value == "window"]
    by_name = {s.username: s for s in window_accounts}
    out: dict[int, tuple[str, str]] = {}
    used: set[str] = set()
    for n in numbers:
        for name in (f"w{n:02d}", f"w{n}"):
            if name in by_name and name not in used:
                out[n] = (name, by_name[name].name)
                used.add(name)
                break
    spare = [s for s in window_accounts if s.username not in used]
    for n in numbers:
        if n not in out:
            if spare:
                s = spare.pop(0)
                out[n] = (s.username, s.name)
            else:
                out[n] = (f"sim-{n}", f"{n}号窗口")
    return out


DEFAULT_PLAN = StaffingPlan()


def load_plan(path: Path, config: HallConfig) -> StaffingPlan:
    try:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise PlanError(f"{path}: cannot read the plan: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{path}: not valid TOML: {exc}") from None
    return parse_plan(data, config, source=str(path))


def parse_plan(data: dict[str, Any], config: HallConfig, *, source: str = "plan") -> StaffingPlan:
    problems: list[str] = []
    known = {"name", "base", "windows", "shifts", "closed"}
    for key in sorted(set(data) - known):
        problems.append(f"unknown key {key!r} (known: {', '.join(sorted(known))})")
    base = data.get("base", "config")
    if base not in ("config", "none"):
        problems.append('base must be "config" or "none"')
    queue_kinds = {q.code: q.kind for q in config.queues}
    config_numbers = {w.number for w in config.windows}

    extra: list[WindowConfig] = []
    for i, w in enumerate(data.get("windows", [])):
        where = f"windows[{i}]"
        number = w.get("number")
        qs = w.get("queues")
        if not isinstance(number, int) or number <= 0:
            problems.append(f"{where}: number must be a positive integer")
            continue
        if number in config_numbers or any(x.number == number for x in extra):
            problems.append(f"{where}: window {number} already exists")
            continue
        if not isinstance(qs, list) or not qs or not all(q in queue_kinds for q in qs):
            problems.append(
                f"{where}: queues must list queue codes of this hall ({', '.join(sorted(queue_kinds))})"
            )
            continue
        kind_text = w.get("kind")
        kinds = {k.value: k for k in QueueKind}
        if kind_text is not None and kind_text not in kinds:
            problems.append(f"{where}: kind must be one of {', '.join(kinds)}")
            continue
        extra.append(
            WindowConfig(
                number=number,
                name=w.get("name", f"{number}号窗口(临时)"),
                kind=kinds[kind_text] if kind_text else queue_kinds[qs[0]],
                zone=w.get("zone", "临时"),
                queues=tuple(WindowQueue(queue=q) for q in qs),
            )
        )
    numbers = config_numbers | {w.number for w in extra}

    def rules(key: str, with_queues: bool) -> list[Rule]:
        out = []
        for i, r in enumerate(data.get(key, [])):
            where = f"{key}[{i}]"
            wins = r.get("windows")
            if not isinstance(wins, list) or not wins or not all(isinstance(n, int) for n in wins):
                problems.append(f"{where}: windows must be a list of window numbers")
                continue
            missing = [n for n in wins if n not in numbers]
            if missing:
                problems.append(f"{where}: no window {', '.join(map(str, missing))} in the hall or the plan")
                continue
            start, end = (
                _minute(r.get("from"), f"{where}.from", problems),
                _minute(r.get("to"), f"{where}.to", problems),
            )
            if start is None or end is None:
                continue
            if end <= start:
                problems.append(f"{where}: to must be after from")
                continue
            qs = r.get("queues")
            if qs is not None:
                if not with_queues:
                    problems.append(f"{where}: closed takes no queues")
                    continue
                if not isinstance(qs, list) or not qs or not all(q in queue_kinds for q in qs):
                    problems.append(f"{where}: queues must list queue codes of this hall")
                    continue
            days = r.get("days", list(WEEKDAYS))
            if not isinstance(days, list) or not all(d in WEEKDAYS for d in days):
                problems.append(f"{where}: days must list {', '.join(WEEKDAYS)}")
                continue
            for k in sorted(set(r) - {"windows", "from", "to", "queues", "days"}):
                problems.append(f"{where}: unknown key {k!r}")
            out.append(
                Rule(
                    windows=tuple(wins),
                    start_min=start,
                    end_min=end,
                    queues=tuple(qs) if qs is not None else None,
                    days=frozenset(WEEKDAYS.index(d) for d in days),
                )
            )
        return out

    shifts = rules("shifts", True)
    closed = rules("closed", False)
    if problems:
        raise PlanError(f"{source}: invalid staffing plan:\n  " + "\n  ".join(problems))

    own = {w.number: tuple(wq.queue for wq in w.queues) for w in (*config.windows, *extra)}
    logical: dict[tuple[int, tuple[str, ...]], int] = {}
    taken = set(numbers)
    for rule in shifts:
        if rule.queues is None:
            continue
        for n in rule.windows:
            window_queues = (n, rule.queues)
            if rule.queues == own[n] or window_queues in logical:
                continue
            number = n + 100
            while number in taken:
                number += 100
            taken.add(number)
            logical[window_queues] = number
    return StaffingPlan(
        name=str(data.get("name", Path(source).stem)),
        base=base == "config",
        extra_windows=tuple(extra),
        shifts=tuple(shifts),
        closed=tuple(closed),
        logical=logical,
    )


def _minute(text: Any, where: str, problems: list[str]) -> int | None:
    if not isinstance(text, str):
        problems.append(f'{where}: must be a time "HH:MM"')
        return None
    hh, sep, mm = text.partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or not (0 <= int(hh) <= 24 and 0 <= int(mm) < 60):
        problems.append(f'{where}: {text!r} is not a time "HH:MM"')
        return None
    value = int(hh) * 60 + int(mm)
    if value > 1440:
        problems.append(f"{where}: {text!r} is after 24:00")
        return None
    return value
