"""Device and session tokens (random, shown once, stored only as a hash), password checks off
the event loop, the login rate limit and the lifetime of staff sessions."""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dtime

from ..hall.config import HallConfig
from ..passwords import hash_password, verify_password
from .protocol import ProtocolError


class RateLimited(ProtocolError):
    """``rate_limited``, with the seconds to wait (sent as ``retry_after_s``)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__("rate_limited", message)
        self.retry_after_s = retry_after_s


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# ---------------------------------------------------------------------- passwords

# One thread hashes: scrypt (about 65 ms, 16 MiB) never runs on the event loop, and however
# many logins arrive at once, at most one core hashes while the loop keeps the other.
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hallops-scrypt")
_DUMMY: list[str] = []  # the hash an unknown user is checked against (made once, lazily)


def _check(password: str, stored: str | None) -> bool:
    if stored is None:  # an unknown user costs what a wrong password costs
        if not _DUMMY:
            _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
        verify_password(password, _DUMMY[0])
        return False
    return verify_password(password, stored)


async def check_password(password: str, stored: str | None) -> bool:
    """``verify_password`` in the hashing thread; ``stored`` None (no such user) hashes a
    dummy so the answer takes as long as for a known user."""
    return await asyncio.get_running_loop().run_in_executor(_HASHER, _check, password, stored)


# ---------------------------------------------------------------------- the login rate limit

LOOPBACK = frozenset({"127.0.0.1", "::1"})  # a proxy on this machine forwards the real address


@dataclass
class _Tries:
    count: int = 0
    last: float = 0.0


class LoginGuard:
    """Failed logins per user name and per address. The first ``login_attempts // 2``
    failures cost nothing (2 by default); then each waits twice as long as the one before
    (1 s, 2 s, ...), and after ``rules.login_attempts`` failures the key is locked for
    ``rules.login_lockout_s``. An address gets four times as many of each (several staff
    share a terminal, or a proxy). A success clears the user's count and takes back its own
    attempt from the address's; a key with no failure for the lockout time is forgotten. An
    attempt counts as failed from its start (so concurrent guesses cannot run ahead of the
    count)."""

    ADDRESS_FACTOR = (
        4  # loopback (the server's own machine: the simulator, a local tool) has no address limit
    )
    MAX_KEYS = 50_000

    def __init__(self, attempts: int, lockout_s: int) -> None:
        self.attempts = attempts
        self.lockout_s = lockout_s
        self._tries: dict[str, _Tries] = {}

    def _factor(self, key: str) -> int:
        return self.ADDRESS_FACTOR if key.startswith("addr:") else 1

    def _limit(self, key: str) -> int:
        return self.attempts * self._factor(key)

    def _wait(self, key: str, now: float) -> float:
        t = self._tries.get(key)
        if t is None:
            return 0.0
        if now - t.last > self.lockout_s:
            del self._tries[key]
            return 0.0
        if t.count >= self._limit(key):
            due = self.lockout_s
        elif t.count > (free := max(1, self.attempts // 2) * self._factor(key)):
            due = min(self.lockout_s, 2 ** (t.count - free - 1))
        else:
            return 0.0
        return max(0.0, t.last + due - now)

    def begin(self, user: str, address: str) -> int:
        """Seconds to wait before this login may be tried (0: go on, counted as a failure
        until ``success``)."""
        now = time.monotonic()
        keys = (f"user:{user}",) if address in LOOPBACK else (f"user:{user}", f"addr:{address}")
        wait = max(self._wait(k, now) for k in keys)
        if wait > 0:
            return math.ceil(wait)
        if len(self._tries) >= self.MAX_KEYS:
            self._tries = {k: v for k, v in self._tries.items() if now - v.last <= self.lockout_s}
        for k in keys:
            t = self._tries.setdefault(k, _Tries())
            t.count += 1
            t.last = now
        return 0

    def failed(self, user: str, address: str) -> None:
        """The attempt failed: its wait counts from now (hashing may have taken a while)."""
        now = time.monotonic()
        for k in (f"user:{user}", f"addr:{address}"):
            if k in self._tries:
                self._tries[k].last = now

    def success(self, user: str, address: str) -> None:
        """The user's count is cleared; the address's loses only this attempt (one valid
        account must not reset the count of guesses at others from the same address)."""
        self._tries.pop(f"user:{user}", None)
        t = self._tries.get(f"addr:{address}")
        if t is not None:
            t.count = max(0, t.count - 1)


# ---------------------------------------------------------------------- session lifetime


def session_expiry(config: HallConfig, created: datetime) -> datetime:
    """When a staff session made at ``created`` (hall time) ends: ``rules.session_hours``
    later, or by default at the close of business of that day (at midnight when it was
    made after the close)."""
    if config.rules.session_hours > 0:
        return created + timedelta(hours=config.rules.session_hours)
    close = datetime.combine(created.date(), config.close_of_business, created.tzinfo)
    if created < close:
        return close
    return datetime.combine(created.date() + timedelta(days=1), dtime(0, 0), created.tzinfo)


class Sessions:
    """The staff sessions this server knows: when each ends, and the users a manager cut
    off (their tokens made before that instant are refused). Device tokens never expire
    (they are revoked by hand); staff tokens end at ``session_expiry``."""

    def __init__(self, config: HallConfig) -> None:
        self.config = config
        self.guard = LoginGuard(config.rules.login_attempts, config.rules.login_lockout_s)
        self.ends: dict[str, tuple[str, datetime, int | None]] = {}  # token hash -> (username, end, window)
        self.cut_off: dict[str, datetime] = {}  # username -> sessions made before are void

    def start(self, token_hash: str, username: str, created: datetime, window: int | None = None) -> datetime:
        end = session_expiry(self.config, created)
        self.ends[token_hash] = (username, end, window)
        return end

    def valid(self, token_hash: str, username: str, created: datetime, now: datetime) -> bool:
        """Whether a staff token made at ``created`` still opens a session at ``now``."""
        cut = self.cut_off.get(username)
        if cut is not None and created <= cut:
            return False
        known = self.ends.get(token_hash)
        end = known[1] if known is not None else session_expiry(self.config, created)
        return now < end

    def expired(self, now: datetime) -> list[str]:
        """The token hashes whose sessions have ended by ``now`` (forgotten here)."""
        gone = [h for h, (_, end, _) in self.ends.items() if now >= end]
        for h in gone:
            del self.ends[h]
        return gone

    def of_user(self, username: str) -> list[str]:
        return [h for h, (u, _, _) in self.ends.items() if u == username]

    def forget(self, token_hash: str) -> None:
        self.ends.pop(token_hash, None)
