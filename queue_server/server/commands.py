"""Running a core command for a request: the sender's checks, the typed command, the writer.

``run`` is the handler of every command entry of the registry. What varies between
commands is data on their entry: ``checks`` (on the sender, before the writer), ``build``
(fields the server fills in), ``guard`` (on the state, inside the writer, just before the
command) and ``reply``. The functions here are those pieces.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections import deque
from typing import Any

from ..hall import commands as c
from ..hall.errors import HallError
from ..hall.hall import Hall
from .context import Client, ServerContext, Viewer
from .protocol import ProtocolError
from .spec import Request
from .writer import Job


async def run(ctx: ServerContext, client: Client, req: Request, values: dict[str, Any]) -> dict[str, Any]:
    viewer = ctx.viewer(client)
    for check in req.checks:
        check(ctx, client, viewer, values)
    assert req.command is not None
    cmd = req.build(viewer, values) if req.build is not None else default_build(req.command, viewer, values)
    outcome = await ctx.writer.apply(
        Job(command=cmd, actor=viewer.actor, viewer=viewer, guard=req.guard, reply=req.reply)
    )
    return dict(outcome.reply)


def default_build(cls: type, viewer: Viewer, values: dict[str, Any]) -> Any:
    """The command from the decoded fields; ``scope`` (when it has one) from the sender."""
    if any(f.name == "scope" for f in dataclasses.fields(cls)):
        return cls(**values, scope=viewer.scope)
    return cls(**values)


# ---------------------------------------------------------------------- checks (sender only)


def own_window(ctx: ServerContext, client: Client, viewer: Viewer, values: dict[str, Any]) -> None:
    """A window terminal acts only on its own window."""
    window = values.get("window")
    if window is not None and viewer.role == "window" and viewer.window != window:
        raise ProtocolError("not_your_window", f"this terminal works at window {viewer.window}, not {window}")


def window_names_its_window(
    ctx: ServerContext, client: Client, viewer: Viewer, values: dict[str, Any]
) -> None:
    """decide_case and deliver_case from a window say which window (unless sent by post)."""
    if (
        viewer.role == "window"
        and values.get("window") is None
        and getattr(values.get("method"), "value", None) != "post"
    ):
        kind = "deliver_case" if "method" in values else "decide_case"
        raise ProtocolError("missing_field", f"{kind} from a window needs its window")


def kiosk_rate(ctx: ServerContext, client: Client, viewer: Viewer, values: dict[str, Any]) -> None:
    """A kiosk issues at most ``rules.issue_rate_per_min`` tickets a minute, per token (so
    reconnecting does not reset the count)."""
    if viewer.role != "kiosk":
        return
    recent: deque[float] = ctx.issued_by_kiosk.setdefault(client.token_hash or "", deque())
    limit = ctx.config.rules.issue_rate_per_min
    now_m = time.monotonic()
    while recent and now_m - recent[0] > 60:
        recent.popleft()
    if len(recent) >= limit:
        raise ProtocolError(
            "rate_limited", f"this kiosk may issue {limit} tickets a minute; try again shortly"
        )
    recent.append(now_m)


def pad_bound(ctx: ServerContext, client: Client, viewer: Viewer, values: dict[str, Any]) -> None:
    if viewer.role == "rating_pad" and viewer.window is None:
        raise ProtocolError("not_your_window", "this rating pad is not bound to a window")


def appeal_by_staff(ctx: ServerContext, client: Client, viewer: Viewer, values: dict[str, Any]) -> None:
    if viewer.role == "window" and viewer.actor.kind != "staff":
        raise ProtocolError("forbidden", "an appeal comes from the staff member rated, not from a device")


# ---------------------------------------------------------------------- builds (server-filled fields)


def build_issue(viewer: Viewer, values: dict[str, Any]) -> c.IssueTicket:
    return c.IssueTicket(**values, status_token=secrets.token_urlsafe(16))


def build_rating(viewer: Viewer, values: dict[str, Any]) -> c.RateService:
    """From a rating pad: the ticket it shows, for its own window; from a status page: its token."""
    if viewer.role == "rating_pad":
        if values.get("status_token") is not None or not values.get("ticket"):
            raise ProtocolError("invalid_field", "a rating pad sends the ticket it shows, no ticket_token")
        return c.RateService(**values, window=viewer.window)
    if not values.get("status_token") or values.get("ticket") is not None:
        raise ProtocolError("invalid_field", "a status page rates with its ticket_token (and no ticket)")
    return c.RateService(**values)


def build_appeal(viewer: Viewer, values: dict[str, Any]) -> c.AppealRating:
    staff = viewer.actor.id if viewer.role == "window" and viewer.actor.kind == "staff" else ""
    return c.AppealRating(**values, staff=staff, scope=viewer.scope)


# ---------------------------------------------------------------------- guards (in the writer)


def own_ticket(hall: Hall, job: Job) -> bool:
    """A window may touch the ticket at its counter or tickets of the queues it serves; a
    transfer's target window must exist."""
    viewer = job.viewer
    if viewer.role == "window":
        t = hall.find_ticket(job.arg("ticket"))
        wcfg = hall.config.window(viewer.window or 0)
        served = {wq.queue for wq in wcfg.queues} if wcfg else set()
        mine = (t.active and t.window == viewer.window) or (
            not t.active and (t.queue in served or t.target_window == viewer.window)
        )
        if not mine:
            raise HallError("not_your_window", f"{t.number} is not at or for window {viewer.window}")
    to_window = getattr(job.command, "to_window", None)
    if to_window is not None:
        hall.window(to_window)
    return True


def own_rating(hall: Hall, job: Job) -> bool:
    """A window resolves on the spot only a rating of its own window."""
    viewer = job.viewer
    if viewer.role == "window":
        r = hall.rectification(job.arg("rectification"))
        if r.window != viewer.window:
            raise HallError("not_your_window", f"rectification {r.id} is about window {r.window}")
    return True
