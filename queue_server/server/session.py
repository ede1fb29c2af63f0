"""Session requests: ping, auth, login, logout, subscribe, resync."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from websockets.asyncio.server import ServerConnection

from .. import __version__
from ..hall import commands as c
from ..hall.config import StaffRole
from ..hall.errors import HallError
from ..hall.hall import Hall
from ..store.base import DeviceToken
from .auth import RateLimited, check_password, hash_token, new_token
from .context import Client, ServerContext
from .fanout import Fanout, Filter
from .protocol import STAFF_ROLES, ProtocolError
from .spec import Request, Values
from .writer import Job

RATE_LIMITED_PAUSE_S = 1.0


async def ping(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    return {"server_time": ctx.now().isoformat(), "clock_speed": ctx.clock_speed(), "version": __version__}


def become(ctx: ServerContext, client: Client, tok: DeviceToken, token_hash: str) -> None:
    client.role = tok.role
    client.window = tok.window
    client.token_hash = token_hash
    if tok.username:
        account = ctx.config.staff_account(tok.username)
        client.actor = c.Actor(kind="staff", id=tok.username, name=account.name if account else tok.name)
    else:
        client.actor = c.Actor(kind="device", id=tok.name, name=tok.name)


async def auth(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    token_hash = hash_token(v["token"])
    tok = await ctx.store.find_token(token_hash)
    if tok is None:
        raise ProtocolError("unauthenticated", "unknown or revoked token")
    if tok.username:  # a staff session: it ends (expiry, revoke_session)
        created = await _created_at(ctx, token_hash)
        if not ctx.sessions.valid(token_hash, tok.username, created, ctx.now()):
            await ctx.store.revoke_token(token_hash, ctx.now().isoformat())
            raise ProtocolError("unauthenticated", "the session has ended: log in again")
        if token_hash not in ctx.sessions.ends:
            ctx.sessions.start(token_hash, tok.username, created, tok.window)
    become(ctx, client, tok, token_hash)
    return {"role": client.role, "window": client.window, "name": tok.name}


async def _created_at(ctx: ServerContext, token_hash: str) -> datetime:
    """When a stored token was made (now, for a store that does not say)."""
    lookup = getattr(ctx.store, "token_created_at", None)
    stamp = await lookup(token_hash) if lookup is not None else None
    return datetime.fromisoformat(stamp).astimezone(ctx.tz) if stamp else ctx.now()


async def login(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    guard, address = ctx.sessions.guard, ctx.address(client)
    wait = guard.begin(v["username"], address)
    if wait:  # answered after a pause: a guesser's connection waits, the server does not work
        await asyncio.sleep(min(wait, RATE_LIMITED_PAUSE_S))
        raise RateLimited(f"too many failed logins: try again in {wait} s", wait)
    account = ctx.config.staff_account(v["username"])
    if (
        not await check_password(v["password"], account.password_hash if account is not None else None)
        or account is None
    ):
        guard.failed(v["username"], address)
        raise ProtocolError("unauthenticated", "wrong username or password")
    guard.success(v["username"], address)
    window = v.get("window")
    if account.role is StaffRole.WINDOW and window is None:
        raise ProtocolError("missing_field", "window staff must say which window they work at")
    role = account.role.value
    if (
        window is not None
    ):  # recorded at the window before the session exists (unknown_window: nothing written)
        actor = c.Actor(kind="staff", id=account.username, name=account.name)
        await ctx.writer.apply(
            Job(
                command=c.StaffLogin(window=window, username=account.username, name=account.name), actor=actor
            )
        )
        if role == StaffRole.BACKOFFICE.value:
            role = "window"
    token = new_token()
    tok = DeviceToken(role=role, window=window, name=account.name, username=account.username)
    now = ctx.now()
    await ctx.store.add_token(hash_token(token), tok, now.isoformat())
    if window is not None:  # the window changed hands: every other session's control of it ends
        await ctx.end_sessions(
            _window_sessions(ctx, window, account.username), "another staff member took the window"
        )
    old = client.token_hash if client.actor.kind == "staff" else None
    become(ctx, client, tok, hash_token(token))
    expires = ctx.sessions.start(hash_token(token), account.username, now, window)
    if old is not None:
        await ctx.end_sessions([old], "logged in again", keep=client)
    return {
        "token": token,
        "role": client.role,
        "window": window,
        "name": account.name,
        "expires_at": expires.isoformat(),
    }


def _window_sessions(ctx: ServerContext, window: int, username: str) -> list[str]:
    """Sessions to end when ``username`` takes ``window``: other staff's at that window, and
    the same user's at another window (the hall moved them)."""
    ended = []
    for h, (user, _, at) in ctx.sessions.ends.items():
        if at is not None and ((at == window and user != username) or (at != window and user == username)):
            ended.append(h)
    return ended


def _staff_still_there(hall: Hall, job: Job) -> bool:
    """A logout leaves the window only when this staff member is still the one there."""
    return hall.windows[job.arg("window")].staff == job.actor.id


async def logout(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    if client.window is not None and client.actor.kind == "staff":
        await ctx.writer.apply(
            Job(command=c.StaffLogout(window=client.window), actor=client.actor, guard=_staff_still_there)
        )
    if client.token_hash and client.actor.kind == "staff":  # every connection of this session ends
        await ctx.end_sessions([client.token_hash], "logged out", keep=client)
    client.role, client.window, client.token_hash = "anonymous", None, None
    client.actor = c.Actor(kind="anonymous", id="-")
    client.subscription = None
    return {}


# ---------------------------------------------------------------------- subscriptions


def _filter(ctx: ServerContext, client: Client, v: Values) -> Filter:
    """The subscription's filter from its fields; checks needing only the configuration."""
    token = v.get("ticket_token")
    if token is not None:
        return Filter(ticket_token=token)
    if ctx.config.require_display_token and client.role == "anonymous":
        raise ProtocolError("display_token_required", "this hall requires a display token: auth first")
    queues, windows, zone = v.get("queues"), v.get("windows"), v.get("zone")
    for q in queues or ():
        if ctx.config.queue(q) is None:
            raise ProtocolError("unknown_queue", f"no queue {q} in this hall")
    for w in windows or ():
        if ctx.config.window(w) is None:
            raise HallError("unknown_window", f"no window {w} in this hall")
    if zone is not None:
        zone_windows = [w for w in ctx.config.windows if w.zone == zone]
        if not zone_windows:
            raise ProtocolError("invalid_field", f"no window in zone {zone!r}")
        windows = tuple(sorted({*(windows or ()), *(w.number for w in zone_windows)}))
        queues = tuple(sorted({*(queues or ()), *(wq.queue for w in zone_windows for wq in w.queues)}))
    return Filter(
        queues=frozenset(queues) if queues is not None else None,
        windows=frozenset(windows) if windows is not None else None,
        staff=client.role in STAFF_ROLES,
    )


def _subscribe(
    hall: Hall, now: datetime, fanout: Fanout, conn: ServerConnection, flt: Filter, ticket_id: str | None
) -> str | None:
    """In the writer, between batches: the snapshot and joining the group happen together,
    so the subscriber's ``seq`` continues from its snapshot without a gap."""
    if flt.ticket_token is not None and ticket_id is None:
        t = hall.ticket_by_token(flt.ticket_token)
        if t is None:
            raise ProtocolError("unknown_ticket", "no ticket with that status token today")
        ticket_id = t.id
    fanout.subscribe(conn, flt, ticket_id, hall.public_state(now))
    return ticket_id


async def subscribe(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    flt = _filter(ctx, client, v)
    ticket_id = await ctx.writer.read(_subscribe, ctx.fanout, client.conn, flt, None)
    client.subscription = (flt, ticket_id)
    return {"subscribed": True}


async def resync(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    # never subscribed: the same checks as a plain subscribe (display token and all)
    flt, ticket_id = (
        client.subscription if client.subscription is not None else (_filter(ctx, client, {}), None)
    )
    client.subscription = (flt, await ctx.writer.read(_subscribe, ctx.fanout, client.conn, flt, ticket_id))
    return {"resynced": True}


async def revoke_session(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    """A manager ends every session of a staff member: open connections close, and tokens
    made until now (also those of this server's earlier runs) are refused."""
    username = v["username"]
    if ctx.config.staff_account(username) is None:
        raise ProtocolError("invalid_field", f"no staff account {username!r}")
    ctx.sessions.cut_off[username] = ctx.now()
    ended = await ctx.end_sessions(
        ctx.sessions.of_user(username),
        "the session was revoked by a manager",
        keep=client if client.actor.id == username else None,
    )
    return {"username": username, "connections_closed": ended}
