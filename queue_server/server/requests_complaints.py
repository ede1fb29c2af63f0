"""The request entries of complaints (投诉/纠纷) and of the management's reassignment of a 差评,
registered into ``registry.py`` with the others (``ENTRIES``), and their reads and replies.

Who may: any staff records a complaint (现场 at a window, 电话 or 12345 in the back office,
办不成事 at its window); the management (its back office) or a manager assigns and reassigns;
the owner's back office or a manager handles, replies and closes; a manager sends 督办. The
complainant's name and phone are shown in full only to the owner's back office and managers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..hall import commands as c
from ..hall.cases import department_matches
from ..hall.errors import HallError
from ..hall.events import ComplaintReceived, Event
from ..hall.hall import Hall
from ..hall.model import Complaint
from ..hall.responsibility import catalogue
from . import commands as run
from . import visibility
from .context import Client, ServerContext, Viewer
from .protocol import BACKOFFICE, CASE_STAFF, MANAGER
from .schema import Field, command_fields
from .spec import Request, Values
from .writer import Job, ReplyBuilder

# ---------------------------------------------------------------------- views and replies


def complaint_detail(viewer: Viewer, hall: Hall, k: Complaint, now: datetime) -> dict[str, Any]:
    """The complaint with its complainant as the visibility table lets ``viewer`` see it: in
    full only for the owner's back office and managers (staff sessions, not device tokens)."""
    view = hall.complaint_view(k, now)
    own = viewer.role == "backoffice" and department_matches(viewer.scope, k.owner_department)
    aud = visibility.audience(viewer, own_department=own)
    raw = {"name": k.complainant_name, "phone": k.complainant_phone}
    view["complainant"] = visibility.applicant_view("get_complaint", aud, raw)
    return view


def complaint_reply(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    cid = getattr(job.command, "complaint", None)
    if cid is None:
        cid = next(e.complaint_id for e in events if isinstance(e, ComplaintReceived))
    k = hall.complaints.get(cid)
    return {"complaint": complaint_detail(job.viewer, hall, k, now)} if k else {}


# ---------------------------------------------------------------------- reads


def _scope(viewer: Viewer, department: str | None) -> str | None:
    if viewer.scope is None:
        return department
    if department is not None and not department_matches(viewer.scope, department):
        raise HallError(
            "not_your_department", f"the back office of {viewer.scope} sees its own complaints only"
        )
    return viewer.scope


def _listing(
    hall: Hall, now: datetime, viewer: Viewer, department: str | None, open_only: bool, overdue_only: bool
) -> list[dict[str, Any]]:
    rows = hall.list_complaints(now, department=department, open_only=open_only, overdue_only=overdue_only)
    return [complaint_detail(viewer, hall, hall.complaints[v["id"]], now) for v in rows]


async def list_complaints(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    viewer = ctx.viewer(client)
    department = _scope(viewer, v.get("department"))
    rows = await ctx.writer.read(
        _listing, viewer, department, bool(v.get("open_only", False)), bool(v.get("overdue_only", False))
    )
    return {
        "complaints": rows,
        "department": department,
        "due_soon_hours": ctx.config.rules.due_soon_hours,
        "categories": catalogue(ctx.config),
        "management": ctx.config.management,
        "channels": {ch.value: name for ch, name in c.COMPLAINT_CHANNEL_NAMES.items()},
    }


def _one(hall: Hall, now: datetime, viewer: Viewer, cid: int) -> dict[str, Any]:
    k = hall.complaint(cid)
    if viewer.scope is not None and not department_matches(viewer.scope, k.owner_department):
        raise HallError("not_your_department", f"complaint {cid} belongs to {k.owner_department}")
    return complaint_detail(viewer, hall, k, now)


async def get_complaint(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    return {"complaint": await ctx.writer.read(_one, ctx.viewer(client), v["complaint"])}


# ---------------------------------------------------------------------- entries


def _command(
    type_: str,
    cls: type,
    roles: frozenset[str],
    summary: str,
    *,
    reply: ReplyBuilder,
    server: tuple[str, ...] = ("scope",),
    limits: Mapping[str, int] | None = None,
) -> Request:
    return Request(
        type=type_,
        summary=summary,
        roles=roles,
        handler=run.run,
        command=cls,
        fields=command_fields(cls, server=server, limits=limits),
        reply=reply,
    )


def _rectification(hall: Hall, events: tuple[Event, ...], job: Job, now: datetime) -> dict[str, Any]:
    r = hall.rectifications.get(job.arg("rectification"))
    return {"rectification": hall.rectification_view(r, now)} if r else {}


_TEXT = {
    "content": 1000,
    "handling": 1000,
    "reply": 1000,
    "reason": 500,
    "note": 500,
    "department": 64,
    "category": 100,
    "hotline_ref": 40,
    "matter_code": 20,
    "hotline_due": 10,
    "responsible": 20,
    "channel": 16,
}

ENTRIES: tuple[Request, ...] = (
    _command(
        "reassign_rectification",
        c.ReassignRectification,
        BACKOFFICE,
        "The management (or a manager) gives a 差评 loop to another owner, with the reason.",
        reply=_rectification,
        limits=_TEXT,
    ),
    _command(
        "receive_complaint",
        c.ReceiveComplaint,
        CASE_STAFF,
        "Record a complaint (投诉/纠纷): channel, category from the catalogue (or free text), complainant.",
        reply=complaint_reply,
        server=(),
        limits=_TEXT,
    ),
    _command(
        "assign_complaint",
        c.AssignComplaint,
        BACKOFFICE,
        "分办 a triaged complaint to its owner, or reassign it (reason required): the management or a manager.",
        reply=complaint_reply,
        limits=_TEXT,
    ),
    _command(
        "handle_complaint",
        c.HandleComplaint,
        BACKOFFICE,
        "The owner records what was done.",
        reply=complaint_reply,
        limits=_TEXT,
    ),
    _command(
        "reply_complaint",
        c.ReplyComplaint,
        BACKOFFICE,
        "The owner replied to the complainant (12345: 反馈 to the platform).",
        reply=complaint_reply,
        limits=_TEXT,
    ),
    _command(
        "close_complaint",
        c.CloseComplaint,
        BACKOFFICE,
        "Close with the complainant's satisfaction (1–5).",
        reply=complaint_reply,
        limits=_TEXT,
    ),
    _command(
        "remind_complaint",
        c.RemindComplaint,
        MANAGER,
        "督办: a manager's reminder to the owner, recorded.",
        reply=complaint_reply,
        server=(),
        limits=_TEXT,
    ),
    Request(
        type="list_complaints",
        summary="Complaints of a department (the back office: its own), soonest due "
        "first; open_only, overdue_only (the overdue list).",
        roles=visibility.roles_of("list_complaints"),
        handler=list_complaints,
        fields=(
            Field("department", str, required=False, max_len=64),
            Field("open_only", bool, required=False),
            Field("overdue_only", bool, required=False),
        ),
    ),
    Request(
        type="get_complaint",
        summary="One complaint by id.",
        roles=visibility.roles_of("get_complaint"),
        handler=get_complaint,
        fields=(Field("complaint", int),),
    ),
)
