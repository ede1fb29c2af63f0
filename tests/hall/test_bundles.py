"""集成服务 in the core (issue 16): a 一件事 bundle as one case with parts, 并联审批, 统一出件,
the rule for a refused part, the one-time notice from the catalogue's material lists, 帮办 and
代办. Each test names the seed sentence it checks (docs/rules.md, "集成服务")."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from queue_server.catalogue import Material
from queue_server.config_file import load_hall_config
from queue_server.hall import Hall, HallError
from queue_server.hall import commands as c
from queue_server.hall.calendar import WorkCalendar
from queue_server.hall.events import from_record
from queue_server.hall.model import Case, Ticket, Window
from queue_server.hall.states import CaseState as CS
from queue_server.matters import load_matters

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")
SMALL = ROOT / "tests" / "fixtures" / "halls" / "small.toml"
MATTERS = {m.code: m for m in load_matters()}
CAL = WorkCalendar.from_package()
W3 = c.Actor(kind="staff", id="w3", name="窗口三")
BO = c.Actor(kind="staff", id="bo", name="后台")
AGENT = c.Actor(kind="staff", id="dbr-01", name="代办员")
PERSON = c.Applicant(name="李企业", phone="13800000000", id_number="110101199001011234")


def at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def cob(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, 17, 30, tzinfo=TZ)


class Desk:
    def __init__(self, matters: dict[str, Any] | None = None) -> None:
        config = load_hall_config(SMALL)
        self.config = dataclasses.replace(
            config, queues=tuple(dataclasses.replace(q, daily_cap=999) for q in config.queues)
        )
        self.now = at(2026, 11, 23)  # a Monday
        self.hall = Hall(self.config, matters=matters or MATTERS, calendar=CAL)
        self.events: list[Any] = []
        self.tokens = 0

    def do(self, cmd: Any, actor: c.Actor = W3) -> list[Any]:
        out = self.hall.handle(cmd, self.now, actor)
        self.events += out
        return out

    def serve(self, window: int = 3, queue: str = "B") -> Ticket:
        self.do(c.Tick())  # a new day's roll-over first
        if self.hall.windows[window].staff is None:
            self.do(c.StaffLogin(window=window, username=f"w{window}", name=f"窗口{window}"))
        if self.hall.windows[window].state.value != "open":
            self.do(c.OpenWindow(window=window))
        cur = self.hall.windows[window].current_ticket
        if cur is not None and cur in self.hall.tickets and self.hall.tickets[cur].state.value == "serving":
            self.do(c.FinishService(window=window))
        self.tokens += 1
        t = self.hall.tickets[
            self.do(c.IssueTicket(queue=queue, status_token=f"t{self.tokens}", applicant=PERSON))[-1].ticket
        ]
        self.do(c.CallTicket(window=window, ticket=t.id, reason="test"))
        self.do(c.StartService(window=window))
        return t

    def accept(self, matter: str, **kw: Any) -> Case:
        self.serve()
        out = self.do(c.AcceptCase(window=3, matter=matter, **kw))
        return self.hall.cases[out[0].receipt_no]

    def parts(self, bundle: Case) -> dict[str, Case]:
        return {k.matter_code: k for k in self.hall.cases.values() if k.bundle_receipt == bundle.receipt_no}

    def decide(self, case: Case, decision: c.Decision = c.Decision.APPROVED) -> list[Any]:
        self.do(c.StartReview(receipt_no=case.receipt_no), BO)
        return self.do(c.DecideCase(receipt_no=case.receipt_no, decision=decision, note="理由"), BO)

    def refused(self, cmd: Any, code: str, actor: c.Actor = W3) -> HallError:
        before = sorted(repr(k.to_row()) for k in self.hall.cases.values())
        with pytest.raises(HallError) as info:
            self.hall.handle(cmd, self.now, actor)
        assert info.value.code == code, info.value.message
        assert sorted(repr(k.to_row()) for k in self.hall.cases.values()) == before
        return info.value


# ---------------------------------------------------------------------- catalogue


def test_the_four_bundles_name_real_component_matters_with_their_departments() -> None:
    parts = {b: [p.matter for p in MATTERS[b].parts] for b in ("GA-008", "SB-006", "BDC-008", "SS-008")}
    assert parts["SS-008"] == ["SS-003", "SS-007", "SW-001", "SB-002"]
    assert {MATTERS[p].department for p in parts["SS-008"]} == {
        "市场监管局",
        "公安局（治安）",
        "税务局",
        "人社局（社保中心）",
    }
    assert all(parts.values())
    for b in parts:  # 一件事 promises less than (or at most) the matters one by one
        assert MATTERS[b].promised_working_days <= sum(MATTERS[p].promised_working_days for p in parts[b])


def test_shared_materials_are_asked_once_and_results_of_parts_are_not_asked() -> None:
    """一表申请: the bundle's list has each material once and no material a part produces."""
    names = [m.name for m in MATTERS["SS-008"].materials]
    assert len(names) == len(set(names))
    assert "营业执照" not in names  # SS-003 makes it: it stands in for SS-007's and SW-001's copy
    assert "法定代表人身份证件" in names
    assert "公章刻制备案表" not in names and "企业开办一件事申请表" in names  # one form (一表)


# ---------------------------------------------------------------------- one case with parts


def test_one_acceptance_fans_out_to_each_department_in_parallel_and_in_order() -> None:
    """004 (三) 统一受理、按责转办: one acceptance, one part per department; 并联审批."""
    d = Desk()
    bundle = d.accept("SS-008")
    parts = d.parts(bundle)
    assert bundle.state is CS.IN_PARTS and bundle.due_at == cob(2026, 11, 24)  # its own promise: 1 day
    assert set(parts) == {"SS-003", "SS-007", "SW-001", "SB-002"}
    assert parts["SS-003"].state is CS.ACCEPTED and parts["SS-003"].due_at == cob(2026, 11, 24)
    assert parts["SS-003"].department == "市场监管局" and parts["SS-003"].ticket == bundle.ticket
    for code in ("SS-007", "SW-001", "SB-002"):  # they need the 营业执照 first
        assert parts[code].state is CS.WAITING and parts[code].due_at is None
    # each department's back office sees its own part
    listed = d.hall.list_cases(d.now, department="县公安局")
    assert [r["matter_code"] for r in listed] == ["SS-007"]
    d.now = at(2026, 11, 23, 14)
    d.decide(parts["SS-003"])
    parts = d.parts(bundle)
    for code in ("SS-007", "SW-001", "SB-002"):  # released together: they run in parallel
        assert parts[code].state is CS.ACCEPTED and parts[code].due_at == cob(2026, 11, 23)
        assert parts[code].clock_started_at == d.now


def test_a_part_after_two_parts_starts_when_both_are_approved() -> None:
    d = Desk()
    bundle = d.accept("BDC-008")
    parts = d.parts(bundle)
    assert parts["BDC-005"].state is CS.ACCEPTED and parts["BDC-006"].state is CS.ACCEPTED
    d.decide(parts["BDC-006"])
    assert d.parts(bundle)["BDC-002"].state is CS.WAITING
    d.decide(parts["BDC-005"])
    assert d.parts(bundle)["BDC-002"].state is CS.ACCEPTED
    assert d.parts(bundle)["SZ-002"].state is CS.WAITING


def test_the_bundle_is_delivered_once_when_every_part_is_decided() -> None:
    """004 (三) 统一出件."""
    d = Desk()
    bundle = d.accept("SS-008")
    d.decide(d.parts(bundle)["SS-003"])
    for code in ("SS-007", "SW-001"):
        d.decide(d.parts(bundle)[code])
    assert d.hall.cases[bundle.receipt_no].state is CS.IN_PARTS
    decided = d.decide(d.parts(bundle)["SB-002"])
    assert [e.type for e in decided][-1] == "bundle_decided" and decided[-1].decision == "approved"
    assert d.hall.cases[bundle.receipt_no].state is CS.DECIDED
    part = d.parts(bundle)["SW-001"]
    d.serve(window=9, queue="P")
    d.refused(
        c.DeliverCase(receipt_no=part.receipt_no, method=c.DeliveryMethod.WINDOW, window=9),
        "deliver_with_bundle",
    )
    out = d.do(c.DeliverCase(receipt_no=bundle.receipt_no, method=c.DeliveryMethod.WINDOW, window=9))
    assert [e.receipt_no for e in out] == [
        bundle.receipt_no,
        *sorted(p.receipt_no for p in d.parts(bundle).values()),
    ]
    assert all(p.state is CS.COMPLETED for p in d.parts(bundle).values())
    assert d.hall.cases[bundle.receipt_no].state is CS.COMPLETED


def test_the_bundle_itself_is_not_reviewed_its_parts_are() -> None:
    d = Desk()
    bundle = d.accept("SS-008")
    d.refused(c.StartReview(receipt_no=bundle.receipt_no), "illegal_transition", BO)
    d.refused(
        c.DecideCase(receipt_no=bundle.receipt_no, decision=c.Decision.APPROVED), "illegal_transition", BO
    )
    waiting = d.parts(bundle)["SS-007"]
    d.refused(c.StartReview(receipt_no=waiting.receipt_no), "illegal_transition", BO)


def test_a_refused_part_ends_the_parts_that_need_it_and_the_bundle_says_so() -> None:
    """The documented rule for a refused part (docs/rules.md)."""
    d = Desk()
    bundle = d.accept("SS-008")
    out = d.decide(d.parts(bundle)["SS-003"], c.Decision.DISAPPROVED)
    assert [e.type for e in out].count("part_withdrawn") == 3
    assert all(p.state is CS.WITHDRAWN for code, p in d.parts(bundle).items() if code != "SS-003")
    assert d.hall.cases[bundle.receipt_no].decision == "disapproved"
    d2 = Desk()
    b2 = d2.accept("GA-008")
    d2.decide(d2.parts(b2)["WJ-003"])
    d2.decide(d2.parts(b2)["GA-002"])
    d2.decide(d2.parts(b2)["YB-001"])
    d2.decide(d2.parts(b2)["SB-007"], c.Decision.DISAPPROVED)
    assert d2.hall.cases[b2.receipt_no].state is CS.DECIDED
    assert d2.hall.cases[b2.receipt_no].decision == "partly_approved"


def test_a_late_part_shows_its_department_on_the_overdue_list() -> None:
    """Each part has its share; the overdue list shows which department holds a late bundle."""
    d = Desk()
    bundle = d.accept("SS-008")
    late = at(2026, 11, 25, 10)
    view = d.hall.case_view(d.hall.cases[bundle.receipt_no], late)
    assert view["overdue"] is True and view["late_departments"] == ["市场监管局"]
    assert [p["overdue"] for p in view["parts"] if p["matter_code"] == "SS-003"] == [True]
    overdue = [r for r in d.hall.list_cases(late) if r["overdue"]]
    assert {r["matter_code"] for r in overdue} == {"SS-008", "SS-003"}


def test_a_bundle_replays_and_restarts_to_the_same_state() -> None:
    d = Desk()
    bundle = d.accept("BDC-008")
    d.decide(d.parts(bundle)["BDC-006"])
    d.do(c.AssistCase(receipt_no=bundle.receipt_no, helper="bb-01", helper_name="帮办员甲"))
    replayed = Hall(d.config, matters=MATTERS, calendar=CAL)
    for e in d.events:
        replayed.replay(from_record(e.to_record()))
    rows = lambda h: sorted(repr(k.to_row()) for k in h.cases.values())  # noqa: E731
    assert rows(replayed) == rows(d.hall)
    restarted = Hall(
        d.config,
        matters=MATTERS,
        calendar=CAL,
        cases=[Case.from_row(k.to_row()) for k in d.hall.cases.values()],
        case_numbers=dict(d.hall.case_numbers),
        service_date=d.hall.service_date,
        tickets=[Ticket.from_row(t.to_row()) for t in d.hall.tickets.values()],
        windows=[Window.from_row(w.to_row()) for w in d.hall.windows.values()],
    )
    assert rows(restarted) == rows(d.hall)


# ---------------------------------------------------------------------- 一次告知


def test_a_notice_lists_materials_of_the_catalogue_only() -> None:
    """001 清单管理 一次告知: the notice lists the matter's materials, by the list."""
    d = Desk()
    d.serve()
    d.refused(
        c.RequestMaterials(window=3, matter="SW-003", missing_materials=("随便什么",)), "unknown_material"
    )
    listed = MATTERS["SW-003"].materials[1].name
    [e] = d.do(c.RequestMaterials(window=3, matter="SW-003", missing_materials=(listed,)))
    case = d.hall.cases[e.receipt_no]
    assert case.notices == 1 and case.notice_version == MATTERS["SW-003"].materials_version


def test_a_second_notice_is_refused_unless_the_rules_changed() -> None:
    """一次性告知: never a second notice for the same case unless the material list changed."""
    d = Desk()
    d.serve()
    name = MATTERS["SW-003"].materials[0].name
    [e] = d.do(c.RequestMaterials(window=3, matter="SW-003", missing_materials=(name,)))
    d.serve()
    d.refused(
        c.ReissueNotice(window=3, receipt_no=e.receipt_no, missing_materials=(name,)), "notice_already_issued"
    )
    changed = dict(MATTERS)
    changed["SW-003"] = dataclasses.replace(
        MATTERS["SW-003"],
        materials=(
            *MATTERS["SW-003"].materials,
            Material(name="新增证明", form="原件", copies=1, deferrable=False),
        ),
    )
    d.hall.case_book.matters = changed
    [r] = d.do(c.ReissueNotice(window=3, receipt_no=e.receipt_no, missing_materials=("新增证明",)))
    assert r.type == "notice_reissued" and r.previous_version == MATTERS["SW-003"].materials_version
    assert d.hall.cases[e.receipt_no].notices == 2
    d.refused(
        c.ReissueNotice(window=3, receipt_no=e.receipt_no, missing_materials=("新增证明",)),
        "notice_already_issued",
    )


def test_only_a_deferrable_material_may_be_supplied_later() -> None:
    """容缺受理 (001, 003 item 29): only an item the list marks deferrable."""
    d = Desk()
    d.serve()
    later = date(2026, 11, 27)
    d.refused(
        c.AcceptCase(window=3, matter="SS-003", deficiency_item="公司章程", deficiency_promised_date=later),
        "not_deferrable",
    )
    out = d.do(
        c.AcceptCase(
            window=3, matter="SS-003", deficiency_item="住所使用证明", deficiency_promised_date=later
        )
    )
    assert d.hall.cases[out[0].receipt_no].notices == 1


def test_a_bundle_notice_then_complete_materials_fans_out() -> None:
    d = Desk()
    d.serve()
    [e] = d.do(c.RequestMaterials(window=3, matter="SS-008", missing_materials=("公司章程", "住所使用证明")))
    assert d.hall.cases[e.receipt_no].state is CS.MATERIALS_REQUESTED
    d.now += timedelta(days=1)
    d.serve()
    d.do(c.ResumeCase(window=3, receipt_no=e.receipt_no))
    bundle = d.hall.cases[e.receipt_no]
    assert bundle.state is CS.IN_PARTS and len(d.parts(bundle)) == 4


# ---------------------------------------------------------------------- 帮办代办


def test_an_agent_submits_for_a_citizen_who_makes_no_visit() -> None:
    """002 贴心帮办 / 001 ③ 代办: a 代办员 submits on the citizen's behalf."""
    d = Desk()
    e = d.do(c.SubmitForCitizen(matter="SW-003", applicant=PERSON, agent_point="城关镇便民服务中心"), AGENT)[
        -1
    ]
    case = d.hall.cases[e.receipt_no]
    assert (case.ticket, case.window, case.agent, case.agent_point) == (
        None,
        None,
        "dbr-01",
        "城关镇便民服务中心",
    )
    assert case.state is CS.ACCEPTED and case.due_at == cob(2026, 11, 30)
    out = d.do(c.SubmitForCitizen(matter="GA-008", applicant=PERSON, agent_point="城关镇便民服务中心"), AGENT)
    assert [x.type for x in out].count("part_opened") == 4
    d.refused(c.SubmitForCitizen(matter="SW-003", applicant=PERSON, agent_point=""), "missing_field", AGENT)


def test_a_named_helper_accompanies_a_case_and_its_parts() -> None:
    """001 ③ 帮办代办: a named hall helper accompanies the citizen."""
    d = Desk()
    bundle = d.accept("SS-008")
    d.do(c.AssistCase(receipt_no=bundle.receipt_no, helper="bb-01", helper_name="帮办员甲"))
    assert d.hall.cases[bundle.receipt_no].assisted_by == "bb-01"
    assert {p.assisted_by_name for p in d.parts(bundle).values()} == {"帮办员甲"}
    d.refused(c.AssistCase(receipt_no=bundle.receipt_no, helper=" "), "missing_field")
