"""Cases (办件) in the hall core: every step as a story, every illegal step refused with a
clear error and no change, and deadlines over the official calendars (domain rules §2–3)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.calendar_data import read_year_file
from queue_server.config_file import load_hall_config
from queue_server.hall import Hall, HallError
from queue_server.hall import commands as c
from queue_server.hall.calendar import WorkCalendar
from queue_server.hall.cases import department_matches
from queue_server.hall.model import Case, Complaint, Rating, Rectification, Ticket, Window
from queue_server.hall.states import CASE_TRANSITIONS
from queue_server.hall.states import CaseState as CS
from queue_server.matters import load_matters

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
SMALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
FIXTURE_2027 = ROOT / "tests" / "fixtures" / "calendar" / "2027.toml"
MATTERS = {m.code: m for m in load_matters()}
CAL = WorkCalendar.from_package()  # official 2025 and 2026 (国务院办公厅 notices), no 2027

W3 = c.Actor(kind="staff", id="w3", name="窗口三")  # window 3: 税务 (queue B), 县税务局
W1 = c.Actor(kind="staff", id="w1", name="窗口一")
W9 = c.Actor(kind="device", id="window-9")  # the 出件 window
BO_TAX = c.Actor(kind="staff", id="bo-tax", name="何俊")
TAX = "县税务局"  # the back office's department, as the hall names it


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def cob(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 17, 30, tzinfo=TZ)


def snapshot(h: Hall) -> dict[str, Any]:
    return {
        "tickets": sorted(t.to_row()["id"] + repr(t.to_row()) for t in h.tickets.values()),
        "windows": sorted(repr(w.to_row()) for w in h.windows.values()),
        "cases": sorted(repr(k.to_row()) for k in h.cases.values()),
        "case_numbers": dict(h.case_numbers),
        "ratings": sorted(repr(r.to_row()) for r in h.ratings.values()),
        "rectifications": sorted(repr(r.to_row()) for r in h.rectifications.values()),
        "complaints": sorted(repr(k.to_row()) for k in h.complaints.values()),
    }


class Desk:
    """The small test hall with the matter catalogue, on a clock moved by hand."""

    def __init__(self, now: datetime = at(2026, 11, 23, 9, 0), calendar: WorkCalendar = CAL) -> None:
        config = load_hall_config(SMALL)  # queue B's small daily cap is for ticket tests
        self.config = dataclasses.replace(
            config, queues=tuple(dataclasses.replace(q, daily_cap=999) for q in config.queues)
        )
        self.now = now
        self.hall = Hall(self.config, matters=MATTERS, calendar=calendar)
        self.tokens = 0

    def do(self, cmd: Any, actor: c.Actor = W3) -> list:
        return self.hall.handle(cmd, self.now, actor)

    def later(self, **kw: Any) -> datetime:
        self.now += timedelta(**kw)
        return self.now

    def go(self, when: datetime) -> None:
        self.now = when

    def serve(self, window: int = 3, queue: str = "B", **issue: Any) -> Ticket:
        """Issue a ticket, call it at ``window`` and start the service."""
        win = self.hall.windows[window]
        if win.staff is None:
            account = self.config.staff_account(f"w{window}")
            self.do(
                c.StaffLogin(
                    window=window, username=f"w{window}", name=account.name if account else f"窗口{window}"
                )
            )
        if win.state.value != "open":
            self.do(c.OpenWindow(window=window))
        self.tokens += 1
        events = self.do(c.IssueTicket(queue=queue, status_token=f"tok-{self.tokens}", **issue))
        t = self.hall.tickets[events[-1].ticket]
        self.do(c.CallTicket(window=window, ticket=t.id, reason="test"))
        self.do(c.StartService(window=window))
        return t

    def accept(self, matter: str = "SW-003", window: int = 3, **kw: Any) -> Case:
        events = self.do(c.AcceptCase(window=window, matter=matter, **kw))
        return self.hall.cases[events[-1].receipt_no]

    def refused(self, cmd: Any, code: str, match: str | None = None, actor: c.Actor = W3) -> HallError:
        self.do(c.Tick())  # a new day's roll-over happens before any command, refused or not
        before = snapshot(self.hall)
        with pytest.raises(HallError) as info:
            self.do(cmd, actor)
        assert info.value.code == code, f"{info.value.code}: {info.value.message}"
        if match is not None:
            assert match in info.value.message, info.value.message
        assert snapshot(self.hall) == before
        return info.value

    def restart(self) -> None:
        h = self.hall
        self.hall = Hall(
            h.config,
            tickets=[Ticket.from_row(t.to_row()) for t in h.tickets.values()],
            windows=[Window.from_row(w.to_row()) for w in h.windows.values()],
            numbers=dict(h.numbers),
            service_date=h.service_date,
            cases=[Case.from_row(k.to_row()) for k in h.cases.values()],
            case_numbers=dict(h.case_numbers),
            ratings=[Rating.from_row(r.to_row()) for r in h.ratings.values()],
            rectifications=[Rectification.from_row(r.to_row()) for r in h.rectifications.values()],
            last_rating_id=h.last_rating_id,
            last_rectification_id=h.last_rectification_id,
            complaints=[Complaint.from_row(k.to_row()) for k in h.complaints.values()],
            last_complaint_id=h.last_complaint_id,
            calendar=h.calendar,
            matters=h.matters,
        )


@pytest.fixture
def desk() -> Desk:
    return Desk()


# ---------------------------------------------------------------------- 受理


def test_accept_during_a_service_gives_a_receipt_and_a_deadline(desk: Desk) -> None:
    t = desk.serve(applicant=c.Applicant(name="张三丰", phone="13812345678", id_number="110101199003071234"))
    [ev] = desk.do(c.AcceptCase(window=3, matter="SW-003"))
    assert (ev.type, ev.actor, ev.at, ev.ticket, ev.window) == (
        "case_accepted",
        "staff:w3",
        desk.now,
        t.id,
        3,
    )
    case = desk.hall.cases["SL-20261123-0001"]
    assert case.state is CS.ACCEPTED
    assert (case.matter_code, case.department, case.case_type, case.promised_working_days) == (
        "SW-003",
        "税务局",
        "承诺件",
        5,
    )
    # Monday 2026-11-23: five working days after it is Monday 11-30, at close of business
    assert (case.accepted_at, case.clock_started_at, case.due_at) == (desk.now, desk.now, cob(2026, 11, 30))
    assert case.provisional is False
    assert (case.ticket, case.window, case.accepted_by, case.accepted_window_kind) == (
        t.id,
        3,
        "w3",
        "分领域",
    )
    assert (case.applicant_name, case.applicant_phone) == ("张三丰", "13812345678")  # from the ticket
    view = desk.hall.case_view(case, desk.now)
    assert view["applicant_name"] == "张*丰" and "applicant_phone" not in view and "applicant_id" not in view
    assert desk.hall.take_changes().cases == {case.receipt_no: case}


def test_receipt_numbers_count_per_day_and_survive_a_restart(desk: Desk) -> None:
    desk.serve()
    assert desk.accept().receipt_no == "SL-20261123-0001"
    desk.do(c.RequestMaterials(window=3, matter="SW-003", missing_materials=("营业执照",)))
    desk.restart()
    assert desk.accept("SW-001").receipt_no == "SL-20261123-0003"
    desk.go(at(2026, 11, 24, 9, 0))
    desk.serve()
    assert desk.accept().receipt_no == "SL-20261124-0001"


def test_a_case_needs_a_service_in_progress_at_the_window(desk: Desk) -> None:
    desk.do(c.StaffLogin(window=3, username="w3", name="窗口三"))
    desk.do(c.OpenWindow(window=3))
    desk.refused(c.AcceptCase(window=3, matter="SW-003"), "no_current_ticket")
    desk.do(c.IssueTicket(queue="B", status_token="t1"))
    desk.do(c.CallNext(window=3))
    desk.refused(c.AcceptCase(window=3, matter="SW-003"), "not_serving", "start the service first")
    desk.do(c.StartService(window=3))
    desk.refused(c.AcceptCase(window=3, matter="XX-999"), "unknown_matter")
    assert desk.accept().state is CS.ACCEPTED


def test_a_window_accepts_only_matters_of_its_queues_when_the_hall_links_them(desk: Desk) -> None:
    cfg = desk.config
    queues = tuple(
        dataclasses.replace(q, matters=("SW-003",) if q.code == "B" else ("MZ-001",)) for q in cfg.queues
    )
    desk.hall = Hall(dataclasses.replace(cfg, queues=queues), matters=MATTERS, calendar=CAL)
    desk.serve()
    desk.refused(c.AcceptCase(window=3, matter="MZ-001"), "not_served_here", "does not accept matter MZ-001")
    assert desk.accept("SW-003").matter_code == "SW-003"


def test_instant_case_is_due_the_same_day_and_decided_on_the_spot(desk: Desk) -> None:
    t = desk.serve()
    case = desk.accept("SW-001")  # 新办纳税人套餐式服务, 即办件
    assert case.due_at == cob(2026, 11, 23)
    desk.refused(
        c.ExtendCase(receipt_no=case.receipt_no, working_days=3, reason="x"), "not_allowed", "即办件"
    )
    desk.later(minutes=5)
    [ev] = desk.do(c.DecideCase(receipt_no=case.receipt_no, decision=c.Decision.APPROVED, window=3))
    assert (ev.type, ev.on_the_spot, ev.on_time) == ("case_decided", True, True)
    assert (case.state, case.decision, case.decided_on_time) == (CS.DECIDED, "approved", True)
    # the result is handed out at the same window, to the same ticket
    desk.do(c.DeliverCase(receipt_no=case.receipt_no, method=c.DeliveryMethod.WINDOW, window=3))
    assert (case.state, case.delivery_method, case.delivery_ticket) == (CS.COMPLETED, "window", t.id)


def test_a_promised_case_is_not_decided_at_the_window(desk: Desk) -> None:
    desk.serve()
    case = desk.accept("SW-003")
    desk.refused(
        c.DecideCase(receipt_no=case.receipt_no, decision=c.Decision.APPROVED, window=3),
        "not_allowed",
        "back office",
    )
    desk.refused(
        c.DecideCase(receipt_no=case.receipt_no, decision=c.Decision.APPROVED),
        "illegal_transition",
        f"cannot decide case {case.receipt_no}: it is accepted",
    )


# ---------------------------------------------------------------------- 不予受理, 补正, 容缺


def test_rejection_needs_a_reason_and_gives_a_receipt(desk: Desk) -> None:
    desk.serve()
    desk.refused(c.RejectCase(window=3, matter="SW-003", reason="  "), "reason_required")
    [ev] = desk.do(c.RejectCase(window=3, matter="SW-003", reason="不属于本机关职权范围"))
    case = desk.hall.cases[ev.receipt_no]
    assert (ev.type, case.state, case.rejection_reason) == (
        "case_rejected",
        CS.REJECTED,
        "不属于本机关职权范围",
    )
    assert case.receipt_no == "SL-20261123-0001" and case.due_at is None
    desk.refused(c.StartReview(receipt_no=case.receipt_no), "illegal_transition", "it is rejected")


def test_materials_notice_lists_everything_then_any_window_resumes_and_the_clock_starts(desk: Desk) -> None:
    desk.serve()
    desk.refused(c.RequestMaterials(window=3, matter="SW-003", missing_materials=()), "missing_field")
    desk.refused(
        c.RequestMaterials(window=3, matter="SW-003", missing_materials=("营业执照", "营业执照")),
        "invalid_field",
    )
    [ev] = desk.do(
        c.RequestMaterials(window=3, matter="SW-003", missing_materials=("营业执照副本", "税务登记表"))
    )
    case = desk.hall.cases[ev.receipt_no]
    assert (ev.type, case.state, case.missing_materials) == (
        "materials_requested",
        CS.MATERIALS_REQUESTED,
        ["营业执照副本", "税务登记表"],
    )
    assert case.clock_started_at is None and case.due_at is None  # the clock has not started
    desk.refused(c.StartReview(receipt_no=case.receipt_no), "illegal_transition", "it is materials_requested")
    # Thursday: the applicant is back with everything, at window 2 (another window)
    desk.go(at(2026, 11, 26, 15, 0))
    t2 = desk.serve(window=2, queue="A")
    [ev] = desk.do(c.ResumeCase(window=2, receipt_no=case.receipt_no), W1)
    assert (ev.type, ev.after_materials) == ("case_accepted", True)
    assert (case.state, case.clock_started_at, case.ticket, case.window) == (CS.ACCEPTED, desk.now, t2.id, 2)
    assert case.due_at == cob(2026, 12, 3)  # 5 working days after Thursday 11-26
    desk.refused(c.ResumeCase(window=2, receipt_no=case.receipt_no), "illegal_transition", "it is accepted")


def test_a_materials_case_can_be_rejected_by_its_receipt(desk: Desk) -> None:
    desk.serve()
    [ev] = desk.do(c.RequestMaterials(window=3, matter="SW-003", missing_materials=("营业执照",)))
    receipt = ev.receipt_no
    [ev] = desk.do(c.RejectCase(window=3, receipt_no=receipt, reason="申请人放弃"))
    assert desk.hall.cases[receipt].state is CS.REJECTED and ev.new is False


def test_deficiency_acceptance_tracks_the_promised_item(desk: Desk) -> None:
    desk.serve()
    desk.refused(c.AcceptCase(window=3, matter="SW-003", deficiency_item="身份证复印件"), "missing_field")
    desk.refused(
        c.AcceptCase(
            window=3,
            matter="SW-003",
            deficiency_item="身份证复印件",
            deficiency_promised_date=date(2026, 11, 20),
        ),
        "invalid_field",
        "past",
    )
    case = desk.accept(deficiency_item="身份证复印件", deficiency_promised_date=date(2026, 11, 25))
    assert case.clock_started_at == desk.now  # 容缺: the clock runs
    assert desk.hall.case_view(case, desk.now)["deficiency_status"] == "pending"
    assert desk.hall.case_view(case, at(2026, 11, 26))["deficiency_status"] == "overdue"
    desk.go(at(2026, 11, 25, 11, 0))
    ev = desk.do(c.SupplyMaterials(receipt_no=case.receipt_no))[-1]
    assert (ev.type, ev.on_time, case.deficiency_supplied_at) == ("materials_supplied", True, desk.now)
    assert desk.hall.case_view(case, desk.now)["deficiency_status"] == "supplied"
    desk.refused(c.SupplyMaterials(receipt_no=case.receipt_no), "illegal_transition", "already supplied")


def test_supply_without_a_missing_item_is_refused(desk: Desk) -> None:
    desk.serve()
    case = desk.accept()
    desk.refused(c.SupplyMaterials(receipt_no=case.receipt_no), "not_allowed")
    desk.refused(c.SupplyMaterials(receipt_no="SL-20261123-0099"), "unknown_case")


# ---------------------------------------------------------------------- back office


def test_review_suspend_resume_extend_decide_deliver(desk: Desk) -> None:
    desk.serve()
    case = desk.accept()  # due Monday 11-30
    receipt = case.receipt_no
    desk.later(hours=1)
    desk.do(c.StartReview(receipt_no=receipt, scope=TAX), BO_TAX)
    assert (case.state, case.reviewer) == (CS.IN_REVIEW, "bo-tax")
    desk.refused(
        c.SuspendCase(receipt_no=receipt, reason="补材料", expected_working_days=3),
        "invalid_field",
        "art. 45",
    )
    desk.refused(c.SuspendCase(receipt_no=receipt, reason="鉴定", expected_working_days=0), "invalid_field")
    [ev] = desk.do(
        c.SuspendCase(receipt_no=receipt, reason="鉴定", expected_working_days=3, scope=TAX), BO_TAX
    )
    assert (case.state, case.suspension_reason, case.suspended_since) == (CS.SUSPENDED, "鉴定", desk.now)
    assert case.due_at == cob(2026, 12, 3)  # 5 + the 3 expected working days
    assert desk.hall.case_view(case, at(2026, 12, 5))["overdue"] is False  # the clock is paused
    desk.refused(
        c.ExtendCase(receipt_no=receipt, working_days=5, reason="x"), "illegal_transition", "suspended"
    )
    desk.refused(
        c.DecideCase(receipt_no=receipt, decision=c.Decision.APPROVED), "illegal_transition", "suspended"
    )
    # back on Thursday 11-26: paused the working days in (Mon, Thu] = 3
    desk.go(at(2026, 11, 26, 14, 0))
    ev = desk.do(c.ResumeReview(receipt_no=receipt, scope=TAX), BO_TAX)[-1]
    assert (ev.type, ev.paused_working_days) == ("review_resumed", 3)
    assert (case.state, case.paused_working_days, case.due_at) == (CS.IN_REVIEW, 3, cob(2026, 12, 3))
    desk.refused(c.ExtendCase(receipt_no=receipt, working_days=5, reason=""), "reason_required")
    desk.refused(c.ExtendCase(receipt_no=receipt, working_days=11, reason="核查"), "invalid_field")
    [ev] = desk.do(c.ExtendCase(receipt_no=receipt, working_days=5, reason="需现场核查", scope=TAX), BO_TAX)
    assert (ev.previous_due_at, case.due_at) == (cob(2026, 12, 3), cob(2026, 12, 10))
    desk.refused(
        c.ExtendCase(receipt_no=receipt, working_days=1, reason="再延"), "extension_used", "already extended"
    )
    desk.go(at(2026, 12, 8, 9, 0))
    desk.refused(c.DecideCase(receipt_no=receipt, decision=c.Decision.DISAPPROVED), "reason_required")
    desk.do(c.DecideCase(receipt_no=receipt, decision=c.Decision.APPROVED, scope=TAX), BO_TAX)
    assert (case.state, case.decision, case.decided_on_time, case.decided_by) == (
        CS.DECIDED,
        "approved",
        True,
        "bo-tax",
    )
    desk.refused(
        c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.WINDOW, window=3), "no_current_ticket"
    )
    # 出件: the citizen takes a P ticket; window 9 (出件) serves it and hands the result out
    desk.serve(window=3)
    desk.refused(
        c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.WINDOW, window=3),
        "not_served_here",
        "not a 出件 window",
    )
    pickup = desk.serve(window=9, queue="P")
    [ev] = desk.do(c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.WINDOW, window=9), W9)
    assert (ev.type, ev.ticket, ev.window) == ("case_delivered", pickup.id, 9)
    assert (case.state, case.delivery_window, case.delivery_ticket) == (CS.COMPLETED, 9, pickup.id)
    desk.refused(
        c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.POST), "illegal_transition", "completed"
    )


def test_delivery_by_post_and_the_events_name_actor_and_time(desk: Desk) -> None:
    desk.serve()
    case = desk.accept()
    log = []
    desk.refused(
        c.DeliverCase(receipt_no=case.receipt_no, method=c.DeliveryMethod.POST),
        "illegal_transition",
        "it is accepted",
    )
    for cmd in (
        c.StartReview(receipt_no=case.receipt_no),
        c.DecideCase(receipt_no=case.receipt_no, decision=c.Decision.DISAPPROVED, note="不符合条件"),
        c.DeliverCase(receipt_no=case.receipt_no, method=c.DeliveryMethod.POST, note="EMS 1234"),
    ):
        desk.later(minutes=7)
        log += desk.do(cmd, BO_TAX)
    assert [(e.type, e.actor, e.at, e.receipt_no) for e in log] == [
        ("review_started", "staff:bo-tax", at(2026, 11, 23, 9, 7), case.receipt_no),
        ("case_decided", "staff:bo-tax", at(2026, 11, 23, 9, 14), case.receipt_no),
        ("case_delivered", "staff:bo-tax", at(2026, 11, 23, 9, 21), case.receipt_no),
    ]
    assert (case.state, case.decision, case.delivery_method, case.delivery_note) == (
        CS.COMPLETED,
        "disapproved",
        "post",
        "EMS 1234",
    )


def test_an_extension_after_the_deadline_is_refused(desk: Desk) -> None:
    desk.serve()
    case = desk.accept()  # due Monday 11-30 17:30
    desk.do(c.StartReview(receipt_no=case.receipt_no), BO_TAX)
    desk.go(at(2026, 11, 30, 17, 31))
    assert desk.hall.case_view(case, desk.now)["overdue"] is True
    desk.refused(c.ExtendCase(receipt_no=case.receipt_no, working_days=5, reason="核查"), "deadline_passed")
    desk.do(c.DecideCase(receipt_no=case.receipt_no, decision=c.Decision.APPROVED), BO_TAX)
    assert case.decided_on_time is False


def test_due_soon_and_overdue_marks(desk: Desk) -> None:
    desk.serve()
    case = desk.accept()  # due 2026-11-30 17:30; rules.due_soon_hours = 4
    marks = lambda when: {k: desk.hall.case_view(case, when)[k] for k in ("overdue", "due_soon")}  # noqa: E731
    assert marks(at(2026, 11, 30, 13, 29)) == {"overdue": False, "due_soon": False}
    assert marks(at(2026, 11, 30, 13, 30)) == {"overdue": False, "due_soon": True}
    assert marks(at(2026, 11, 30, 17, 31)) == {"overdue": True, "due_soon": False}


def test_the_back_office_acts_only_on_its_department(desk: Desk) -> None:
    desk.serve()
    case = desk.accept()  # 税务局
    desk.refused(c.StartReview(receipt_no=case.receipt_no, scope="县公安局"), "not_your_department")
    desk.do(c.StartReview(receipt_no=case.receipt_no, scope="县税务局"), BO_TAX)
    assert desk.hall.list_cases(desk.now, department="县公安局") == []
    assert [v["receipt_no"] for v in desk.hall.list_cases(desk.now, department=TAX)] == [case.receipt_no]


@pytest.mark.parametrize(
    ("staff", "case", "ok"),
    [
        ("县税务局", "税务局", True),
        ("县自然资源局(不动产登记中心)", "自然资源局（不动产登记中心）", True),  # full-width brackets
        ("县公安局", "公安局（户政）", True),  # a unit belongs to its department
        ("县市场监管局", "市场监管局", True),
        ("县税务局", "公安局（户政）", False),
        ("县自然资源局(不动产登记中心)", "自然资源局", False),  # the unit does not act for the whole
        ("", "税务局", False),
    ],
)
def test_department_matching(staff: str, case: str, ok: bool) -> None:
    assert department_matches(staff, case) is ok
    assert department_matches(None, case) is True  # a manager


def test_every_illegal_step_is_named_by_the_transition_table(desk: Desk) -> None:
    """For each action and each state it does not allow, the core refuses with
    illegal_transition and the message of the table."""
    desk.serve()
    commands = {
        "resume": lambda r: c.ResumeCase(window=3, receipt_no=r),
        "start the review of": lambda r: c.StartReview(receipt_no=r),
        "suspend": lambda r: c.SuspendCase(receipt_no=r, reason="鉴定", expected_working_days=2),
        "resume the review of": lambda r: c.ResumeReview(receipt_no=r),
        "decide": lambda r: c.DecideCase(receipt_no=r, decision=c.Decision.APPROVED),
        "deliver": lambda r: c.DeliverCase(receipt_no=r, method=c.DeliveryMethod.POST),
    }
    cases = {CS.ACCEPTED: desk.accept().receipt_no}
    cases[CS.REJECTED] = desk.do(c.RejectCase(window=3, matter="SW-003", reason="x"))[0].receipt_no
    cases[CS.MATERIALS_REQUESTED] = desk.do(
        c.RequestMaterials(window=3, matter="SW-003", missing_materials=("税务登记表",))
    )[0].receipt_no
    checked = 0
    for action, make in commands.items():
        for state, receipt in cases.items():
            if state in CASE_TRANSITIONS[action]:
                continue
            desk.refused(
                make(receipt), "illegal_transition", f"cannot {action} case {receipt}: it is {state.value}"
            )
            checked += 1
    assert checked >= 12


# ---------------------------------------------------------------------- deadlines over the calendars


def _case_deadline(
    desk: Desk,
    accepted: datetime,
    promised: int,
    suspension: tuple[datetime, datetime] | None,
    extension: int,
) -> Case:
    matter = next(m for m in MATTERS.values() if m.promised_working_days == promised and not m.is_bundle)
    desk.go(accepted)
    desk.hall = Hall(desk.config, matters=MATTERS, calendar=desk.hall.calendar)
    desk.serve(window=2, queue="A")
    case = desk.accept(matter.code, window=2)
    desk.do(c.StartReview(receipt_no=case.receipt_no))
    if extension:
        desk.do(c.ExtendCase(receipt_no=case.receipt_no, working_days=extension, reason="核查"))
    if suspension:
        desk.go(suspension[0])
        desk.do(c.SuspendCase(receipt_no=case.receipt_no, reason="检验", expected_working_days=1))
        desk.go(suspension[1])
        desk.do(c.ResumeReview(receipt_no=case.receipt_no))
    return case


def _expected(
    accepted: datetime, promised: int, suspension: tuple[datetime, datetime] | None, extension: int
) -> datetime:
    paused = CAL.working_days_between(suspension[0].date(), suspension[1].date()) if suspension else 0
    return CAL.deadline(accepted, promised + extension, time(17, 30), TZ, paused).at


@pytest.mark.parametrize(
    ("accepted", "promised", "suspension", "extension", "due", "why"),
    [
        (at(2025, 9, 29), 3, None, 0, cob(2025, 10, 10), "2025 国庆+中秋 10/1-8 off; 9/30, 10/9, 10/10"),
        (
            at(2025, 12, 30),
            3,
            None,
            0,
            cob(2026, 1, 5),
            "2026 元旦 1/1-3 off, Sun 1/4 a make-up day: 12/31, 1/4, 1/5",
        ),
        (
            at(2026, 2, 12),
            3,
            None,
            0,
            cob(2026, 2, 24),
            "春节 2/15-23 off, Sat 2/14 a make-up day: 2/13, 2/14, 2/24",
        ),
        (at(2026, 4, 30), 1, None, 0, cob(2026, 5, 6), "劳动节 5/1-5 off"),
        (
            at(2026, 9, 30, 16, 0),
            5,
            None,
            0,
            cob(2026, 10, 13),
            "国庆 10/1-7 off, Sat 10/10 on: 10/8, 9, 10, 12, 13",
        ),
        (
            at(2026, 9, 18, 18, 0),
            1,
            None,
            0,
            cob(2026, 9, 20),
            "after close of business: no extra day; Sun 9/20 is on",
        ),
        (
            at(2026, 11, 23),
            5,
            (at(2026, 11, 24, 9), at(2026, 11, 27, 9)),
            0,
            cob(2026, 12, 3),
            "5 + 3 paused",
        ),
        (
            at(2026, 11, 23),
            5,
            (at(2026, 11, 24, 9), at(2026, 11, 24, 16)),
            0,
            cob(2026, 11, 30),
            "same-day pause: 0",
        ),
        (at(2026, 11, 23), 10, None, 10, cob(2026, 12, 21), "10 + a 10-day extension"),
        (
            at(2026, 9, 24),
            5,
            (at(2026, 9, 25, 9), at(2026, 10, 9, 9)),
            3,
            cob(2026, 10, 20),
            "a suspension across 中秋 and 国庆 pauses only working days (9/28-30, 10/8-9: 5); 5 + 3 + 5 = 13",
        ),
    ],
)
def test_deadline_table_over_the_official_calendars(
    accepted: datetime,
    promised: int,
    suspension: tuple[datetime, datetime] | None,
    extension: int,
    due: datetime,
    why: str,
) -> None:
    desk = Desk(accepted)
    case = _case_deadline(desk, accepted, promised, suspension, extension)
    assert case.due_at == due, why
    assert case.due_at == _expected(accepted, promised, suspension, extension)
    # 2025 and 2026 are official; December 2026 stays provisional until 2027 is known (§3)
    assert case.provisional is (due.year == 2026 and due.month == 12)


def test_a_provisional_2027_deadline_changes_once_the_2027_notice_is_loaded() -> None:
    # 20 working days from Friday 2027-01-22 cross the (test) 春节 2/5-13 and make-up day 2/14
    desk = Desk(at(2027, 1, 22))
    case = _case_deadline(desk, at(2027, 1, 22), 20, None, 0)
    provisional_due = case.due_at
    assert case.provisional is True
    assert provisional_due == cob(2027, 2, 19)  # weekends and 1/1 only: 1/25 ... 2/19
    # the 2027 notice arrives (here the test fixture), the server restarts and recomputes
    desk.restart()
    desk.hall.calendar = CAL.with_years([read_year_file(FIXTURE_2027)])
    [ev] = desk.do(c.RecomputeDeadlines())
    case = desk.hall.cases[case.receipt_no]
    assert ev.type == "deadline_recomputed"
    # with the notice: 春节 2/5-13 off, Sun 2/14 and Sat 2/20 make-up days → Thursday 2/25
    assert (ev.previous_due_at, ev.due_at) == (provisional_due, cob(2027, 2, 25))
    assert (case.due_at, case.provisional) == (cob(2027, 2, 25), False)
    assert desk.do(c.RecomputeDeadlines()) == []  # nothing changes a second time


def test_a_case_due_in_december_is_provisional_until_the_next_year_is_known(desk: Desk) -> None:
    desk.serve()
    case = desk.accept("YB-004")  # 20 working days from 2026-11-23: 2026-12-21
    assert (case.due_at, case.provisional) == (cob(2026, 12, 21), True)
    desk.hall.calendar = CAL.with_years([read_year_file(FIXTURE_2027)])
    [ev] = desk.do(c.RecomputeDeadlines())
    assert (case.due_at, case.provisional) == (cob(2026, 12, 21), False)
    assert ev.provisional is False
