"""Complaints (投诉/纠纷): the owner by content, the loop received → assigned → handled →
replied → closed, working-day deadlines per channel, 12345 反馈 dates, reassignment and 督办."""

from __future__ import annotations

from datetime import date

import pytest
from test_cases import Desk, at, cob
from test_ratings import MANAGER

from queue_server.hall import commands as c
from queue_server.hall.states import COMPLAINT_TRANSITIONS
from queue_server.hall.states import ComplaintState as CP

TAX = "县税务局"
MGMT = "县行政服务中心管委会"
BO_MGMT = c.Actor(kind="staff", id="bo-mgmt", name="管委会")
BO_TAX = c.Actor(kind="staff", id="bo-tax", name="何俊")
CH = c.ComplaintChannel
WHO = c.Applicant(name="张三丰", phone="13800001111")


def receive(desk: Desk, **kw):
    kw.setdefault("channel", CH.ONSITE)
    kw.setdefault("content", "窗口人员态度生硬")
    events = [
        e for e in desk.do(c.ReceiveComplaint(complainant=WHO, **kw), MANAGER) if e.type != "day_started"
    ]
    return events, desk.hall.complaints[events[0].complaint_id]


def test_attitude_goes_to_the_management_and_approval_time_to_the_department() -> None:
    desk = Desk()
    events, k = receive(desk, category="服务态度不好")
    assert [e.type for e in events] == ["complaint_received", "complaint_assigned"]
    assert (k.state, k.responsible, k.owner_department) == (CP.ASSIGNED, "management", MGMT)
    _, k2 = receive(desk, category="办理时间过长", matter_code="SW-003", content="审批超时")
    assert (k2.responsible, k2.owner_department) == ("department", "税务局")


def test_free_text_waits_for_the_managements_triage() -> None:
    desk = Desk()
    [received], k = receive(desk, content="说不清的问题")
    assert received.triage
    assert (k.state, k.owner_department, k.triage) == (CP.RECEIVED, MGMT, True)
    desk.refused(
        c.AssignComplaint(complaint=k.id, responsible="department", department=TAX, scope=TAX),
        "not_your_department",
    )
    desk.do(c.AssignComplaint(complaint=k.id, responsible="department", department=TAX, scope=MGMT), BO_MGMT)
    k = desk.hall.complaints[k.id]
    assert (k.state, k.owner_department, k.triage, k.assigned_by) == (CP.ASSIGNED, TAX, False, "bo-mgmt")


@pytest.mark.parametrize(
    ("channel", "days_due"),
    [
        (CH.ONSITE, cob(2026, 11, 30)),
        (CH.PHONE, cob(2026, 11, 30)),
        (CH.HOTLINE, cob(2026, 11, 26)),
        (CH.UNRESOLVED, cob(2026, 11, 26)),
    ],
)
def test_each_channel_has_its_working_day_deadline(channel, days_due) -> None:
    desk = Desk()  # Monday 2026-11-23 09:00
    _, k = receive(desk, channel=channel, category="服务态度不好", hotline_ref="YT-12345-001")
    assert k.due_at == days_due


def test_a_12345_item_needs_its_work_order_and_may_bring_its_own_feedback_date() -> None:
    desk = Desk()
    desk.refused(
        c.ReceiveComplaint(channel=CH.HOTLINE, content="x", category="服务态度不好"),
        "missing_field",
        actor=MANAGER,
    )
    _, k = receive(
        desk, channel=CH.HOTLINE, hotline_ref="YT-1", category="服务态度不好", hotline_due=date(2026, 11, 24)
    )
    assert (k.due_at, k.hotline_ref) == (cob(2026, 11, 24), "YT-1")
    desk.refused(
        c.ReceiveComplaint(channel=CH.PHONE, content="x", hotline_due=date(2026, 11, 24)),
        "invalid_field",
        actor=MANAGER,
    )
    desk.refused(
        c.ReceiveComplaint(channel=CH.PHONE, content="x", category="不存在的类别"),
        "invalid_field",
        actor=MANAGER,
    )
    desk.refused(c.ReceiveComplaint(channel=CH.PHONE, content="  "), "reason_required", actor=MANAGER)


def test_the_loop_runs_to_closed_with_satisfaction_and_on_time_reply() -> None:
    desk = Desk()
    _, k = receive(desk, category="办理时间过长", matter_code="SW-003")
    desk.refused(c.ReplyComplaint(complaint=k.id, reply="x", scope=TAX), "illegal_transition", actor=BO_TAX)
    desk.refused(c.HandleComplaint(complaint=k.id, handling="x", scope="县公安局"), "not_your_department")
    desk.later(hours=2)
    desk.do(c.HandleComplaint(complaint=k.id, handling="已加急审批", scope=TAX), BO_TAX)
    desk.do(c.ReplyComplaint(complaint=k.id, reply="已电话回复", scope=TAX), BO_TAX)
    desk.refused(c.CloseComplaint(complaint=k.id, satisfaction=6, scope=TAX), "invalid_field", actor=BO_TAX)
    desk.do(c.CloseComplaint(complaint=k.id, satisfaction=4, scope=TAX), BO_TAX)
    k = desk.hall.complaints[k.id]
    assert (k.state, k.reply_on_time, k.satisfaction, k.handled_by) == (CP.CLOSED, True, 4, "bo-tax")
    assert not k.overdue(at(2027, 1, 1))


def test_reassignment_needs_a_reason_and_is_counted() -> None:
    desk = Desk()
    _, k = receive(desk, category="服务态度不好")
    desk.refused(
        c.AssignComplaint(complaint=k.id, responsible="department", department=TAX, scope=MGMT),
        "reason_required",
        actor=BO_MGMT,
    )
    [e] = desk.do(
        c.AssignComplaint(
            complaint=k.id, responsible="department", department=TAX, reason="实为业务问题", scope=MGMT
        ),
        BO_MGMT,
    )
    assert (e.previous_owner_department, e.owner_department) == (MGMT, TAX)
    k = desk.hall.complaints[k.id]
    assert (k.reassignments, k.reassign_reason, k.owner_department) == (1, "实为业务问题", TAX)


def test_an_open_complaint_past_its_due_is_overdue_and_a_manager_reminds() -> None:
    desk = Desk()
    _, k = receive(desk, category="服务态度不好")
    desk.go(at(2026, 12, 1, 9, 0))
    assert [v["id"] for v in desk.hall.list_complaints(desk.now, overdue_only=True)] == [k.id]
    e = desk.do(c.RemindComplaint(complaint=k.id, note="请今日内回复"), MANAGER)[-1]
    assert (e.type, e.overdue, e.owner_department) == ("complaint_reminded", True, MGMT)
    assert desk.hall.complaints[k.id].reminders == 1
    view = desk.hall.list_complaints(desk.now, department=MGMT)[0]
    assert view["overdue"] and view["complainant_name"] == "张*丰" and "complainant_phone" not in view
    desk.restart()
    assert desk.hall.complaints[k.id].reminders == 1


def test_a_complaint_from_a_rating_takes_the_ratings_department() -> None:
    from test_ratings import bad

    desk = Desk()
    rid = bad(desk)
    rating_id = desk.hall.rectifications[rid].rating_id
    _, k = receive(desk, channel=CH.RATING, rating_id=rating_id, category="办理时间过长")
    assert (k.owner_department, k.matter_code, k.rating_id) == (TAX, "SW-003", rating_id)
    desk.refused(c.ReceiveComplaint(channel=CH.RATING, content="x"), "missing_field", actor=MANAGER)


def test_every_complaint_step_is_in_the_table() -> None:
    assert set(COMPLAINT_TRANSITIONS["close"]) == {CP.REPLIED}
    assert CP.CLOSED not in COMPLAINT_TRANSITIONS["remind the owner of"]
