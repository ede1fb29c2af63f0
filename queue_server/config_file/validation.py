"""Check a parsed TOML document table by table into a ``HallConfig``, collecting every problem."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, get_type_hints
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server import passwords
from queue_server.hall.config import (
    HallConfig,
    QueueConfig,
    QueueKind,
    Rules,
    StaffAccount,
    StaffRole,
    WindowConfig,
    WindowQueue,
)

from .fields import FieldChecker, Hours
from .problems import ConfigProblem, quote
from .reasons import parse_reasons
from .schema import (
    HALL_CODE,
    HALL_KEYS,
    HOST_NAME,
    MISSING,
    PLAIN_PASSWORD,
    QUEUE_CODE,
    QUEUE_KEYS,
    RULE_MINIMUM,
    SCHEMA_VERSION,
    STAFF_KEYS,
    TOP_KEYS,
    USERNAME,
    WINDOW_KEYS,
    WINDOW_QUEUE_KEYS,
    ConfigPath,
    field_defaults,
)


def parse_hall_config(
    data: dict[str, Any], *, source_text: str | None = None
) -> tuple[HallConfig | None, list[ConfigProblem]]:
    """Check a parsed TOML document; return the config (None if any problem) and all problems.

    With ``source_text`` (the TOML text ``data`` came from) each problem gets a line number,
    and problems are sorted by line.
    """
    checker = _Checker()
    config = checker.run(data)
    problems = checker.problems(source_text)
    return (None if problems else config), problems


class _Checker(FieldChecker):
    """The checks of each table of the document."""

    def __init__(self) -> None:
        super().__init__()
        self._hall_hours: Hours | None = None

    def run(self, data: object) -> HallConfig | None:
        if not isinstance(data, dict):
            self.expect((), "a TOML document (a table)", data)
            return None
        self.keys(data, (), TOP_KEYS)
        self.schema_version(data)
        hall = self.hall(data.get("hall", MISSING))
        rules = self.rules(data.get("rules", MISSING))
        queues, codes = self.queues(data, self._hall_hours)
        windows, served, any_window = self.windows(data, codes)
        staff = self.staff(data)
        reasons = parse_reasons(self, data)
        if any_window:
            for code, i in codes.items():
                if code not in served:
                    self.problem(("queues", i), f'no window serves queue "{code}"')
        if self.count or hall is None:
            return None
        return HallConfig(
            **hall,
            queues=tuple(queues),
            windows=tuple(windows),
            staff=tuple(staff),
            rules=rules,
            reasons=reasons,
        )

    def schema_version(self, data: dict[str, Any]) -> None:
        if "schema_version" not in data:
            self.problem(
                (), f"missing schema_version; put schema_version = {SCHEMA_VERSION} at the top of the file"
            )
            return
        version = self.integer(data, "schema_version", ())
        if version is not None and version != SCHEMA_VERSION:
            self.problem(
                ("schema_version",),
                f"unsupported schema_version {version}; this HallOps reads version {SCHEMA_VERSION}",
            )

    def hall(self, value: object) -> dict[str, Any] | None:
        path: ConfigPath = ("hall",)
        if value is MISSING:
            self.problem((), "missing [hall] table")
            return None
        tbl = self.table(value, path)
        if tbl is None:
            return None
        before = self.count
        defaults = field_defaults(HallConfig)
        self.keys(tbl, path, HALL_KEYS, required=("code", "name", "hours"))
        out: dict[str, Any] = {}

        code = self.string(tbl, "code", path)
        if code is not None and not HALL_CODE.fullmatch(code):
            self.problem(
                path + ("code",),
                f"hall code {quote(code)} must be lowercase letters, digits and '-' "
                '(at most 40), e.g. "demo-county"',
            )
        out["code"] = code
        out["name"] = self.string(tbl, "name", path, nonempty=True)

        tz = self.string(tbl, "timezone", path, default=defaults["timezone"], nonempty=True)
        if tz is not None:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                self.problem(
                    path + ("timezone",),
                    f'unknown timezone {quote(tz)}; use an IANA name such as "Asia/Shanghai"',
                )
        out["timezone"] = tz
        out["close_of_business"] = self.close_of_business(tbl, path, defaults["close_of_business"])
        out["notice"] = self.string(tbl, "notice", path, default=defaults["notice"])
        out["allowed_origins"] = self.origins(tbl, path)
        out["require_display_token"] = self.boolean(
            tbl, "require_display_token", path, default=defaults["require_display_token"]
        )
        public_url = self.string(tbl, "public_url", path, default="")
        if public_url:
            problem = _origin_problem(public_url)
            if problem:
                self.problem(path + ("public_url",), problem.replace("origin", "public_url", 1))
                public_url = None
        out["public_url"] = public_url
        out["management"] = self.string(
            tbl, "management", path, default=defaults["management"], nonempty=True
        )
        out["allowed_hosts"] = self.hosts(tbl, path)
        parsed = self.hours(tbl["hours"], path + ("hours",)) if "hours" in tbl else None
        self._hall_hours = parsed
        if parsed is not None and parsed.ok and not any(parsed.week.days):
            self.problem(
                path + ("hours",),
                "the hall is closed every day; give at least one opening interval",
            )
        hours = parsed.week if parsed is not None and parsed.ok else None
        out["hours"] = hours
        return out if self.count == before else {"hours": hours}

    def close_of_business(self, tbl: dict[str, Any], path: ConfigPath, default: dt.time) -> dt.time | None:
        key = "close_of_business"
        if key not in tbl:
            return default
        value = tbl[key]
        if isinstance(value, dt.time):  # an unquoted TOML local time, 17:30:00
            if value.second or value.microsecond or value.tzinfo:
                self.problem(path + (key,), f'write {key} as "HH:MM", e.g. "17:30"')
                return None
            return value
        if not isinstance(value, str):
            self.expect(path + (key,), 'a time "HH:MM"', value)
            return None
        minutes = self.clock(value, path + (key,), allow_24=False)
        return None if minutes is None else dt.time(minutes // 60, minutes % 60)

    def origins(self, tbl: dict[str, Any], path: ConfigPath) -> tuple[str, ...] | None:
        origins = self.string_list(tbl, "allowed_origins", path, what="origin")
        if origins is None:
            return None
        before = self.count
        for i, origin in enumerate(origins):
            problem = _origin_problem(origin)
            if problem:
                self.problem(path + ("allowed_origins", i), problem)
        return origins if self.count == before else None

    def hosts(self, tbl: dict[str, Any], path: ConfigPath) -> tuple[str, ...] | None:
        hosts = self.string_list(tbl, "allowed_hosts", path, what="host name")
        if hosts is None:
            return None
        before = self.count
        for i, host in enumerate(hosts):
            if host != host.lower() or not HOST_NAME.fullmatch(host):
                self.problem(
                    path + ("allowed_hosts", i),
                    f"{quote(host)} is not a host name: write it in lowercase, without scheme or port,"
                    ' e.g. "hall.example.gov.cn" or "192.168.1.10"',
                )
        return hosts if self.count == before else None

    def rules(self, value: object) -> Rules:
        path: ConfigPath = ("rules",)
        if value is MISSING:
            return Rules()
        tbl = self.table(value, path)
        if tbl is None:
            return Rules()
        hints = get_type_hints(Rules)
        names = tuple(f.name for f in dataclasses.fields(Rules))
        self.keys(tbl, path, names)
        kwargs: dict[str, Any] = {}
        for name in names:
            if name not in tbl:
                continue
            kind = hints[name]
            parsed: Any
            if kind is bool:
                parsed = self.boolean(tbl, name, path)
            elif kind is int:
                parsed = self.integer(tbl, name, path, minimum=RULE_MINIMUM.get(name, 0))
            elif name == "ewma_alpha":
                parsed = self.number(tbl, name, path, above=0.0, at_most=1.0)
            else:
                parsed = self.number(tbl, name, path, above=0.0)
            if parsed is not None:
                kwargs[name] = parsed
        return Rules(**kwargs)

    def queues(
        self, data: dict[str, Any], hall_hours: Hours | None
    ) -> tuple[list[QueueConfig], dict[str, int]]:
        defaults = field_defaults(QueueConfig)
        queues: list[QueueConfig] = []
        codes: dict[str, int] = {}  # valid code -> index of its first [[queues]]
        tables = self.array_of_tables(
            data, "queues", required="the hall has no queues; add at least one [[queues]] table"
        )
        for i, tbl in tables:
            path: ConfigPath = ("queues", i)
            before = self.count
            self.keys(tbl, path, QUEUE_KEYS, required=("code", "name", "kind", "daily_cap"))
            code = self.string(tbl, "code", path)
            what = "this queue"
            if code is not None:
                if not QUEUE_CODE.fullmatch(code):
                    self.problem(
                        path + ("code",),
                        f'queue code {quote(code)} must be 1–2 uppercase letters A–Z, e.g. "B"',
                    )
                else:
                    self.label(path, f'code "{code}"')
                    what = f'queue "{code}"'
                    if code in codes:
                        self.problem(
                            path + ("code",),
                            f'duplicate queue code "{code}" (also queues[{codes[code]}])',
                        )
                    else:
                        codes[code] = i
            name = self.string(tbl, "name", path, nonempty=True)
            kind = self.enum(tbl, "kind", path, QueueKind)
            daily_cap = self.integer(tbl, "daily_cap", path, minimum=1)
            if daily_cap is not None and daily_cap > 999:
                self.problem(
                    path + ("daily_cap",),
                    f"daily_cap must be at most 999 (ticket numbers have 3 digits), got {daily_cap}",
                )
            hours = hall_hours.week if hall_hours is not None and hall_hours.ok else None
            if "hours" in tbl:
                own = self.hours(tbl["hours"], path + ("hours",))
                hours = own.week if own is not None and own.ok else None
                if own is not None and own.ok and not any(own.week.days):
                    self.problem(path + ("hours",), f"{what} is never open")
                elif own is not None and hall_hours is not None:
                    self.within_hall(own, hall_hours, path + ("hours",), what)
            department = self.string(tbl, "department", path, default=defaults["department"])
            service = self.number(
                tbl, "default_service_s", path, default=defaults["default_service_s"], above=0
            )
            alert_waiting = self.integer(
                tbl, "alert_waiting", path, default=defaults["alert_waiting"], minimum=0
            )
            alert_wait_min = self.integer(
                tbl, "alert_wait_min", path, default=defaults["alert_wait_min"], minimum=0
            )
            matters = self.string_list(tbl, "matters", path, what="matter code")
            # No new problem means every value parsed; the None checks only narrow the types.
            if (
                self.count == before
                and code is not None
                and name is not None
                and kind is not None
                and daily_cap is not None
                and hours is not None
                and department is not None
                and service is not None
                and alert_waiting is not None
                and alert_wait_min is not None
                and matters is not None
            ):
                queues.append(
                    QueueConfig(
                        code=code,
                        name=name,
                        kind=kind,
                        daily_cap=daily_cap,
                        hours=hours,
                        department=department,
                        default_service_s=service,
                        alert_waiting=alert_waiting,
                        alert_wait_min=alert_wait_min,
                        matters=matters,
                    )
                )
        return queues, codes

    def windows(
        self, data: dict[str, Any], codes: dict[str, int]
    ) -> tuple[list[WindowConfig], set[str], bool]:
        defaults = field_defaults(WindowConfig)
        windows: list[WindowConfig] = []
        served: set[str] = set()
        numbers: dict[int, int] = {}
        tables = self.array_of_tables(
            data, "windows", required="the hall has no windows; add at least one [[windows]] table"
        )
        for i, tbl in tables:
            path: ConfigPath = ("windows", i)
            before = self.count
            self.keys(tbl, path, WINDOW_KEYS, required=("number", "name", "kind", "zone", "queues"))
            number = self.integer(tbl, "number", path, minimum=1)
            who = "this window"
            if number is not None:
                self.label(path, f"number {number}")
                who = f"window {number}"
                if number in numbers:
                    self.problem(
                        path + ("number",),
                        f"duplicate window number {number} (also windows[{numbers[number]}])",
                    )
                else:
                    numbers[number] = i
            name = self.string(tbl, "name", path, nonempty=True)
            kind = self.enum(tbl, "kind", path, QueueKind)
            zone = self.string(tbl, "zone", path)
            department = self.string(tbl, "department", path, default=defaults["department"])
            accessible = self.boolean(tbl, "accessible", path, default=defaults["accessible"])
            entries = self.window_queues(tbl, path, who, codes, served)
            if (  # no new problem: every value parsed (the None checks narrow the types)
                self.count == before
                and number is not None
                and name is not None
                and kind is not None
                and zone is not None
                and entries is not None
                and department is not None
                and accessible is not None
            ):
                windows.append(
                    WindowConfig(
                        number=number,
                        name=name,
                        kind=kind,
                        zone=zone,
                        queues=entries,
                        department=department,
                        accessible=accessible,
                    )
                )
        return windows, served, bool(tables)

    def window_queues(
        self,
        tbl: dict[str, Any],
        path: ConfigPath,
        who: str,
        codes: dict[str, int],
        served: set[str],
    ) -> tuple[WindowQueue, ...] | None:
        """The window's queue entries (None on a problem); adds known codes to ``served``."""
        if "queues" not in tbl:
            return None
        value = tbl["queues"]
        path = path + ("queues",)
        if not isinstance(value, list):
            self.expect(path, 'an array of queue codes or { queue = "A", weight = 1.0 } tables', value)
            return None
        if not value:
            self.problem(path, f"{who} serves no queue")
            return None
        before = self.count
        entries: list[WindowQueue] = []
        seen: dict[str, int] = {}
        for j, item in enumerate(value):
            item_path = path + (j,)
            code_path = item_path
            weight: float | None = 1.0
            if isinstance(item, str):
                code: str | None = item
            elif isinstance(item, dict):
                self.keys(item, item_path, WINDOW_QUEUE_KEYS, required=("queue",))
                code = self.string(item, "queue", item_path)
                code_path = item_path + ("queue",)
                weight = self.number(item, "weight", item_path, default=1.0, above=0)
            else:
                self.expect(item_path, 'a queue code or a table { queue = "A", weight = 1.0 }', item)
                continue
            if code is None:
                continue
            if code in seen:
                self.problem(code_path, f'{who} lists queue "{code}" twice (also queues[{seen[code]}])')
            elif code not in codes:
                self.problem(code_path, f"{who} serves unknown queue {quote(code)}")
            else:
                seen[code] = j
                served.add(code)
            if weight is not None:
                entries.append(WindowQueue(queue=code, weight=weight))
        return tuple(entries) if self.count == before else None

    def staff(self, data: dict[str, Any]) -> list[StaffAccount]:
        accounts: list[StaffAccount] = []
        usernames: dict[str, int] = {}
        for i, tbl in self.array_of_tables(data, "staff", required=None):
            path: ConfigPath = ("staff", i)
            before = self.count
            required = ["username", "name", "role"]
            if "password" not in tbl:
                required.append("password_hash")
            self.keys(tbl, path, STAFF_KEYS, required=required, special={"password": PLAIN_PASSWORD})
            username = self.string(tbl, "username", path)
            if username is not None:
                if not USERNAME.fullmatch(username):
                    self.problem(
                        path + ("username",),
                        f"username {quote(username)} must be ASCII letters, digits, '.', '_' or "
                        "'-' (at most 32, starting with a letter or digit)",
                    )
                else:
                    self.label(path, f'username "{username}"')
                    if username in usernames:
                        self.problem(
                            path + ("username",),
                            f'duplicate username "{username}" (also staff[{usernames[username]}])',
                        )
                    else:
                        usernames[username] = i
            name = self.string(tbl, "name", path, nonempty=True)
            role = self.enum(tbl, "role", path, StaffRole)
            department = self.string(tbl, "department", path, default="")
            password_hash = self.string(tbl, "password_hash", path)
            if password_hash is not None and not passwords.is_valid_hash(password_hash):
                self.problem(
                    path + ("password_hash",),
                    "not a valid scrypt hash (expected scrypt$16384$8$1$<salt>$<hash>); "
                    "make one with hallops hash-password",
                )
            if (  # no new problem: every value parsed (the None checks narrow the types)
                self.count == before
                and username is not None
                and name is not None
                and role is not None
                and password_hash is not None
                and department is not None
            ):
                accounts.append(
                    StaffAccount(
                        username=username,
                        name=name,
                        role=role,
                        password_hash=password_hash,
                        department=department,
                    )
                )
        return accounts


def _origin_problem(origin: str) -> str | None:
    """Why ``origin`` is not a browser origin ``scheme://host[:port]``, or None."""
    shape = 'an origin is scheme://host[:port] with no path, e.g. "http://127.0.0.1:8765"'
    if origin != origin.strip() or origin == "*":
        return f"bad origin {quote(origin)}: {shape}"
    try:
        parts = urlsplit(origin)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        return f"bad origin {quote(origin)}: {shape}"
    del port
    if parts.scheme not in ("http", "https"):
        return f"bad origin {quote(origin)}: the scheme must be http or https"
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return f"bad origin {quote(origin)}: {shape}"
    if parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")):
        return f"bad origin {quote(origin)}: no path or trailing slash; {shape}"
    if origin != origin.lower():
        return f"bad origin {quote(origin)}: write it in lower case, as browsers send it"
    return None
