"""一件事 bundles as one case with parts, the one-time notice and 帮办代办: applying their events.

A bundle is a case of a 一件事 matter (``Matter.parts``); accepting it opens one part per
component matter (``PartOpened``), each a case of its own department with its own receipt,
its ``bundle_receipt`` and its share of the bundle's promise. Parts without inputs start at
once (并联审批); a part ``after`` others waits (``waiting_for_input``) until they are approved
(``PartReleased``) or ends when one is refused (``PartWithdrawn``). When every part is decided
or withdrawn the bundle is decided (``BundleDecided``) and is handed out once (统一出件).
States move by ``states.CASE_TRANSITIONS``; ``Cases`` (cases.py) merges ``APPLY`` into its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import events as ev
from .events import Event
from .model import Case
from .states import CASE_CREATION, case_transition
from .states import CaseState as CS


def parts_of(cases: dict[str, Case], bundle_receipt: str) -> list[Case]:
    """The parts of a bundle held, in receipt order (the catalogue's order)."""
    return sorted(
        (k for k in cases.values() if k.bundle_receipt == bundle_receipt), key=lambda k: k.receipt_no
    )


def _step(case: Case, action: str) -> None:
    case.state = case_transition(action, case.receipt_no, case.state)


def _touch(k: Any, case: Case, e: Event) -> None:
    case.updated_at = e.at
    k.changes.cases[case.receipt_no] = case


def _actor_id(actor: str) -> str:
    return actor.split(":", 1)[1] if ":" in actor else actor


def _a_part_opened(k: Any, e: ev.PartOpened) -> None:
    bundle: Case = k.cases[e.bundle_receipt]
    action = "open a waiting part of" if e.waiting else "open a part of"
    part = Case(
        receipt_no=e.receipt_no,
        service_date=e.at.date(),
        matter_code=e.matter_code,
        matter_name=e.matter_name,
        department=e.department,
        field=e.field,
        case_type=e.case_type,
        window_kind=e.window_kind,
        one_window=e.one_window,
        promised_working_days=e.promised_working_days,
        state=CASE_CREATION[action],
        created_at=e.at,
        updated_at=e.at,
        ticket=e.ticket,
        ticket_number=e.ticket_number,
        window=e.window,
        accepted_window_kind=bundle.accepted_window_kind,
        accepted_by=bundle.accepted_by,
        accepted_by_name=bundle.accepted_by_name,
        applicant_name=e.applicant_name,
        applicant_phone=e.applicant_phone,
        applicant_id=e.applicant_id,
        bundle_receipt=e.bundle_receipt,
        part_after=list(e.after),
        share_working_days=e.share_working_days,
        assisted_by=bundle.assisted_by,
        assisted_by_name=bundle.assisted_by_name,
        agent=bundle.agent,
        agent_point=bundle.agent_point,
    )
    if not e.waiting:
        part.accepted_at = part.clock_started_at = e.at
    part.due_at, part.provisional = e.due_at, e.provisional
    k.cases[part.receipt_no] = part
    k.case_numbers[e.at.date()] = max(k.case_numbers.get(e.at.date(), 0), e.seq)
    k.changes.case_numbers.add(e.at.date())
    _touch(k, part, e)
    _step(bundle, "open the parts of")
    _touch(k, bundle, e)


def _a_part_released(k: Any, e: ev.PartReleased) -> None:
    part: Case = k.cases[e.receipt_no]
    _step(part, "release")
    part.released_at = part.accepted_at = part.clock_started_at = e.at
    part.due_at, part.provisional = e.due_at, e.provisional
    _touch(k, part, e)


def _a_part_withdrawn(k: Any, e: ev.PartWithdrawn) -> None:
    part: Case = k.cases[e.receipt_no]
    _step(part, "withdraw")
    part.withdrawn_reason = e.reason
    _touch(k, part, e)


def _a_bundle_decided(k: Any, e: ev.BundleDecided) -> None:
    bundle: Case = k.cases[e.receipt_no]
    _step(bundle, "complete the parts of")
    bundle.decided_at = e.at
    bundle.decision = e.decision
    bundle.decided_by = _actor_id(e.actor)
    bundle.decided_on_time = e.on_time
    _touch(k, bundle, e)


def _a_notice_reissued(k: Any, e: ev.NoticeReissued) -> None:
    case: Case = k.cases[e.receipt_no]
    _step(case, "reissue the notice of")
    case.missing_materials = list(e.missing_materials)
    case.materials_requested_at = e.at
    case.notice_version = e.materials_version
    case.notices += 1
    _touch(k, case, e)


def _a_assisted(k: Any, e: ev.CaseAssisted) -> None:
    case: Case = k.cases[e.receipt_no]
    _step(case, "assist")
    case.assisted_by, case.assisted_by_name = e.helper, e.helper_name
    for part in parts_of(k.cases, case.receipt_no):
        part.assisted_by, part.assisted_by_name = e.helper, e.helper_name
        _touch(k, part, e)
    _touch(k, case, e)


def _a_submitted(k: Any, e: ev.CaseSubmittedByAgent) -> None:
    case = Case(
        receipt_no=e.receipt_no,
        service_date=e.at.date(),
        matter_code=e.matter_code,
        matter_name=e.matter_name,
        department=e.department,
        field=e.field,
        case_type=e.case_type,
        window_kind=e.window_kind,
        one_window=e.one_window,
        promised_working_days=e.promised_working_days,
        state=CASE_CREATION["submit for"],
        created_at=e.at,
        updated_at=e.at,
        accepted_by=_actor_id(e.actor),
        applicant_name=e.applicant_name,
        applicant_phone=e.applicant_phone,
        applicant_id=e.applicant_id,
        agent=e.agent,
        agent_point=e.agent_point,
        deficiency_item=e.deficiency_item,
        deficiency_promised_date=e.deficiency_promised_date,
        notices=1 if e.deficiency_item else 0,
    )
    case.accepted_at = case.clock_started_at = e.at
    case.due_at, case.provisional = e.due_at, e.provisional
    k.cases[case.receipt_no] = case
    k.case_numbers[e.at.date()] = max(k.case_numbers.get(e.at.date(), 0), e.seq)
    k.changes.case_numbers.add(e.at.date())
    _touch(k, case, e)


APPLY: dict[type[Event], Callable[[Any, Any], None]] = {
    ev.PartOpened: _a_part_opened,
    ev.PartReleased: _a_part_released,
    ev.PartWithdrawn: _a_part_withdrawn,
    ev.BundleDecided: _a_bundle_decided,
    ev.NoticeReissued: _a_notice_reissued,
    ev.CaseAssisted: _a_assisted,
    ev.CaseSubmittedByAgent: _a_submitted,
}


def bundle_view(
    cases: dict[str, Case], bundle: Case, marks: Callable[[Case], dict[str, Any]]
) -> dict[str, Any]:
    """What a bundle's case view adds: its parts (department, state, due, 超期) and the
    departments holding it late (超期 parts, or every undecided part of an overdue bundle)."""
    parts = parts_of(cases, bundle.receipt_no)
    rows = []
    for p in parts:
        m = marks(p)
        rows.append(
            {
                "receipt_no": p.receipt_no,
                "matter_code": p.matter_code,
                "matter_name": p.matter_name,
                "department": p.department,
                "state": p.state.value,
                "after": list(p.part_after),
                "share_working_days": p.share_working_days,
                "due_at": p.due_at.isoformat() if p.due_at else None,
                "decision": p.decision,
                "overdue": m["overdue"],
            }
        )
    late = [r["department"] for r in rows if r["overdue"]]
    if not late and marks(bundle)["overdue"]:
        late = [
            p.department for p in parts if p.state in (CS.ACCEPTED, CS.IN_REVIEW, CS.SUSPENDED, CS.WAITING)
        ]
    return {"parts": rows, "late_departments": sorted(set(late))}
