"""Read requests: answered from committed state only.

Reads of the hall run in the writer between batches (``writer.read``); rows the hall no
longer holds (a case finished on an earlier day) come from the store's read connection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..hall import commands as c
from ..hall.cases import department_matches
from ..hall.errors import HallError
from ..hall.hall import Hall
from ..hall.model import Case
from ..hall.ratings import SCORES as RATING_LEVELS
from ..hall.responsibility import catalogue
from .context import Client, ServerContext, Viewer
from .protocol import ProtocolError
from .replies import case_detail, ticket_detail
from .spec import Request, Values


def _ticket(hall: Hall, now: datetime, viewer: Viewer, ref: str) -> dict[str, Any]:
    return ticket_detail(viewer, hall.find_ticket(ref))


async def get_ticket(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    return {"ticket": await ctx.writer.read(_ticket, ctx.viewer(client), v["ticket"])}


# ---------------------------------------------------------------------- cases (办件)


async def list_matters(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    linked: dict[str, list[str]] = {}
    for q in ctx.config.queues:
        for code in q.matters:
            linked.setdefault(code, []).append(q.code)
    matters = [
        {
            "code": m.code,
            "name": m.name,
            "department": m.department,
            "field": m.field,
            "window_kind": str(m.window_kind),
            "case_type": str(m.case_type),
            "promised_working_days": m.promised_working_days,
            "statutory_working_days": m.statutory_working_days,
            "one_window": m.one_window,
            "queues": linked.get(m.code, []),
            "materials": [
                {
                    "name": x.name,
                    "form": x.form,
                    "copies": x.copies,
                    "deferrable": x.deferrable,
                    "stand_in": x.stand_in,
                }
                for x in getattr(m, "materials", ())
            ],
            "parts": [
                {"matter": p.matter, "share_working_days": p.share_working_days, "after": list(p.after)}
                for p in getattr(m, "parts", ())
            ],
        }
        for m in (ctx.matters or {}).values()
    ]
    return {"matters": matters, "suspension_reasons": list(c.SUSPENSION_REASONS)}


def _case_held(hall: Hall, now: datetime, viewer: Viewer, receipt: str) -> dict[str, Any] | None:
    case = hall.cases.get(receipt)
    return case_detail(viewer, hall, case, now) if case else None


def _case_of_row(hall: Hall, now: datetime, viewer: Viewer, row: dict[str, Any]) -> dict[str, Any]:
    return case_detail(viewer, hall, Case.from_row(row), now)


async def get_case(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    receipt = v["receipt_no"].strip().upper()
    viewer = ctx.viewer(client)
    view = await ctx.writer.read(_case_held, viewer, receipt)
    if view is None:  # a case finished on an earlier day: from the database
        row = await ctx.store.find_case(receipt)
        if row is None:
            raise HallError("unknown_case", f"no case {receipt}")
        view = await ctx.writer.read(_case_of_row, viewer, row)
    return {"case": view}


def _department(viewer: Viewer, department: str | None, what: str) -> str | None:
    """The back office sees its own department only; others name one or see all."""
    if viewer.scope is None:
        return department
    if department is not None and not department_matches(viewer.scope, department):
        raise HallError("not_your_department", f"the back office of {viewer.scope} sees its own {what} only")
    return viewer.scope


def _cases(hall: Hall, now: datetime, department: str | None, states: tuple[str, ...] | None) -> list[Any]:
    return hall.list_cases(now, department=department, states=states)


async def list_cases(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    department = _department(ctx.viewer(client), v.get("department"), "cases")
    cases = await ctx.writer.read(_cases, department, v.get("states"))
    return {"cases": cases, "department": department, "due_soon_hours": ctx.config.rules.due_soon_hours}


# ---------------------------------------------------------------------- 好差评


def _rating_choices(ctx: ServerContext) -> dict[str, Any]:
    """The levels and the hall's reason catalogue, each reason with its responsible party."""
    return {
        "levels": {str(k): v for k, v in RATING_LEVELS.items()},
        "reasons": catalogue(ctx.config),
        "management": ctx.config.management,
    }


def _rateable(hall: Hall, now: datetime, window: int) -> dict[str, Any] | None:
    return hall.rateable_service(window, now)


async def get_rateable_service(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    window = client.window
    if window is None:
        raise ProtocolError("not_your_window", "this rating pad is not bound to a window")
    return {"window": window, "service": await ctx.writer.read(_rateable, window), **_rating_choices(ctx)}


def _rating_status(hall: Hall, now: datetime, token: str) -> dict[str, Any]:
    return hall.rating_status(token)


async def get_rating(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    return {"rating": await ctx.writer.read(_rating_status, v["ticket_token"]), **_rating_choices(ctx)}


def _rectifications(hall: Hall, now: datetime, department: str | None, open_only: bool) -> list[Any]:
    return hall.list_rectifications(now, department=department, open_only=open_only)


async def list_rectifications(ctx: ServerContext, client: Client, req: Request, v: Values) -> dict[str, Any]:
    department = _department(ctx.viewer(client), v.get("department"), "rectifications")
    rows = await ctx.writer.read(_rectifications, department, bool(v.get("open_only", False)))
    return {
        "rectifications": rows,
        "department": department,
        "due_soon_hours": ctx.config.rules.due_soon_hours,
    }
