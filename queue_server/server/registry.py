"""Every request type, defined once.

Each ``Request`` entry says: the wire type, what it does (its summary), who may send it,
its payload schema, and how it runs: a session or read handler, or a core command with
its checks, guard and reply. The parser (``validate``), the role checks, the dispatcher of
``app.py`` and the docs test read this table and nothing else.

Adding a command: one entry here (the schema comes from its dataclass in
``hall/commands.py``), one ``### `type` `` section in docs/protocol.md, its tests
(docs/architecture.md, "How to add a command").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ..hall import commands as c
from . import commands as run
from . import reads, replies, requests_bundles, requests_complaints, session
from .context import Client, ServerContext, Viewer
from .protocol import (
    BACKOFFICE,
    CASE_STAFF,
    EVERYONE,
    ISSUERS,
    MANAGER,
    RATERS,
    STAFF,
    ProtocolError,
)
from .schema import Field, check, check_text, command_fields, encode, integers, strings
from .spec import Check, Request
from .visibility import roles_of
from .writer import Guard, ReplyBuilder


def within_booking_horizon(
    ctx: ServerContext, client: Client, viewer: Viewer, values: dict[str, Any]
) -> None:
    """An appointment slot is today or later, at most ``rules.booking_horizon_days`` ahead."""
    slot = values.get("appointment_slot")
    if slot is None:
        return
    today = ctx.now().date()
    horizon = ctx.config.rules.booking_horizon_days
    if not today <= slot.astimezone(ctx.tz).date() <= today + timedelta(days=horizon):
        raise ProtocolError(
            "invalid_field", f"appointment_slot must be between today and {horizon} days ahead"
        )


def _command(
    type_: str,
    cls: type,
    roles: frozenset[str],
    summary: str,
    *,
    reply: ReplyBuilder,
    checks: tuple[Check, ...] = (),
    guard: Guard | None = None,
    build: Any = None,
    server: tuple[str, ...] = ("scope",),
    wire: Mapping[str, str] | None = None,
    limits: Mapping[str, int] | None = None,
) -> Request:
    return Request(
        type=type_,
        summary=summary,
        roles=roles,
        handler=run.run,
        command=cls,
        fields=command_fields(cls, server=server, wire=wire, limits=limits),
        checks=checks,
        build=build,
        guard=guard,
        reply=reply,
    )


def _request(type_: str, roles: frozenset[str], summary: str, handler: Any, *fields: Field) -> Request:
    return Request(type=type_, summary=summary, roles=roles, fields=fields, handler=handler)


_TICKET = Field("ticket", str, max_len=40)
_RECEIPT = Field("receipt_no", str, max_len=40)
_DEPARTMENT = Field("department", str, required=False, max_len=64)
_OWN_WINDOW = (run.own_window,)

_window: dict[str, Any] = {"reply": replies.window_and_ticket, "checks": _OWN_WINDOW}
_ticket: dict[str, Any] = {"reply": replies.ticket, "guard": run.own_ticket}
_case: dict[str, Any] = {"reply": replies.case, "checks": _OWN_WINDOW}
_rect: dict[str, Any] = {"reply": replies.rectification}

_ENTRIES: tuple[Request, ...] = (
    # ------------------------------------------------------------------ session
    _request("ping", EVERYONE, "Liveness check; answered with ok.", session.ping),
    _request(
        "login",
        EVERYONE,
        "Staff login with username and password; optional window to work at.",
        session.login,
        Field("username", str, max_len=64),
        Field("password", str, max_len=256),
        Field("window", int, required=False),
    ),
    _request(
        "logout",
        frozenset({"window", "backoffice", "manager"}),
        "End the staff session (and leave the window).",
        session.logout,
    ),
    _request(
        "auth",
        EVERYONE,
        "Authenticate with a device or session token.",
        session.auth,
        Field("token", str, max_len=128),
    ),
    _request(
        "subscribe",
        EVERYONE,
        "Receive a snapshot, then events; optional filter.",
        session.subscribe,
        Field("zone", str, required=False, max_len=40),
        Field(
            "queues",
            list,
            required=False,
            max_len=50,
            decode=strings("queues", max_len=4096, what="queue codes"),
        ),
        Field(
            "windows", list, required=False, max_len=200, decode=integers("windows", what="window numbers")
        ),
        Field("ticket_token", str, required=False, max_len=64),
    ),
    _request(
        "revoke_session",
        MANAGER,
        "End every session of a staff member (their connections close).",
        session.revoke_session,
        Field("username", str, max_len=64),
    ),
    _request("resync", EVERYONE, "Ask for a fresh snapshot after a gap in seq.", session.resync),
    # ------------------------------------------------------------------ tickets and windows
    _request(
        "get_ticket",
        roles_of("get_ticket"),
        "Details of one ticket (full applicant data only at its own window).",
        reads.get_ticket,
        _TICKET,
    ),
    _command(
        "issue_ticket",
        c.IssueTicket,
        ISSUERS,
        "Issue a ticket (取号).",
        reply=replies.issued,
        checks=(within_booking_horizon, run.kiosk_rate),
        build=run.build_issue,
        server=("status_token",),
    ),
    _command("check_in", c.CheckIn, ISSUERS, "Check in an appointment ticket booked ahead.", **_ticket),
    _command("call_next", c.CallNext, STAFF, "Call the next ticket at a window.", **_window),
    _command(
        "call_ticket",
        c.CallTicket,
        STAFF,
        "Call a specific ticket out of order (reason recorded).",
        **_window,
    ),
    _command("recall", c.Recall, STAFF, "Call the ticket at the window again.", **_window),
    _command(
        "start_service",
        c.StartService,
        STAFF,
        "The citizen arrived at the counter: service starts.",
        **_window,
    ),
    _command("finish_service", c.FinishService, STAFF, "Service done.", **_window),
    _command("no_show", c.NoShow, STAFF, "The called citizen did not come (过号).", **_window),
    _command("reactivate", c.Reactivate, STAFF, "Put a no-show ticket back in line (same day).", **_ticket),
    _command(
        "transfer", c.Transfer, STAFF, "Send a ticket to another queue and/or a named window.", **_ticket
    ),
    _command("cancel_ticket", c.CancelTicket, STAFF, "Cancel a waiting or called ticket.", **_ticket),
    _command("open_window", c.OpenWindow, STAFF, "Open a window for service.", **_window),
    _command(
        "pause_window",
        c.PauseWindow,
        STAFF,
        "Pause a window (reason required, shown as 暂停服务).",
        **_window,
    ),
    _command("resume_window", c.ResumeWindow, STAFF, "Resume a paused window.", **_window),
    _command("close_window", c.CloseWindow, STAFF, "Close a window.", **_window),
    # ------------------------------------------------------------------ cases (办件)
    _request(
        "list_matters",
        roles_of("list_matters"),
        "The matter catalogue, with the hall's queues that accept each matter.",
        reads.list_matters,
    ),
    _command(
        "accept_case",
        c.AcceptCase,
        STAFF,
        "受理 (or 容缺受理 with a missing item) during the service at the window.",
        **_case,
    ),
    _command(
        "reject_case",
        c.RejectCase,
        STAFF,
        "不予受理 with a reason: a new case, or a 补正 case by receipt number.",
        limits={"reason": 500},
        **_case,
    ),
    _command(
        "request_materials",
        c.RequestMaterials,
        STAFF,
        "补正: one notice listing every missing material; the clock does not start.",
        **_case,
    ),
    _command(
        "resume_case",
        c.ResumeCase,
        STAFF,
        "The materials of a 补正 case are complete: 受理 at any window, during a service.",
        **_case,
    ),
    _command(
        "supply_materials",
        c.SupplyMaterials,
        CASE_STAFF,
        "The missing item of a 容缺 case was supplied.",
        **_case,
    ),
    _command("start_review", c.StartReview, BACKOFFICE, "The back office starts reviewing a case.", **_case),
    _command(
        "suspend_case",
        c.SuspendCase,
        BACKOFFICE,
        "Suspend for 听证、招标、拍卖、检验、检测、检疫、鉴定 or 专家评审 (the clock pauses).",
        limits={"reason": 10},
        **_case,
    ),
    _command(
        "resume_review", c.ResumeReview, BACKOFFICE, "End the suspension; the clock runs again.", **_case
    ),
    _command(
        "extend_case",
        c.ExtendCase,
        BACKOFFICE,
        "延期: once, before the deadline, with a reason and working days.",
        limits={"reason": 500},
        **_case,
    ),
    _command(
        "decide_case",
        c.DecideCase,
        CASE_STAFF,
        "办结: approve or disapprove (a 即办件 at its window, on the spot).",
        reply=replies.case,
        checks=(run.own_window, run.window_names_its_window),
    ),
    _command(
        "deliver_case",
        c.DeliverCase,
        CASE_STAFF,
        "出件: at the 出件 window serving the citizen's ticket, or by post.",
        limits={"note": 200},
        reply=replies.case,
        checks=(run.own_window, run.window_names_its_window),
    ),
    _request("get_case", roles_of("get_case"), "One case by receipt number.", reads.get_case, _RECEIPT),
    _request(
        "list_cases",
        roles_of("list_cases"),
        "Cases of a department (the back office: its own), soonest due first.",
        reads.list_cases,
        _DEPARTMENT,
        Field("states", list, required=False, max_len=10, decode=strings("states", what="case states")),
    ),
    # ------------------------------------------------------------------ 好差评
    _request(
        "get_rateable_service",
        roles_of("get_rateable_service"),
        "The service a window's rating pad may rate now.",
        reads.get_rateable_service,
    ),
    _request(
        "get_rating",
        roles_of("get_rating"),
        "The rating of the status page's own ticket (and whether a 追评 is possible).",
        reads.get_rating,
        Field("ticket_token", str, max_len=64),
    ),
    _command(
        "rate_service",
        c.RateService,
        RATERS,
        "Rate a service 1–5: the pad its window's last service, a status page its ticket.",
        reply=replies.rating,
        checks=(run.pad_bound,),
        build=run.build_rating,
        server=("window",),
        wire={"status_token": "ticket_token"},
    ),
    _command(
        "follow_up_rating",
        c.FollowUpRating,
        frozenset({"anonymous"}),
        "追评: once, after the 差评 was rectified.",
        reply=replies.follow_up,
        wire={"status_token": "ticket_token"},
    ),
    _request(
        "list_rectifications",
        roles_of("list_rectifications"),
        "差评 rectifications with their due instants (the back office: its own).",
        reads.list_rectifications,
        _DEPARTMENT,
        Field("open_only", bool, required=False),
    ),
    _command("contact_rater", c.ContactRater, BACKOFFICE, "核实: the rater was contacted (note).", **_rect),
    _command("rectify", c.Rectify, BACKOFFICE, "整改 done and reported back (measures).", **_rect),
    _command(
        "revisit", c.Revisit, BACKOFFICE, "回访: the rater's satisfaction (1–5); closes the loop.", **_rect
    ),
    _command(
        "resolve_on_the_spot",
        c.ResolveOnTheSpot,
        CASE_STAFF,
        "当场解决: closes the loop at once.",
        guard=run.own_rating,
        **_rect,
    ),
    _command(
        "explain_rating",
        c.ExplainRating,
        BACKOFFICE,
        "解释说明: the demand has no legal basis; closes the loop.",
        **_rect,
    ),
    _command(
        "appeal_rating",
        c.AppealRating,
        CASE_STAFF,
        "申诉 against a malicious or mistaken rating (the staff member rated, their back office or a manager).",
        checks=(run.appeal_by_staff,),
        build=run.build_appeal,
        server=("staff", "scope"),
        limits={"reason": 500},
        **_rect,
    ),
    _command(
        "decide_appeal",
        c.DecideAppeal,
        MANAGER,
        "A manager upholds (rating excluded from the figures) or rejects an appeal.",
        limits={"decision": 10},
        **_rect,
    ),
)

_ENTRIES += requests_complaints.ENTRIES  # complaints, and the management's reassignment of a 差评
_ENTRIES += requests_bundles.ENTRIES  # 集成服务 (issue 16)

REQUESTS: dict[str, Request] = {r.type: r for r in _ENTRIES}
assert len(REQUESTS) == len(_ENTRIES), "a request type is defined twice"
BY_COMMAND: dict[type, Request] = {r.command: r for r in _ENTRIES if r.command is not None}


def to_message(cmd: Any) -> dict[str, Any]:
    """The request (without ``id``) that asks for the typed core command ``cmd``: for clients
    written in Python (the simulator's live mode, benchmarks). Fields the server fills in
    (``scope``, a kiosk's ``status_token``, ...) are not sent."""
    req = BY_COMMAND.get(type(cmd))
    if req is None:
        raise TypeError(f"no request type for {type(cmd).__name__}")
    return {"type": req.type, **encode(cmd, req.fields)}


def validate(msg: Mapping[str, Any], role: str) -> Request:
    """The request's definition, once its type, fields and the sender's role are checked."""
    check_text(msg)
    mtype = msg.get("type")
    if not isinstance(mtype, str) or not mtype:
        raise ProtocolError("missing_type", "a request needs a type")
    req = REQUESTS.get(mtype)
    if req is None:
        raise ProtocolError("unknown_type", f"unknown request type {mtype!r}")
    check(mtype, msg, req.fields)
    if role not in req.roles:
        raise ProtocolError("forbidden", f"a {role} client may not send {mtype}")
    return req
