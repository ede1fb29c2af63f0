"""Session requests: ping, auth, login, logout, subscribe, resync."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from websockets.asyncio.server import ServerConnection

from .. import __version__
from ..hall import commands as c
from ..hall.config import StaffRole
from ..hall.errors import HallError
from ..hall.hall import Hall
from ..passwords import verify_password
from ..store.base import DeviceToken
from .auth import hash_token, new_token
from .context import Client, ServerContext
from .fanout import Fanout, Filter
from .protocol import STAFF_ROLES, ProtocolError
from .spec import Request, Values
from .writer import Job


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
    become(ctx, client, tok, token_hash)
    return {"role": client.role, "window": client.window, "name": tok.name}


async def login(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    account = ctx.config.staff_account(v["username"])
    if account is None or not verify_password(v["password"], account.password_hash):
        raise ProtocolError("unauthenticated", "wrong username or password")
    window = v.get("window")
    if account.role is StaffRole.WINDOW and window is None:
        raise ProtocolError("missing_field", "window staff must say which window they work at")
    role = account.role.value
    if window is not None:  # recorded at the window before the session exists (unknown_window: nothing written)
        actor = c.Actor(kind="staff", id=account.username, name=account.name)
        await ctx.writer.apply(Job(command=c.StaffLogin(window=window, username=account.username, name=account.name),
                                   actor=actor))
        if role == StaffRole.BACKOFFICE.value:
            role = "window"
    token = new_token()
    tok = DeviceToken(role=role, window=window, name=account.name, username=account.username)
    await ctx.store.add_token(hash_token(token), tok, ctx.now().isoformat())
    become(ctx, client, tok, hash_token(token))
    return {"token": token, "role": client.role, "window": window, "name": account.name}


def _staff_still_there(hall: Hall, job: Job) -> bool:
    """A logout leaves the window only when this staff member is still the one there."""
    return hall.windows[job.arg("window")].staff == job.actor.id


async def logout(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    if client.window is not None and client.actor.kind == "staff":
        await ctx.writer.apply(Job(command=c.StaffLogout(window=client.window), actor=client.actor,
                                   guard=_staff_still_there))
    if client.token_hash and client.actor.kind == "staff":
        await ctx.store.revoke_token(client.token_hash, ctx.now().isoformat())
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
    return Filter(queues=frozenset(queues) if queues is not None else None,
                  windows=frozenset(windows) if windows is not None else None,
                  staff=client.role in STAFF_ROLES)


def _subscribe(hall: Hall, now: datetime, fanout: Fanout, conn: ServerConnection, flt: Filter,
               ticket_id: str | None) -> str | None:
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
    flt, ticket_id = client.subscription if client.subscription is not None else (_filter(ctx, client, {}), None)
    client.subscription = (flt, await ctx.writer.read(_subscribe, ctx.fanout, client.conn, flt, ticket_id))
    return {"resynced": True}
