"""Commands and steps of 集成服务 (issue 16): fanning a 一件事 bundle out to its parts, moving
the parts on as each is decided, 统一出件; the one-time notice (一次告知); 帮办 and 代办.

``case_commands`` calls ``open_parts`` after a bundle's acceptance, ``part_decided`` after a
part's decision and ``deliver_parts`` after a bundle's delivery; the handlers of this module's
own commands are merged into its ``HANDLERS``. The states are ``states.CASE_TRANSITIONS``.

The rule for a refused part (documented in docs/rules.md): the parts that need its result end
(``withdrawn``), the other parts go on; the bundle is decided when every part is decided or
withdrawn — ``approved`` (all approved), ``disapproved`` (none) or ``partly_approved`` — and is
handed out once with every result and the written refusal of the refused part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from . import commands as c
from . import events as ev
from .bundles import parts_of
from .cases import Cases
from .errors import HallError
from .events import Event
from .model import Case, Ticket
from .states import CaseState as CS
from .states import TicketState as T
from .states import case_transition

_TEXT_MAX = 64


# ---------------------------------------------------------------------- materials (材料清单)


def check_missing(m: Any, names: Iterable[str]) -> None:
    """补正 items must be materials of the matter's list (when the catalogue has one)."""
    listed = {x.name for x in getattr(m, "materials", ())}
    if not listed:
        return
    unknown = [n for n in names if n not in listed]
    if unknown:
        raise HallError("unknown_material", f"not in the material list of {m.code}: {'、'.join(unknown)}")


def check_deferrable(m: Any, item: str) -> None:
    """容缺 accepts only a material the list marks as deferrable (when the catalogue has one)."""
    materials = getattr(m, "materials", ())
    if not item or not materials:
        return
    found = next((x for x in materials if x.name == item), None)
    if found is None:
        raise HallError("unknown_material", f"{item} is not in the material list of {m.code}")
    if not found.deferrable:
        raise HallError("not_deferrable", f"{item} may not be supplied later (容缺): it is required at 受理")


# ---------------------------------------------------------------------- bundles (一件事)


def open_parts(k: Cases, bundle: Case, m: Any, now: datetime, a: str, out: list[Event]) -> None:
    """统一受理、按责转办: one part per component matter, each routed to its department; parts
    without inputs start now (并联审批), the others wait for theirs."""
    for p in m.parts:
        pm = k.matters[p.matter]
        receipt, seq = k.next_receipt(now)
        waiting = bool(p.after)
        due, provisional = (None, False) if waiting else k.due_for_new(p.share_working_days, now)
        k.emit(
            out,
            ev.PartOpened(
                at=now,
                actor=a,
                ticket=bundle.ticket,
                window=bundle.window,
                receipt_no=receipt,
                bundle_receipt=bundle.receipt_no,
                seq=seq,
                matter_code=pm.code,
                matter_name=pm.name,
                department=pm.department,
                field=pm.field,
                case_type=str(pm.case_type),
                window_kind=str(pm.window_kind),
                one_window=bool(pm.one_window),
                promised_working_days=int(pm.promised_working_days),
                share_working_days=p.share_working_days,
                after=tuple(p.after),
                waiting=waiting,
                due_at=due,
                provisional=provisional,
                ticket_number=bundle.ticket_number,
                applicant_name=bundle.applicant_name,
                applicant_phone=bundle.applicant_phone,
                applicant_id=bundle.applicant_id,
            ),
        )


def part_decided(k: Cases, part: Case, now: datetime, a: str, out: list[Event]) -> None:
    """After a part's decision: release the parts whose inputs are now all approved, withdraw
    those whose input was refused (and theirs), and decide the bundle when no part is open."""
    assert part.bundle_receipt is not None
    bundle = k.cases[part.bundle_receipt]
    changed = True
    while changed:
        changed = False
        parts = parts_of(k.cases, bundle.receipt_no)
        by_matter = {p.matter_code: p for p in parts}
        for p in parts:
            if p.state is not CS.WAITING:
                continue
            inputs = [by_matter[x] for x in p.part_after if x in by_matter]
            refused = [
                x
                for x in inputs
                if x.state is CS.WITHDRAWN
                or (x.state in (CS.DECIDED, CS.COMPLETED) and x.decision == c.Decision.DISAPPROVED.value)
            ]
            if refused:
                k.emit(
                    out,
                    ev.PartWithdrawn(
                        at=now,
                        actor=a,
                        ticket=p.ticket,
                        window=p.window,
                        receipt_no=p.receipt_no,
                        bundle_receipt=bundle.receipt_no,
                        matter_code=p.matter_code,
                        reason=f"前序事项{refused[0].matter_name}未获批准",
                    ),
                )
                changed = True
            elif all(x.state in (CS.DECIDED, CS.COMPLETED) for x in inputs):
                due, provisional = k.due_for_new(p.share_working_days or 0, now)
                k.emit(
                    out,
                    ev.PartReleased(
                        at=now,
                        actor=a,
                        ticket=p.ticket,
                        window=p.window,
                        receipt_no=p.receipt_no,
                        bundle_receipt=bundle.receipt_no,
                        matter_code=p.matter_code,
                        due_at=due,
                        provisional=provisional,
                    ),
                )
                changed = True
    parts = parts_of(k.cases, bundle.receipt_no)
    if all(p.state in (CS.DECIDED, CS.WITHDRAWN) for p in parts):
        approved = sum(1 for p in parts if p.state is CS.DECIDED and p.decision == c.Decision.APPROVED.value)
        decision = (
            "approved" if approved == len(parts) else "disapproved" if approved == 0 else "partly_approved"
        )
        k.emit(
            out,
            ev.BundleDecided(
                at=now,
                actor=a,
                ticket=bundle.ticket,
                window=bundle.window,
                receipt_no=bundle.receipt_no,
                matter_code=bundle.matter_code,
                decision=decision,
                on_time=bundle.due_at is None or now <= bundle.due_at,
            ),
        )


def deliver_parts(k: Cases, bundle: Case, delivered: ev.CaseDelivered, out: list[Event]) -> None:
    """统一出件: the bundle's delivery hands out every decided part with it."""
    for p in parts_of(k.cases, bundle.receipt_no):
        if p.state is CS.DECIDED:
            k.emit(
                out,
                ev.CaseDelivered(
                    at=delivered.at,
                    actor=delivered.actor,
                    ticket=delivered.ticket,
                    window=delivered.window,
                    receipt_no=p.receipt_no,
                    matter_code=p.matter_code,
                    method=delivered.method,
                    delivery_window=delivered.delivery_window,
                    delivery_ticket=delivered.delivery_ticket,
                    note=f"随一件事{bundle.receipt_no}统一出件",
                ),
            )


def refuse_part_delivery(case: Case) -> None:
    if case.bundle_receipt is not None:
        raise HallError(
            "deliver_with_bundle",
            f"case {case.receipt_no} is a part of 一件事 {case.bundle_receipt}: "
            "it is handed out with its bundle (统一出件)",
        )


# ---------------------------------------------------------------------- commands


def _serving(k: Cases, window: int, action: str) -> Ticket:
    t = k.queue.current(window, action)
    if t.state is not T.SERVING:
        raise HallError(
            "not_serving",
            f"cannot {action} at window {window}: {t.number} is {t.state.value}, start the service first",
        )
    return t


def _name(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise HallError("missing_field", f"{what} is required")
    if len(value) > _TEXT_MAX:
        raise HallError("invalid_field", f"{what} is longer than {_TEXT_MAX} characters")
    return value


def _reissue(k: Cases, cmd: c.ReissueNotice, now: datetime, a: str, out: list[Event]) -> None:
    t = _serving(k, cmd.window, "issue a 补正 notice")
    case = k.case(cmd.receipt_no)
    case_transition("reissue the notice of", case.receipt_no, case.state)
    m = k.matters.get(case.matter_code)
    if m is None:
        raise HallError("unknown_matter", f"no matter {case.matter_code} in the catalogue")
    version = m.materials_version
    if version == case.notice_version:
        raise HallError(
            "notice_already_issued",
            f"case {case.receipt_no} has its 补正 notice and the material list of {case.matter_code} "
            "has not changed since: 一次性告知, print the same notice again",
        )
    missing = [s.strip() for s in cmd.missing_materials if s.strip()]
    if not missing:
        raise HallError("missing_field", "a 补正 notice lists every missing material: give at least one")
    if len(set(missing)) != len(missing):
        raise HallError("invalid_field", "a material is listed twice")
    check_missing(m, missing)
    k.emit(
        out,
        ev.NoticeReissued(
            at=now,
            actor=a,
            ticket=t.id,
            window=cmd.window,
            receipt_no=case.receipt_no,
            matter_code=case.matter_code,
            missing_materials=tuple(missing),
            materials_version=version,
            previous_version=case.notice_version,
        ),
    )


def _assist(k: Cases, cmd: c.AssistCase, now: datetime, a: str, out: list[Event]) -> None:
    case = k.case(cmd.receipt_no)
    case_transition("assist", case.receipt_no, case.state)
    helper = _name(cmd.helper, "the helper (帮办员)")
    name = cmd.helper_name.strip()[:_TEXT_MAX]
    k.emit(
        out,
        ev.CaseAssisted(
            at=now,
            actor=a,
            ticket=case.ticket,
            window=case.window,
            receipt_no=case.receipt_no,
            matter_code=case.matter_code,
            helper=helper,
            helper_name=name,
        ),
    )


def _submit(k: Cases, cmd: c.SubmitForCitizen, now: datetime, a: str, out: list[Event]) -> None:
    m = k.matters.get(cmd.matter)
    if m is None:
        raise HallError("unknown_matter", f"no matter {cmd.matter} in the catalogue")
    point = _name(cmd.agent_point, "the 代办员's service point")
    applicant = _name(cmd.applicant.name, "the applicant's name")
    item = cmd.deficiency_item.strip()
    if bool(item) != (cmd.deficiency_promised_date is not None):
        raise HallError("missing_field", "容缺 needs both the missing item and the promised supply date")
    if cmd.deficiency_promised_date is not None and cmd.deficiency_promised_date < now.date():
        raise HallError("invalid_field", "the promised supply date is in the past")
    check_deferrable(m, item)
    receipt, seq = k.next_receipt(now)
    due, provisional = k.due_for_new(int(m.promised_working_days), now)
    agent = a.split(":", 1)[1] if ":" in a else a
    k.emit(
        out,
        ev.CaseSubmittedByAgent(
            at=now,
            actor=a,
            receipt_no=receipt,
            seq=seq,
            matter_code=m.code,
            matter_name=m.name,
            department=m.department,
            field=m.field,
            case_type=str(m.case_type),
            window_kind=str(m.window_kind),
            one_window=bool(m.one_window),
            promised_working_days=int(m.promised_working_days),
            agent=agent,
            agent_point=point,
            due_at=due,
            provisional=provisional,
            applicant_name=applicant,
            applicant_phone=cmd.applicant.phone.strip(),
            applicant_id=cmd.applicant.id_number.strip(),
            deficiency_item=item,
            deficiency_promised_date=cmd.deficiency_promised_date,
        ),
    )
    if getattr(m, "parts", ()):
        open_parts(k, k.cases[receipt], m, now, a, out)


HANDLERS: dict[type, Callable[[Cases, Any, datetime, str, list[Event]], None]] = {
    c.ReissueNotice: _reissue,
    c.AssistCase: _assist,
    c.SubmitForCitizen: _submit,
}
