"""好差评 in the hall core: one rating per service, nobody rates for someone else, and the
closed loop of every 差评 with each outcome (domain rules §4)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from test_cases import CAL, FIXTURE_2027, TZ, W3, Desk, at, cob

from queue_server.calendar_data import read_year_file
from queue_server.hall import commands as c
from queue_server.hall.states import RECTIFICATION_TRANSITIONS
from queue_server.hall.states import RectificationState as RS

PAD_3 = c.Actor(kind="device", id="rating-pad-3")
PAD_2 = c.Actor(kind="device", id="rating-pad-2")
CITIZEN = c.Actor(kind="anonymous", id="-")
BO_TAX = c.Actor(kind="staff", id="bo-tax", name="何俊")
MANAGER = c.Actor(kind="staff", id="manager", name="值班主任")
TAX = "县税务局"


@pytest.fixture
def desk() -> Desk:
    return Desk()


def finish(desk: Desk, window: int = 3, queue: str = "B", matter: str | None = None):
    t = desk.serve(window=window, queue=queue)
    if matter:
        desk.accept(matter, window=window)
    desk.later(minutes=4)
    desk.do(c.FinishService(window=window))
    return t


def pad(desk: Desk, t, score: int, window: int = 3, actor: c.Actor = PAD_3, **kw: Any):
    return desk.do(c.RateService(score=score, window=window, ticket=t.id, **kw), actor)


def bad(desk: Desk, t=None) -> int:
    """A 差评 from the pad of window 3; the rectification id."""
    t = t or finish(desk, matter="SW-003")
    events = pad(desk, t, 1, reasons=("办理时间过长",), text="审批拖了两周")
    assert [e.type for e in events] == ["service_rated", "rectification_opened"]
    return events[1].rectification_id


# ---------------------------------------------------------------------- rating


def test_the_pad_rates_the_service_just_finished_once(desk: Desk) -> None:
    t = finish(desk, matter="SW-003")
    [ev] = pad(desk, t, 5)
    r = desk.hall.ratings[ev.rating_id]
    assert (ev.type, ev.actor, ev.ticket, ev.window) == ("service_rated", "device:rating-pad-3", t.id, 3)
    assert (r.score, r.channel, r.staff, r.staff_name, r.department) == (5, "pad", "w3", "窗口三", TAX)
    assert (r.matter_code, r.receipt_no, r.excluded) == ("SW-003", "SL-20261123-0001", False)
    assert desk.hall.rectifications == {}  # 好评: no loop
    desk.refused(
        c.RateService(score=1, reasons=("x",), window=3, ticket=t.id), "already_rated", "一次一评", PAD_3
    )
    desk.refused(c.RateService(score=4, status_token=t.status_token), "already_rated", actor=CITIZEN)


def test_the_pad_shows_who_served_and_which_matter(desk: Desk) -> None:
    t = finish(desk, matter="SW-003")
    shown = desk.hall.rateable_service(3, desk.now)
    assert shown is not None
    assert (shown["ticket"], shown["staff_name"], shown["matter_name"], shown["rated"]) == (
        t.id,
        "窗口三",
        "增值税专用发票（增值税税控系统）最高开票限额审批",
        False,
    )
    assert shown["rateable_until"] == datetime(2026, 11, 23, 9, 14, tzinfo=TZ).isoformat()
    desk.later(minutes=11)
    assert desk.hall.rateable_service(3, desk.now) is None


def test_the_service_finished_event_names_the_staff_and_the_matter(desk: Desk) -> None:
    desk.serve()
    desk.accept("SW-003")
    [ev] = desk.do(c.FinishService(window=3))
    assert (ev.staff_name, ev.matter_name) == ("窗口三", "增值税专用发票（增值税税控系统）最高开票限额审批")
    desk.serve()
    [ev] = desk.do(c.FinishService(window=3))
    assert ev.matter_name == "税务"  # no case: the queue's name


def test_nobody_rates_for_someone_else(desk: Desk) -> None:
    t1 = finish(desk, window=1, queue="A")
    # the pad of window 2 cannot rate window 1's service
    desk.refused(c.RateService(score=5, window=2, ticket=t1.id), "not_your_window", "window 1", PAD_2)
    # a service still in progress cannot be rated
    t3 = desk.serve(window=3)
    desk.refused(c.RateService(score=5, window=3, ticket=t3.id), "not_rateable", "after it finished", PAD_3)
    desk.refused(c.RateService(score=5, status_token=t3.status_token), "not_rateable", actor=CITIZEN)
    desk.do(c.FinishService(window=3))
    # only the last service of its window: once the next one finished, the earlier is gone
    t4 = finish(desk, window=3)
    desk.refused(c.RateService(score=5, window=3, ticket=t3.id), "not_rateable", "just finished", PAD_3)
    desk.refused(c.RateService(score=5, status_token="no-such-token"), "unknown_ticket", actor=CITIZEN)
    # and only within rules.rating_pad_minutes
    desk.later(minutes=10, seconds=1)
    desk.refused(c.RateService(score=5, window=3, ticket=t4.id), "rating_expired", actor=PAD_3)
    # the citizen's own status page still can
    [ev] = desk.do(c.RateService(score=4, status_token=t3.status_token), CITIZEN)
    assert (ev.ticket, ev.channel) == (t3.id, "status_page")


def test_a_bad_rating_must_say_what_was_wrong(desk: Desk) -> None:
    t = finish(desk)
    desk.refused(c.RateService(score=2, window=3, ticket=t.id), "reason_required", "差评", PAD_3)
    desk.refused(c.RateService(score=6, window=3, ticket=t.id), "invalid_field", actor=PAD_3)
    desk.refused(c.RateService(score=0, window=3, ticket=t.id), "invalid_field", actor=PAD_3)
    events = pad(desk, t, 2, text="材料说了三次才说清")  # text alone is enough
    assert events[0].bad is True and events[1].type == "rectification_opened"


@pytest.mark.parametrize(
    ("rated", "contact_due", "rectify_due"),
    [
        (at(2026, 11, 23, 10, 0), cob(2026, 11, 24), cob(2026, 11, 25)),  # Monday
        (at(2026, 11, 27, 16, 0), cob(2026, 11, 30), cob(2026, 12, 1)),  # Friday: over the weekend
        (at(2026, 9, 30, 11, 0), cob(2026, 10, 8), cob(2026, 10, 9)),  # before 国庆 10/1-7
        (at(2026, 10, 9, 18, 0), cob(2026, 10, 10), cob(2026, 10, 12)),  # after hours; Sat 10/10 is on
    ],
)
def test_a_bad_rating_opens_a_rectification_due_in_working_days(
    rated: datetime, contact_due: datetime, rectify_due: datetime
) -> None:
    desk = Desk(rated - timedelta(minutes=4))  # the service finishes 4 minutes later, then the rating
    rid = bad(desk)
    r = desk.hall.rectifications[rid]
    assert (r.state, r.owner_department, r.owner_staff, r.owner_staff_name) == (RS.OPEN, TAX, "w3", "窗口三")
    assert r.opened_at == desk.now == rated
    assert (r.contact_due, r.rectify_due) == (contact_due, rectify_due)
    rules = desk.config.rules  # the same, computed with the calendar from the rules
    assert [r.contact_due, r.rectify_due] == [
        CAL.deadline(rated, n, time(17, 30), TZ).at
        for n in (rules.contact_due_working_days, rules.rectify_due_working_days)
    ]


def test_resolved_on_the_spot(desk: Desk) -> None:
    rid = bad(desk)
    desk.refused(c.ResolveOnTheSpot(rectification=rid, note=" "), "reason_required")
    [ev] = desk.do(c.ResolveOnTheSpot(rectification=rid, note="当场重新讲解并办结"), W3)
    r = desk.hall.rectifications[rid]
    assert (ev.type, r.state, r.outcome, r.closed_at) == (
        "resolved_on_the_spot",
        RS.CLOSED,
        "on_the_spot",
        desk.now,
    )
    assert (r.contact_on_time, r.rectify_on_time) == (True, True)
    desk.refused(
        c.ContactRater(rectification=rid, note="x"),
        "illegal_transition",
        f"cannot record contact for rectification {rid}: it is closed",
    )


def test_explained_when_the_demand_has_no_legal_basis(desk: Desk) -> None:
    rid = bad(desk)
    desk.later(hours=2)
    desk.do(c.ContactRater(rectification=rid, note="电话沟通", scope=TAX), BO_TAX)
    desk.do(c.ExplainRating(rectification=rid, explanation="该事项依法须本人到场办理", scope=TAX), BO_TAX)
    r = desk.hall.rectifications[rid]
    assert (r.state, r.outcome, r.explanation, r.contact_on_time, r.rectify_on_time) == (
        RS.CLOSED,
        "explained",
        "该事项依法须本人到场办理",
        True,
        True,
    )


def test_contacted_rectified_revisited_closed_with_on_time_flags(desk: Desk) -> None:
    rid = bad(desk)  # Monday 09:04: contact due Tue 17:30, rectify due Wed 17:30
    r = desk.hall.rectifications[rid]
    view = lambda: desk.hall.rectification_view(r, desk.now)  # noqa: E731
    desk.refused(c.Rectify(rectification=rid, measures="x"), "illegal_transition", "it is open")
    desk.refused(c.Revisit(rectification=rid, satisfaction=5), "illegal_transition", "it is open")
    desk.go(at(2026, 11, 24, 14, 0))
    assert (view()["due_soon"], view()["overdue"]) == (True, False)  # within 4 hours of the contact due
    desk.do(c.ContactRater(rectification=rid, note="已电话联系", scope=TAX), BO_TAX)
    assert (r.state, r.contacted_by, r.contact_on_time) == (RS.CONTACTED, "bo-tax", True)
    desk.go(at(2026, 11, 25, 17, 31))
    assert (view()["rectify_overdue"], view()["overdue"]) == (True, True)
    desk.do(c.Rectify(rectification=rid, measures="高峰时段增开窗口", scope=TAX), BO_TAX)
    assert (r.state, r.rectify_on_time) == (RS.RECTIFIED, False)  # late
    assert view()["overdue"] is False
    desk.refused(c.Revisit(rectification=rid, satisfaction=0), "invalid_field")
    desk.do(c.Revisit(rectification=rid, satisfaction=4, note="表示认可", scope=TAX), BO_TAX)
    assert (r.state, r.outcome, r.revisit_satisfaction, r.closed_at) == (RS.CLOSED, "rectified", 4, desk.now)


def test_overdue_contact(desk: Desk) -> None:
    rid = bad(desk)
    r = desk.hall.rectifications[rid]
    later = at(2026, 11, 24, 17, 31)
    view = desk.hall.rectification_view(r, later)
    assert (view["contact_overdue"], view["rectify_overdue"], view["overdue"]) == (True, False, True)
    desk.go(later)
    desk.do(c.ContactRater(rectification=rid, note="联系"), BO_TAX)
    assert r.contact_on_time is False


def test_appeal_upheld_keeps_the_rating_but_excludes_it(desk: Desk) -> None:
    rid = bad(desk)
    r = desk.hall.rectifications[rid]
    rating = desk.hall.ratings[r.rating_id]
    desk.refused(c.AppealRating(rectification=rid, reason="误评", staff="w1"), "not_owner")
    desk.do(c.AppealRating(rectification=rid, reason="评价人误操作", staff="w3"), W3)
    assert (r.state, r.appeal_from_state, r.appealed_by) == (RS.APPEALED, "open", "w3")
    desk.refused(c.ContactRater(rectification=rid, note="x"), "illegal_transition", "it is appealed")
    [ev] = desk.do(
        c.DecideAppeal(rectification=rid, decision=c.AppealDecision.UPHELD, note="经核实属误评"), MANAGER
    )
    assert (ev.type, r.state, r.outcome, r.appeal_decision) == (
        "appeal_decided",
        RS.CLOSED,
        "appeal_upheld",
        "upheld",
    )
    assert rating.excluded is True and rating.id in desk.hall.ratings  # never deleted
    assert desk.hall.take_changes().ratings[rating.id].to_row()["excluded"] == 1


def test_appeal_rejected_continues_the_loop_where_it_was(desk: Desk) -> None:
    rid = bad(desk)
    r = desk.hall.rectifications[rid]
    desk.do(c.ContactRater(rectification=rid, note="已联系"), BO_TAX)
    desk.do(c.AppealRating(rectification=rid, reason="恶意差评", scope=TAX), BO_TAX)
    desk.refused(c.DecideAppeal(rectification=rid, decision=c.AppealDecision.REJECTED), "reason_required")
    desk.do(c.DecideAppeal(rectification=rid, decision=c.AppealDecision.REJECTED, note="证据不足"), MANAGER)
    assert (r.state, r.appeal_decision, desk.hall.ratings[r.rating_id].excluded) == (
        RS.CONTACTED,
        "rejected",
        False,
    )
    desk.refused(c.AppealRating(rectification=rid, reason="再次申诉"), "appeal_used")
    desk.do(c.Rectify(rectification=rid, measures="整改"), BO_TAX)
    assert r.state is RS.RECTIFIED


def test_one_follow_up_after_rectification(desk: Desk) -> None:
    t = finish(desk, matter="SW-003")
    rid = bad(desk, t)
    r = desk.hall.rectifications[rid]
    desk.refused(c.FollowUpRating(status_token=t.status_token, score=4), "not_allowed", "rectified", CITIZEN)
    desk.do(c.ContactRater(rectification=rid, note="已联系"), BO_TAX)
    desk.do(c.Rectify(rectification=rid, measures="整改"), BO_TAX)
    [ev] = desk.do(c.FollowUpRating(status_token=t.status_token, score=4), CITIZEN)
    assert (ev.type, ev.follow_up_of, ev.score) == ("follow_up_rated", r.rating_id, 4)
    follow = desk.hall.ratings[ev.rating_id]
    assert (follow.follow_up_of, follow.ticket, follow.channel) == (r.rating_id, t.id, "status_page")
    assert desk.hall.rating_of_ticket(t.id).id == r.rating_id  # the first rating stays the service's rating
    desk.refused(c.FollowUpRating(status_token=t.status_token, score=5), "follow_up_used", actor=CITIZEN)
    status = desk.hall.rating_status(t.status_token)
    assert (status["rated"], status["score"], status["follow_up_score"], status["follow_up_allowed"]) == (
        True,
        1,
        4,
        False,
    )


def test_a_follow_up_only_for_a_bad_rating_and_by_its_ticket(desk: Desk) -> None:
    t = finish(desk)
    pad(desk, t, 5)
    desk.refused(c.FollowUpRating(status_token=t.status_token, score=5), "not_allowed", "差评", CITIZEN)
    desk.refused(c.FollowUpRating(status_token="someone-else", score=5), "unknown_rating", actor=CITIZEN)


def test_a_follow_up_days_later_after_a_restart(desk: Desk) -> None:
    t = finish(desk, matter="SW-003")
    rid = bad(desk, t)
    desk.do(c.ResolveOnTheSpot(rectification=rid, note="当场解决"), W3)
    desk.go(at(2026, 12, 1, 10, 0))
    desk.restart()
    desk.do(c.Tick())  # a new day: today's tickets are gone, the rating of the loop is kept
    assert t.id not in desk.hall.tickets
    [ev] = desk.do(c.FollowUpRating(status_token=t.status_token, score=5), CITIZEN)
    assert ev.follow_up_of == desk.hall.rectifications[rid].rating_id
    desk.go(at(2026, 12, 30, 10, 0))
    desk.do(c.Tick())
    assert rid not in desk.hall.rectifications  # closed more than follow_up_days ago: no longer held


def test_the_back_office_acts_only_on_its_department(desk: Desk) -> None:
    rid = bad(desk)
    desk.refused(c.ContactRater(rectification=rid, note="x", scope="县公安局"), "not_your_department")
    desk.refused(c.ContactRater(rectification=999, note="x"), "unknown_rectification")
    assert desk.hall.list_rectifications(desk.now, department="县公安局") == []
    assert [v["id"] for v in desk.hall.list_rectifications(desk.now, department=TAX)] == [rid]


def test_ratings_and_loops_survive_a_restart(desk: Desk) -> None:
    t = finish(desk, matter="SW-003")
    rid = bad(desk, t)
    desk.restart()
    desk.refused(c.RateService(score=5, window=3, ticket=t.id), "already_rated", actor=PAD_3)
    desk.do(c.ContactRater(rectification=rid, note="已联系"), BO_TAX)
    t2 = finish(desk)
    [ev] = pad(desk, t2, 5)
    assert ev.rating_id == desk.hall.rectifications[rid].rating_id + 1  # ids go on


def test_every_illegal_step_of_the_loop_is_named_by_the_table(desk: Desk) -> None:
    commands = {
        "record contact for": lambda r: c.ContactRater(rectification=r, note="n"),
        "record rectification for": lambda r: c.Rectify(rectification=r, measures="m"),
        "record the revisit for": lambda r: c.Revisit(rectification=r, satisfaction=5),
        "resolve on the spot": lambda r: c.ResolveOnTheSpot(rectification=r, note="n"),
        "explain": lambda r: c.ExplainRating(rectification=r, explanation="e"),
        "appeal": lambda r: c.AppealRating(rectification=r, reason="r"),
        "uphold the appeal of": lambda r: c.DecideAppeal(rectification=r, decision=c.AppealDecision.UPHELD),
        "reject the appeal of": lambda r: c.DecideAppeal(
            rectification=r, decision=c.AppealDecision.REJECTED, note="n"
        ),
    }
    loops = {RS.OPEN: bad(desk)}
    loops[RS.CONTACTED] = bad(desk)
    desk.do(c.ContactRater(rectification=loops[RS.CONTACTED], note="n"))
    loops[RS.RECTIFIED] = bad(desk)
    desk.do(c.ContactRater(rectification=loops[RS.RECTIFIED], note="n"))
    desk.do(c.Rectify(rectification=loops[RS.RECTIFIED], measures="m"))
    loops[RS.CLOSED] = bad(desk)
    desk.do(c.ResolveOnTheSpot(rectification=loops[RS.CLOSED], note="n"))
    checked = 0
    for action, make in commands.items():
        for state, rid in loops.items():
            if state in RECTIFICATION_TRANSITIONS[action]:
                continue
            desk.refused(
                make(rid), "illegal_transition", f"cannot {action} rectification {rid}: it is {state.value}"
            )
            checked += 1
    assert checked >= 12


def test_a_provisional_rectification_due_is_recomputed_with_new_calendar_data() -> None:
    desk = Desk(at(2026, 12, 31, 15, 0))  # contact due in 2027, a year without data
    rid = bad(desk)
    r = desk.hall.rectifications[rid]
    assert (r.contact_due, r.rectify_due, r.provisional) == (cob(2027, 1, 4), cob(2027, 1, 5), True)
    desk.hall.calendar = CAL.with_years([read_year_file(FIXTURE_2027)])
    [ev] = [e for e in desk.do(c.RecomputeDeadlines()) if getattr(e, "rectification_id", None) is not None]
    # the (test) notice: 1/1-3 off, so the same days, now official
    assert (ev.type, r.contact_due, r.rectify_due, r.provisional) == (
        "deadline_recomputed",
        cob(2027, 1, 4),
        cob(2027, 1, 5),
        False,
    )


def test_the_rules_can_change_the_loop_deadlines() -> None:
    desk = Desk()
    desk.config = dataclasses.replace(
        desk.config,
        rules=dataclasses.replace(desk.config.rules, contact_due_working_days=1, rectify_due_working_days=5),
    )  # e.g. 德州
    desk.hall = type(desk.hall)(desk.config, matters=desk.hall.matters, calendar=CAL)
    rid = bad(desk)
    assert desk.hall.rectifications[rid].rectify_due == cob(2026, 11, 30)
