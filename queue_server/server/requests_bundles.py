"""The requests of 集成服务 (issue 16): a second 补正 notice (only when the material list
changed), 帮办 and 代办. ``registry.py`` adds ``ENTRIES`` to its table; each has its section in
docs/protocol.md. A bundle needs no request of its own: ``accept_case`` with a 一件事 matter
opens its parts, ``decide_case`` on a part moves the others, ``deliver_case`` on the bundle
hands out everything (统一出件)."""

from __future__ import annotations

from typing import Any

from ..hall import commands as c
from . import commands as run
from . import replies
from .context import Client, ServerContext
from .protocol import AGENT, STAFF, ProtocolError
from .schema import command_fields
from .spec import Request, Values
from .writer import Job


async def submit_for_citizen(
    ctx: ServerContext, client: Client, req: Request, values: Values
) -> dict[str, Any]:
    """代办: the 代办员's service point is the department of its staff account."""
    viewer = ctx.viewer(client)
    account = ctx.config.staff_account(viewer.actor.id)
    if account is None or not account.department:
        raise ProtocolError("forbidden", "a 代办员 account names its service point (department)")
    cmd = c.SubmitForCitizen(**values, agent_point=account.department)
    outcome = await ctx.writer.apply(Job(command=cmd, actor=viewer.actor, viewer=viewer, reply=req.reply))
    return dict(outcome.reply)


ENTRIES: tuple[Request, ...] = (
    Request(
        type="reissue_notice",
        summary="A second 补正 notice for a 补正 case: only when the matter's material "
        "list changed since the first (一次告知).",
        roles=STAFF,
        handler=run.run,
        command=c.ReissueNotice,
        fields=command_fields(c.ReissueNotice, server=()),
        checks=(run.own_window,),
        reply=replies.case,
    ),
    Request(
        type="assist_case",
        summary="帮办: a named hall helper accompanies the citizen through an open case "
        "(and the parts of a 一件事).",
        roles=STAFF,
        handler=run.run,
        command=c.AssistCase,
        fields=command_fields(c.AssistCase, server=(), limits={"helper": 64, "helper_name": 64}),
        reply=replies.case,
    ),
    Request(
        type="submit_for_citizen",
        summary="代办: a 代办员 submits a case (or a 一件事) for a citizen, who makes no visit.",
        roles=AGENT,
        handler=submit_for_citizen,
        command=c.SubmitForCitizen,
        fields=command_fields(c.SubmitForCitizen, server=("agent_point",), limits={"deficiency_item": 64}),
        reply=replies.case,
    ),
)
