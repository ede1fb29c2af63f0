"""好差评: one rating per service, and the closed loop of every 差评 (domain rules §4).

Who may rate: the rating pad of the window where the service just finished (the shell binds a
pad to its window; the core checks the ticket is that window's last finished service and
that ``rules.rating_pad_minutes`` have not passed), or the citizen's status page (the
ticket's status token). Staff never rate; the shell refuses their roles.

Every 差评 (score 1–2) opens a rectification owned by the window's department and the staff
member who served: contact the rater within ``rules.contact_due_working_days`` and rectify
and report back within ``rules.rectify_due_working_days`` working days of the rating (close
of business, ``WorkCalendar.deadline``). The state machine is
``states.RECTIFICATION_TRANSITIONS``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import commands as c
from .cases import department_matches
from .errors import HallError
from . import events as ev
from .events import Event
from .model import Rating, Rectification, Ticket
from .states import RectificationState as RS, TicketState as T, rectification_transition

if TYPE_CHECKING:
    from .hall import Hall

SCORES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_REASONS = (  # the pick list of the pad and the status page; free text is allowed too
    "等候时间过长", "服务态度不好", "业务不熟练", "一次性告知不清", "办理时间过长",
    "材料要求过多", "多次跑腿", "环境设施不便",
)
_TEXT_MAX = 500
_REASONS_MAX = 10


def token_hash(status_token: str) -> str:
    return hashlib.sha256(status_token.encode()).hexdigest()


def rectification_dues(h: Hall, opened_at: datetime) -> tuple[datetime, datetime, bool]:
    rules, cob = h.config.rules, h.config.close_of_business
    contact = h.calendar.deadline(opened_at, rules.contact_due_working_days, cob, h.tz)
    rectify = h.calendar.deadline(opened_at, rules.rectify_due_working_days, cob, h.tz)
    return contact.at, rectify.at, contact.provisional or rectify.provisional


def _score(score: int, reasons: tuple[str, ...], text: str) -> tuple[list[str], str]:
    if isinstance(score, bool) or not isinstance(score, int) or score not in SCORES:
        raise HallError("invalid_field", "score is 1 to 5 (5 非常满意 … 1 非常不满意)")
    picked = []
    for r in reasons:
        r = r.strip()
        if r and r not in picked:
            if len(r) > 100:
                raise HallError("invalid_field", "a reason is at most 100 characters")
            picked.append(r)
    if len(picked) > _REASONS_MAX:
        raise HallError("invalid_field", f"at most {_REASONS_MAX} reasons")
    text = text.strip()
    if len(text) > _TEXT_MAX:
        raise HallError("invalid_field", f"the text is at most {_TEXT_MAX} characters")
    if score <= 2 and not picked and not text:
        raise HallError("reason_required", "a 差评 must say what was wrong: pick a reason or write one")
    return picked, text


def _served_by(h: Hall, t: Ticket) -> tuple[str | None, str]:
    staff = t.served_by
    account = h.config.staff_account(staff) if staff else None
    if account is not None:
        return staff, account.name
    win = h.windows.get(t.window) if t.window is not None else None
    return staff, (win.staff_name if win is not None and win.staff == staff else "")


def service_of(h: Hall, t: Ticket) -> dict[str, Any]:
    """What the pad shows and the rating records about a service: who served, which matter."""
    staff, staff_name = _served_by(h, t)
    wcfg = h.config.window(t.window) if t.window is not None else None
    cases = sorted((k for k in h.cases.values() if t.id in (k.ticket, k.delivery_ticket)),
                   key=lambda k: k.created_at)
    queue = h.config.queue(t.queue)
    return {
        "ticket": t.id, "ticket_number": t.number, "queue": t.queue,
        "queue_name": queue.name if queue else t.queue, "window": t.window,
        "window_name": wcfg.name if wcfg else "", "staff": staff, "staff_name": staff_name,
        "department": wcfg.department if wcfg else "",
        "matter_code": cases[0].matter_code if cases else "",
        "matter_name": cases[0].matter_name if cases else (queue.name if queue else ""),
        "receipt_no": cases[0].receipt_no if cases else None,
        "finished_at": t.finished_at.isoformat() if t.finished_at else None,
    }


def last_finished(h: Hall, window: int) -> Ticket | None:
    done = [t for t in h.tickets.values() if t.state is T.DONE and t.window == window and t.finished_at]
    return max(done, key=lambda t: t.finished_at.timestamp() if t.finished_at else 0.0, default=None)


def rateable_until(h: Hall, t: Ticket) -> datetime:
    from datetime import timedelta

    assert t.finished_at is not None
    return t.finished_at + timedelta(minutes=h.config.rules.rating_pad_minutes)


# ---------------------------------------------------------------------- rating


def _rate(h: Hall, cmd: c.RateService, now: datetime, a: str, out: list[Event]) -> None:
    reasons, text = _score(cmd.score, cmd.reasons, cmd.text)
    if cmd.status_token:
        if cmd.window is not None or cmd.ticket:
            raise HallError("invalid_field", "a status page rates its own ticket only")
        t = h.ticket_by_token(cmd.status_token)
        if t is None:
            raise HallError("unknown_ticket", "no ticket with that status token today")
        channel = "status_page"
        _finished(t)
        _not_rated(h, t)
    elif cmd.window is not None:
        t = h.find_ticket(cmd.ticket) if cmd.ticket else None
        if t is None:
            raise HallError("missing_field", "the pad names the service it shows (ticket)")
        channel = "pad"
        _finished(t)
        if t.window != cmd.window:
            raise HallError("not_your_window", f"{t.number} was served at window {t.window}: "
                                               f"the pad of window {cmd.window} cannot rate it")
        _not_rated(h, t)
        if last_finished(h, cmd.window) is not t:
            raise HallError("not_rateable", f"only the service just finished at window {cmd.window} can be rated there")
        if now > rateable_until(h, t):
            raise HallError("rating_expired", f"the pad rates a service within {h.config.rules.rating_pad_minutes} "
                                              "minutes of its end; the status page can still rate it")
    else:
        raise HallError("missing_field", "a rating comes from a window's rating pad or from the ticket's status page")
    service = service_of(h, t)
    rating_id = h.last_rating_id + 1
    h._emit(out, ev.ServiceRated(
        at=now, actor=a, ticket=t.id, window=t.window, rating_id=rating_id, score=cmd.score,
        level=SCORES[cmd.score], bad=cmd.score <= 2, reasons=tuple(reasons), text=text, channel=channel,
        ticket_number=t.number, queue=t.queue, staff=service["staff"], staff_name=service["staff_name"],
        department=service["department"], matter_code=service["matter_code"],
        matter_name=service["matter_name"], receipt_no=service["receipt_no"],
        rater_token_hash=token_hash(t.status_token)))
    if cmd.score <= 2:
        contact, rectify, provisional = rectification_dues(h, now)
        h._emit(out, ev.RectificationOpened(
            at=now, actor=a, ticket=t.id, window=t.window, rectification_id=h.last_rectification_id + 1,
            rating_id=rating_id, owner_department=service["department"], owner_staff=service["staff"],
            owner_staff_name=service["staff_name"], contact_due=contact, rectify_due=rectify,
            provisional=provisional))


def _finished(t: Ticket) -> None:
    if t.state is not T.DONE:
        raise HallError("not_rateable", f"{t.number} is {t.state.value}: a service is rated after it finished")


def _not_rated(h: Hall, t: Ticket) -> None:
    if h.rating_of_ticket(t.id) is not None:
        raise HallError("already_rated", f"the service of {t.number} was already rated (一次一评)")


def _follow_up(h: Hall, cmd: c.FollowUpRating, now: datetime, a: str, out: list[Event]) -> None:
    reasons, text = _score(cmd.score, cmd.reasons, cmd.text)
    wanted = token_hash(cmd.status_token)
    original = next((r for r in h.ratings.values() if r.follow_up_of is None and r.rater_token_hash == wanted), None)
    if original is None:
        raise HallError("unknown_rating", "this ticket has no rating that can be followed up")
    if not original.is_bad:
        raise HallError("not_allowed", "a 追评 follows a 差评 once it was dealt with")
    if any(r.follow_up_of == original.id for r in h.ratings.values()):
        raise HallError("follow_up_used", "this rating already has its one 追评")
    rect = h.rectification_of_rating(original.id)
    if rect is None or rect.outcome == "appeal_upheld" or (rect.rectified_at is None and rect.state is not RS.CLOSED):
        raise HallError("not_allowed", "a 追评 is possible once the 差评 was rectified")
    if rect.closed_at is not None and (now.date() - rect.closed_at.astimezone(h.tz).date()).days > h.config.rules.follow_up_days:
        raise HallError("rating_expired", f"a 追评 is accepted up to {h.config.rules.follow_up_days} days after the loop closed")
    h._emit(out, ev.FollowUpRated(
        at=now, actor=a, ticket=original.ticket, window=original.window, rating_id=h.last_rating_id + 1,
        follow_up_of=original.id, rectification_id=rect.id, score=cmd.score, level=SCORES[cmd.score],
        bad=cmd.score <= 2, reasons=tuple(reasons), text=text, channel="status_page",
        ticket_number=original.ticket_number, queue=original.queue, staff=original.staff,
        staff_name=original.staff_name, department=original.department, matter_code=original.matter_code,
        matter_name=original.matter_name, receipt_no=original.receipt_no, rater_token_hash=wanted))


# ---------------------------------------------------------------------- the loop


def _rect(h: Hall, rid: int, scope: str | None) -> Rectification:
    r = h.rectification(rid)
    if not department_matches(scope, r.owner_department):
        raise HallError("not_your_department", f"rectification {rid} belongs to {r.owner_department or 'the hall'}, "
                                               f"not to {scope}")
    return r


def _need(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise HallError("reason_required", f"{what} is required")
    if len(value) > _TEXT_MAX:
        raise HallError("invalid_field", f"{what} is at most {_TEXT_MAX} characters")
    return value


def _about(r: Rectification, now: datetime, a: str) -> dict[str, Any]:
    """The fields every event of the loop has."""
    return {"at": now, "actor": a, "ticket": r.ticket, "window": r.window,
            "rectification_id": r.id, "rating_id": r.rating_id}


def _contact(h: Hall, cmd: c.ContactRater, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(h, cmd.rectification, cmd.scope)
    rectification_transition("record contact for", r.id, r.state)
    note = _need(cmd.note, "a note of the contact")
    h._emit(out, ev.RaterContacted(**_about(r, now, a), note=note, on_time=now <= r.contact_due))


def _rectify(h: Hall, cmd: c.Rectify, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(h, cmd.rectification, cmd.scope)
    rectification_transition("record rectification for", r.id, r.state)
    measures = _need(cmd.measures, "the rectification measures")
    h._emit(out, ev.RatingRectified(**_about(r, now, a), measures=measures, on_time=now <= r.rectify_due))


def _revisit(h: Hall, cmd: c.Revisit, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(h, cmd.rectification, cmd.scope)
    rectification_transition("record the revisit for", r.id, r.state)
    if isinstance(cmd.satisfaction, bool) or cmd.satisfaction not in SCORES:
        raise HallError("invalid_field", "satisfaction is 1 to 5 (5 非常满意 … 1 非常不满意)")
    note = cmd.note.strip()[:_TEXT_MAX]
    h._emit(out, ev.RaterRevisited(**_about(r, now, a), satisfaction=cmd.satisfaction, note=note,
                                  outcome="rectified"))


def _on_the_spot(h: Hall, cmd: c.ResolveOnTheSpot, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(h, cmd.rectification, cmd.scope)
    rectification_transition("resolve on the spot", r.id, r.state)
    note = _need(cmd.note, "what was done on the spot")
    h._emit(out, ev.ResolvedOnTheSpot(**_about(r, now, a), note=note, outcome="on_the_spot",
                             contact_on_time=now <= r.contact_due, rectify_on_time=now <= r.rectify_due))


def _explain(h: Hall, cmd: c.ExplainRating, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(h, cmd.rectification, cmd.scope)
    rectification_transition("explain", r.id, r.state)
    explanation = _need(cmd.explanation, "the explanation (解释说明)")
    contact_on_time = bool(r.contact_on_time) if r.contacted_at is not None else now <= r.contact_due
    h._emit(out, ev.RatingExplained(**_about(r, now, a), explanation=explanation, outcome="explained",
                             contact_on_time=contact_on_time, rectify_on_time=now <= r.rectify_due))


def _appeal(h: Hall, cmd: c.AppealRating, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(h, cmd.rectification, cmd.scope)
    if cmd.staff and cmd.staff != r.owner_staff:
        raise HallError("not_owner", f"only the staff member rated ({r.owner_staff_name or r.owner_staff}) "
                                     "or their department may appeal")
    if r.appeal_decision is not None:
        raise HallError("appeal_used", f"rectification {r.id} was already appealed once ({r.appeal_decision})")
    rectification_transition("appeal", r.id, r.state)
    reason = _need(cmd.reason, "the reason of the appeal (申诉)")
    h._emit(out, ev.RatingAppealed(**_about(r, now, a), reason=reason, from_state=r.state.value))


def _decide_appeal(h: Hall, cmd: c.DecideAppeal, now: datetime, a: str, out: list[Event]) -> None:
    r = h.rectification(cmd.rectification)
    upheld = cmd.decision is c.AppealDecision.UPHELD
    back_to = rectification_transition(_APPEAL_ACTION[upheld], r.id, r.state, _before_appeal(r))
    note = cmd.note.strip()[:_TEXT_MAX]
    if not upheld and not note:
        raise HallError("reason_required", "rejecting an appeal needs a note for the staff member")
    h._emit(out, ev.AppealDecided(**_about(r, now, a), decision=cmd.decision.value, note=note, state=back_to.value,
                                  outcome="appeal_upheld" if upheld else None))


_APPEAL_ACTION = {True: "uphold the appeal of", False: "reject the appeal of"}


def _before_appeal(r: Rectification) -> RS | None:
    return RS(r.appeal_from_state) if r.appeal_from_state else None


HANDLERS: dict[type, Any] = {
    c.RateService: _rate, c.FollowUpRating: _follow_up, c.ContactRater: _contact, c.Rectify: _rectify,
    c.Revisit: _revisit, c.ResolveOnTheSpot: _on_the_spot, c.ExplainRating: _explain,
    c.AppealRating: _appeal, c.DecideAppeal: _decide_appeal,
}


# ---------------------------------------------------------------------- event application
# States move by RECTIFICATION_TRANSITIONS (states.py).


def _actor_id(actor: str) -> str:
    return actor.split(":", 1)[1] if ":" in actor else actor


def _a_rated(h: Hall, e: ev.ServiceRated | ev.FollowUpRated) -> None:
    assert e.ticket is not None and e.window is not None
    r = Rating(
        id=e.rating_id, ticket=e.ticket, ticket_number=e.ticket_number, service_date=e.at.date(),
        queue=e.queue, window=e.window, score=e.score, channel=e.channel, at=e.at,
        staff=e.staff, staff_name=e.staff_name or "", department=e.department,
        matter_code=e.matter_code, matter_name=e.matter_name, receipt_no=e.receipt_no,
        reasons=list(e.reasons), text=e.text,
        follow_up_of=e.follow_up_of if isinstance(e, ev.FollowUpRated) else None,
        rater_token_hash=e.rater_token_hash,
    )
    h.ratings[r.id] = r
    h.last_rating_id = max(h.last_rating_id, r.id)
    h.changes.ratings[r.id] = r


def _a_opened(h: Hall, e: ev.RectificationOpened) -> None:
    assert e.ticket is not None and e.window is not None
    r = Rectification(
        id=e.rectification_id, rating_id=e.rating_id, ticket=e.ticket, window=e.window,
        state=RS.OPEN, opened_at=e.at, contact_due=e.contact_due, rectify_due=e.rectify_due,
        updated_at=e.at, owner_department=e.owner_department, owner_staff=e.owner_staff,
        owner_staff_name=e.owner_staff_name or "", provisional=e.provisional,
    )
    h.rectifications[r.id] = r
    h.last_rectification_id = max(h.last_rectification_id, r.id)
    h.changes.rectifications[r.id] = r


def _step(h: Hall, e: ev.RaterContacted | ev.RatingRectified | ev.RaterRevisited | ev.ResolvedOnTheSpot
          | ev.RatingExplained | ev.RatingAppealed | ev.AppealDecided, action: str) -> Rectification:
    """The rectification of ``e``, moved by ``action`` and touched."""
    r = h.rectifications[e.rectification_id]
    r.state = rectification_transition(action, r.id, r.state, _before_appeal(r))
    r.updated_at = e.at
    h.changes.rectifications[r.id] = r
    return r


def _closed(r: Rectification, at: datetime, outcome: str | None) -> None:
    r.closed_at = at
    r.outcome = outcome


def _a_contacted(h: Hall, e: ev.RaterContacted) -> None:
    r = _step(h, e, "record contact for")
    r.contacted_at, r.contact_note, r.contacted_by = e.at, e.note, _actor_id(e.actor)
    r.contact_on_time = e.on_time


def _a_rectified(h: Hall, e: ev.RatingRectified) -> None:
    r = _step(h, e, "record rectification for")
    r.rectified_at, r.measures, r.rectified_by = e.at, e.measures, _actor_id(e.actor)
    r.rectify_on_time = e.on_time


def _a_revisited(h: Hall, e: ev.RaterRevisited) -> None:
    r = _step(h, e, "record the revisit for")
    r.revisit_at, r.revisit_satisfaction = e.at, e.satisfaction
    r.revisit_note, r.revisited_by = e.note, _actor_id(e.actor)
    _closed(r, e.at, e.outcome)


def _a_on_the_spot(h: Hall, e: ev.ResolvedOnTheSpot) -> None:
    r = _step(h, e, "resolve on the spot")
    r.measures = e.note
    r.contact_on_time, r.rectify_on_time = e.contact_on_time, e.rectify_on_time
    _closed(r, e.at, e.outcome)


def _a_explained(h: Hall, e: ev.RatingExplained) -> None:
    r = _step(h, e, "explain")
    r.explanation = e.explanation
    r.contact_on_time, r.rectify_on_time = e.contact_on_time, e.rectify_on_time
    _closed(r, e.at, e.outcome)


def _a_appealed(h: Hall, e: ev.RatingAppealed) -> None:
    r = h.rectifications[e.rectification_id]
    r.appeal_from_state = e.from_state
    r = _step(h, e, "appeal")
    r.appeal_reason, r.appealed_at, r.appealed_by = e.reason, e.at, _actor_id(e.actor)


def _a_appeal_decided(h: Hall, e: ev.AppealDecided) -> None:
    upheld = e.decision == c.AppealDecision.UPHELD.value
    r = _step(h, e, _APPEAL_ACTION[upheld])
    r.appeal_decision, r.appeal_decided_at = e.decision, e.at
    r.appeal_decided_by, r.appeal_note = _actor_id(e.actor), e.note
    if upheld:
        _closed(r, e.at, e.outcome)
        rating = h.ratings.get(r.rating_id)
        if rating is not None:
            rating.excluded = True
            h.changes.ratings[rating.id] = rating


APPLY: dict[type[Event], Any] = {
    ev.ServiceRated: _a_rated, ev.FollowUpRated: _a_rated, ev.RectificationOpened: _a_opened,
    ev.RaterContacted: _a_contacted, ev.RatingRectified: _a_rectified, ev.RaterRevisited: _a_revisited,
    ev.ResolvedOnTheSpot: _a_on_the_spot, ev.RatingExplained: _a_explained,
    ev.RatingAppealed: _a_appealed, ev.AppealDecided: _a_appeal_decided,
}


# ---------------------------------------------------------------------- views


def rectification_marks(h: Hall, r: Rectification, now: datetime) -> dict[str, Any]:
    soon_s = h.config.rules.due_soon_hours * 3600
    contact_overdue = r.state is RS.OPEN and now > r.contact_due
    rectify_overdue = r.state in (RS.OPEN, RS.CONTACTED) and now > r.rectify_due
    next_due = r.contact_due if r.state is RS.OPEN and not contact_overdue else (
        r.rectify_due if r.state in (RS.OPEN, RS.CONTACTED) and not rectify_overdue else None)
    return {
        "contact_overdue": contact_overdue, "rectify_overdue": rectify_overdue,
        "overdue": contact_overdue or rectify_overdue,
        "due_soon": next_due is not None and (next_due - now).total_seconds() <= soon_s,
        "next_due": next_due.isoformat() if next_due else None,
    }
