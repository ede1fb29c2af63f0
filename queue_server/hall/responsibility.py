"""Responsibility by content (seed 001 四(四) 投诉处理, 四(五) 差评处理: 根据评价内容,明确责任主体).

The hall's catalogue (``HallConfig.reasons``) gives each 差评 reason / complaint category its
party: the hall's management (管委会: 综合受理窗口工作人员服务态度, the hall itself) or the
入驻单位 whose matter it is (业务咨询、审批时限、业务流程、业务审批). The owner of a 差评's loop or
of a complaint follows from the parties of its reasons:

- only management reasons → the management owns it;
- any department reason → the department of the matter leads; when management reasons are
  mixed in, the management co-ordinates (``coordinator``) — seed 001 四(四): 各入驻单位应积极
  配合协调解决, and each party answers for its own part;
- a department reason but no department known (no matter, no department window) → the
  management, to triage;
- free text alone, or reasons outside the catalogue only → the management, to triage; it may
  reassign (recorded, with the reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .cases import department_matches
from .config import HallConfig, Party
from .errors import HallError


@dataclass(frozen=True, kw_only=True)
class Responsibility:
    responsible: Party
    owner_department: str  # the management's name, or the department's
    coordinator: str = ""  # the management's name when it co-ordinates a department-led item
    triage: bool = False


def decide(config: HallConfig, reasons: Iterable[str], department: str) -> Responsibility:
    """Who owns an item with ``reasons`` about a service of ``department`` ("" if none)."""
    parties = {r.party for r in (config.reason(t) for t in reasons) if r is not None}
    management = config.management
    if Party.DEPARTMENT in parties and department:
        return Responsibility(
            responsible=Party.DEPARTMENT,
            owner_department=department,
            coordinator=management if Party.MANAGEMENT in parties else "",
        )
    if parties == {Party.MANAGEMENT}:
        return Responsibility(responsible=Party.MANAGEMENT, owner_department=management)
    return Responsibility(responsible=Party.MANAGEMENT, owner_department=management, triage=True)


def matter_department(window_department: str, case_department: str, queue_department: str) -> str:
    """The department of the matter served: the case's (named as the window names it when the
    window belongs to it), else the window's, else the queue's."""
    if case_department:
        if window_department and department_matches(window_department, case_department):
            return window_department
        return case_department
    return window_department or queue_department


def owner_of(config: HallConfig, responsible: str, department: str) -> tuple[str, str]:
    """``(responsible, owner_department)`` of an assignment; refuses an unknown party or a
    department assignment without its department."""
    try:
        party = Party(responsible)
    except ValueError:
        raise HallError("invalid_field", "responsible is management or department") from None
    if party is Party.MANAGEMENT:
        return party.value, config.management
    department = department.strip()
    if not department:
        raise HallError("missing_field", "a department assignment names the department")
    if len(department) > 64:
        raise HallError("invalid_field", "a department name is at most 64 characters")
    return party.value, department


def is_management(config: HallConfig, scope: str | None) -> bool:
    """A manager (no scope) or the back office of the management."""
    return scope is None or scope == config.management


def catalogue(config: HallConfig) -> list[dict[str, str]]:
    """The catalogue as the rating pad, the status page and the back office get it."""
    return [
        {
            "text": r.text,
            "party": r.party.value,
            "party_name": config.management if r.party is Party.MANAGEMENT else "事项所属部门",
        }
        for r in config.reasons
    ]
