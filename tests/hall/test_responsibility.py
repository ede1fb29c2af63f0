"""Responsibility by content (seed 001 四(四) 投诉处理, 四(五) 差评处理: 根据评价内容,明确责任主体):
a 差评's loop belongs to the party of its reasons."""

from __future__ import annotations

from test_cases import TZ, Desk  # noqa: F401  (the shared desk)
from test_ratings import MANAGER, PAD_3, finish

from queue_server.hall import commands as c
from queue_server.hall.config import DEFAULT_REASONS, Party
from queue_server.hall.responsibility import decide

TAX = "县税务局"
MGMT = "县行政服务中心管委会"
PAD_1 = c.Actor(kind="device", id="rating-pad-1")
BO_MGMT = c.Actor(kind="staff", id="bo-mgmt", name="管委会")


def opened(
    desk: Desk,
    *reasons: str,
    text: str = "",
    window: int = 3,
    queue: str = "B",
    matter: str = "SW-003",
    pad: c.Actor = PAD_3,
):
    t = finish(desk, window=window, queue=queue, matter=matter)
    events = desk.do(c.RateService(score=1, window=window, ticket=t.id, reasons=reasons, text=text), pad)
    assert events[-1].type == "rectification_opened"
    return desk.hall.rectifications[events[-1].rectification_id]


def test_attitude_at_a_comprehensive_window_goes_to_the_management() -> None:
    desk = Desk()
    r = opened(desk, "服务态度不好", window=1, queue="A", matter="MZ-001", pad=PAD_1)
    assert (r.responsible, r.owner_department, r.coordinator, r.triage) == ("management", MGMT, "", False)
    assert desk.hall.list_rectifications(desk.now, department=MGMT)[0]["id"] == r.id
    assert desk.hall.list_rectifications(desk.now, department="民政局") == []


def test_approval_time_goes_to_the_matters_department() -> None:
    desk = Desk()
    r = opened(desk, "办理时间过长", window=1, queue="A", matter="MZ-001", pad=PAD_1)
    assert (r.responsible, r.owner_department, r.coordinator) == ("department", "民政局", "")
    # the department window names the department as the hall does
    r3 = opened(Desk(), "办理时间过长")
    assert (r3.responsible, r3.owner_department) == ("department", TAX)


def test_mixed_reasons_the_department_leads_and_the_management_coordinates() -> None:
    desk = Desk()
    r = opened(desk, "服务态度不好", "材料要求过多")
    assert (r.responsible, r.owner_department, r.coordinator) == ("department", TAX, MGMT)
    view = desk.hall.list_rectifications(desk.now, department=MGMT)  # the co-ordinator sees it
    assert [v["id"] for v in view] == [r.id] and view[0]["responsible"] == "department"
    desk.refused(
        c.ContactRater(rectification=r.id, note="x", scope=MGMT), "not_your_department"
    )  # but TAX acts


def test_free_text_alone_goes_to_the_management_to_triage_and_it_reassigns() -> None:
    desk = Desk()
    r = opened(desk, text="说不清楚")
    assert (r.responsible, r.owner_department, r.triage) == ("management", MGMT, True)
    desk.refused(
        c.ReassignRectification(
            rectification=r.id, responsible="department", department=TAX, reason="x", scope=TAX
        ),
        "not_your_department",
    )
    desk.refused(
        c.ReassignRectification(rectification=r.id, responsible="department", reason="审批问题", scope=MGMT),
        "missing_field",
    )
    desk.refused(
        c.ReassignRectification(
            rectification=r.id, responsible="department", department=TAX, reason=" ", scope=MGMT
        ),
        "reason_required",
    )
    desk.refused(
        c.ReassignRectification(
            rectification=r.id, responsible="nobody", department=TAX, reason="x", scope=MGMT
        ),
        "invalid_field",
    )
    [e] = desk.do(
        c.ReassignRectification(
            rectification=r.id,
            responsible="department",
            department=TAX,
            reason="核实为审批时限问题",
            scope=MGMT,
        ),
        BO_MGMT,
    )
    assert (e.type, e.previous_owner_department, e.owner_department, e.reason) == (
        "rectification_reassigned",
        MGMT,
        TAX,
        "核实为审批时限问题",
    )
    r = desk.hall.rectifications[r.id]
    assert (r.responsible, r.owner_department, r.triage, r.reassigned_by) == (
        "department",
        TAX,
        False,
        "bo-mgmt",
    )
    desk.do(c.ContactRater(rectification=r.id, note="已联系", scope=TAX))  # the new owner acts
    desk.restart()
    assert desk.hall.rectifications[r.id].reassign_reason == "核实为审批时限问题"
    # a manager may reassign too
    desk.do(c.ReassignRectification(rectification=r.id, responsible="management", reason="态度问题"), MANAGER)
    assert desk.hall.rectifications[r.id].owner_department == MGMT


def test_the_catalogue_decides_alone_and_unknown_reasons_are_triaged(config) -> None:
    assert {r.text: r.party for r in DEFAULT_REASONS}["服务态度不好"] is Party.MANAGEMENT
    assert decide(config, ["自编理由"], TAX).triage
    assert decide(config, ["办理时间过长"], "").triage  # a department reason, no department known
    assert decide(config, ["等候时间过长"], TAX).owner_department == config.management
