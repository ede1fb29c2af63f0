"""Commands on 好差评: one rating per service, the 追评, and the closed loop of every 差评.
Each checks everything first and then emits (the loop's state machine is
``states.RECTIFICATION_TRANSITIONS``); the hall dispatches here through ``HANDLERS``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import commands as c
from . import events as ev
from .cases import department_matches
from .errors import HallError
from .events import Event
from .model import Rectification, Ticket
from .ratings import APPEAL_ACTIONS, SCORES, Ratings, before_appeal, token_hash
from .responsibility import decide, is_management, owner_of
from .states import RectificationState as RS
from .states import TicketState as T
from .states import rectification_transition

_TEXT_MAX = 500
_REASONS_MAX = 10


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


# ---------------------------------------------------------------------- rating


def _rate(g: Ratings, cmd: c.RateService, now: datetime, a: str, out: list[Event]) -> None:
    reasons, text = _score(cmd.score, cmd.reasons, cmd.text)
    if cmd.status_token:
        if cmd.window is not None or cmd.ticket:
            raise HallError("invalid_field", "a status page rates its own ticket only")
        t = g.queue.ticket_by_token(cmd.status_token)
        if t is None:
            raise HallError("unknown_ticket", "no ticket with that status token today")
        channel = "status_page"
        _finished(t)
        _not_rated(g, t)
    elif cmd.window is not None:
        t = g.queue.find_ticket(cmd.ticket) if cmd.ticket else None
        if t is None:
            raise HallError("missing_field", "the pad names the service it shows (ticket)")
        channel = "pad"
        _finished(t)
        if t.window != cmd.window:
            raise HallError(
                "not_your_window",
                f"{t.number} was served at window {t.window}: the pad of window {cmd.window} cannot rate it",
            )
        _not_rated(g, t)
        if g.queue.last_finished(cmd.window) is not t:
            raise HallError(
                "not_rateable", f"only the service just finished at window {cmd.window} can be rated there"
            )
        if now > g.rateable_until(t):
            raise HallError(
                "rating_expired",
                f"the pad rates a service within {g.config.rules.rating_pad_minutes} "
                "minutes of its end; the status page can still rate it",
            )
    else:
        raise HallError(
            "missing_field", "a rating comes from a window's rating pad or from the ticket's status page"
        )
    service = g.service_of(t)
    rating_id = g.last_rating_id + 1
    g.emit(
        out,
        ev.ServiceRated(
            at=now,
            actor=a,
            ticket=t.id,
            window=t.window,
            rating_id=rating_id,
            score=cmd.score,
            level=SCORES[cmd.score],
            bad=cmd.score <= 2,
            reasons=tuple(reasons),
            text=text,
            channel=channel,
            ticket_number=t.number,
            queue=t.queue,
            staff=service["staff"],
            staff_name=service["staff_name"],
            department=service["department"],
            matter_code=service["matter_code"],
            matter_name=service["matter_name"],
            receipt_no=service["receipt_no"],
            rater_token_hash=token_hash(t.status_token),
        ),
    )
    if cmd.score <= 2:
        contact, rectify, provisional = g.dues(now)
        owner = decide(g.config, reasons, service["matter_department"])
        g.emit(
            out,
            ev.RectificationOpened(
                at=now,
                actor=a,
                ticket=t.id,
                window=t.window,
                rectification_id=g.last_rectification_id + 1,
                rating_id=rating_id,
                owner_department=owner.owner_department,
                owner_staff=service["staff"],
                owner_staff_name=service["staff_name"],
                contact_due=contact,
                rectify_due=rectify,
                provisional=provisional,
                responsible=owner.responsible.value,
                coordinator=owner.coordinator,
                triage=owner.triage,
            ),
        )


def _finished(t: Ticket) -> None:
    if t.state is not T.DONE:
        raise HallError(
            "not_rateable", f"{t.number} is {t.state.value}: a service is rated after it finished"
        )


def _not_rated(g: Ratings, t: Ticket) -> None:
    if g.rating_of_ticket(t.id) is not None:
        raise HallError("already_rated", f"the service of {t.number} was already rated (一次一评)")


def _follow_up(g: Ratings, cmd: c.FollowUpRating, now: datetime, a: str, out: list[Event]) -> None:
    reasons, text = _score(cmd.score, cmd.reasons, cmd.text)
    wanted = token_hash(cmd.status_token)
    original = next(
        (r for r in g.ratings.values() if r.follow_up_of is None and r.rater_token_hash == wanted), None
    )
    if original is None:
        raise HallError("unknown_rating", "this ticket has no rating that can be followed up")
    if not original.is_bad:
        raise HallError("not_allowed", "a 追评 follows a 差评 once it was dealt with")
    if any(r.follow_up_of == original.id for r in g.ratings.values()):
        raise HallError("follow_up_used", "this rating already has its one 追评")
    rect = g.rectification_of_rating(original.id)
    if (
        rect is None
        or rect.outcome == "appeal_upheld"
        or (rect.rectified_at is None and rect.state is not RS.CLOSED)
    ):
        raise HallError("not_allowed", "a 追评 is possible once the 差评 was rectified")
    if (
        rect.closed_at is not None
        and (now.date() - rect.closed_at.astimezone(g.tz).date()).days > g.config.rules.follow_up_days
    ):
        raise HallError(
            "rating_expired",
            f"a 追评 is accepted up to {g.config.rules.follow_up_days} days after the loop closed",
        )
    g.emit(
        out,
        ev.FollowUpRated(
            at=now,
            actor=a,
            ticket=original.ticket,
            window=original.window,
            rating_id=g.last_rating_id + 1,
            follow_up_of=original.id,
            rectification_id=rect.id,
            score=cmd.score,
            level=SCORES[cmd.score],
            bad=cmd.score <= 2,
            reasons=tuple(reasons),
            text=text,
            channel="status_page",
            ticket_number=original.ticket_number,
            queue=original.queue,
            staff=original.staff,
            staff_name=original.staff_name,
            department=original.department,
            matter_code=original.matter_code,
            matter_name=original.matter_name,
            receipt_no=original.receipt_no,
            rater_token_hash=wanted,
        ),
    )


# ---------------------------------------------------------------------- the loop


def _rect(g: Ratings, rid: int, scope: str | None) -> Rectification:
    r = g.rectification(rid)
    if not department_matches(scope, r.owner_department):
        raise HallError(
            "not_your_department",
            f"rectification {rid} belongs to {r.owner_department or 'the hall'}, not to {scope}",
        )
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
    return {
        "at": now,
        "actor": a,
        "ticket": r.ticket,
        "window": r.window,
        "rectification_id": r.id,
        "rating_id": r.rating_id,
    }


def _contact(g: Ratings, cmd: c.ContactRater, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(g, cmd.rectification, cmd.scope)
    rectification_transition("record contact for", r.id, r.state)
    note = _need(cmd.note, "a note of the contact")
    g.emit(out, ev.RaterContacted(**_about(r, now, a), note=note, on_time=now <= r.contact_due))


def _rectify(g: Ratings, cmd: c.Rectify, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(g, cmd.rectification, cmd.scope)
    rectification_transition("record rectification for", r.id, r.state)
    measures = _need(cmd.measures, "the rectification measures")
    g.emit(out, ev.RatingRectified(**_about(r, now, a), measures=measures, on_time=now <= r.rectify_due))


def _revisit(g: Ratings, cmd: c.Revisit, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(g, cmd.rectification, cmd.scope)
    rectification_transition("record the revisit for", r.id, r.state)
    if isinstance(cmd.satisfaction, bool) or cmd.satisfaction not in SCORES:
        raise HallError("invalid_field", "satisfaction is 1 to 5 (5 非常满意 … 1 非常不满意)")
    note = cmd.note.strip()[:_TEXT_MAX]
    g.emit(
        out,
        ev.RaterRevisited(**_about(r, now, a), satisfaction=cmd.satisfaction, note=note, outcome="rectified"),
    )


def _on_the_spot(g: Ratings, cmd: c.ResolveOnTheSpot, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(g, cmd.rectification, cmd.scope)
    rectification_transition("resolve on the spot", r.id, r.state)
    note = _need(cmd.note, "what was done on the spot")
    g.emit(
        out,
        ev.ResolvedOnTheSpot(
            **_about(r, now, a),
            note=note,
            outcome="on_the_spot",
            contact_on_time=now <= r.contact_due,
            rectify_on_time=now <= r.rectify_due,
        ),
    )


def _explain(g: Ratings, cmd: c.ExplainRating, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(g, cmd.rectification, cmd.scope)
    rectification_transition("explain", r.id, r.state)
    explanation = _need(cmd.explanation, "the explanation (解释说明)")
    contact_on_time = bool(r.contact_on_time) if r.contacted_at is not None else now <= r.contact_due
    g.emit(
        out,
        ev.RatingExplained(
            **_about(r, now, a),
            explanation=explanation,
            outcome="explained",
            contact_on_time=contact_on_time,
            rectify_on_time=now <= r.rectify_due,
        ),
    )


def _appeal(g: Ratings, cmd: c.AppealRating, now: datetime, a: str, out: list[Event]) -> None:
    r = _rect(g, cmd.rectification, cmd.scope)
    if cmd.staff and cmd.staff != r.owner_staff:
        raise HallError(
            "not_owner",
            f"only the staff member rated ({r.owner_staff_name or r.owner_staff}) "
            "or their department may appeal",
        )
    if r.appeal_decision is not None:
        raise HallError(
            "appeal_used", f"rectification {r.id} was already appealed once ({r.appeal_decision})"
        )
    rectification_transition("appeal", r.id, r.state)
    reason = _need(cmd.reason, "the reason of the appeal (申诉)")
    g.emit(out, ev.RatingAppealed(**_about(r, now, a), reason=reason, from_state=r.state.value))


def _decide_appeal(g: Ratings, cmd: c.DecideAppeal, now: datetime, a: str, out: list[Event]) -> None:
    r = g.rectification(cmd.rectification)
    upheld = cmd.decision is c.AppealDecision.UPHELD
    back_to = rectification_transition(APPEAL_ACTIONS[upheld], r.id, r.state, before_appeal(r))
    note = cmd.note.strip()[:_TEXT_MAX]
    if not upheld and not note:
        raise HallError("reason_required", "rejecting an appeal needs a note for the staff member")
    g.emit(
        out,
        ev.AppealDecided(
            **_about(r, now, a),
            decision=cmd.decision.value,
            note=note,
            state=back_to.value,
            outcome="appeal_upheld" if upheld else None,
        ),
    )


def _reassign(g: Ratings, cmd: c.ReassignRectification, now: datetime, a: str, out: list[Event]) -> None:
    r = g.rectification(cmd.rectification)
    if not is_management(g.config, cmd.scope):
        raise HallError("not_your_department", f"only {g.config.management} or a manager reassigns a 差评")
    rectification_transition("reassign", r.id, r.state)
    responsible, department = owner_of(g.config, cmd.responsible, cmd.department)
    reason = _need(cmd.reason, "the reason of the reassignment")
    if department == r.owner_department:
        raise HallError("invalid_field", f"rectification {r.id} is already {department}'s")
    g.emit(
        out,
        ev.RectificationReassigned(
            **_about(r, now, a),
            responsible=responsible,
            owner_department=department,
            previous_owner_department=r.owner_department,
            reason=reason,
        ),
    )


def recompute(g: Ratings, cmd: c.RecomputeDeadlines, now: datetime, a: str, out: list[Event]) -> None:
    """New calendar data: the due instants of the open loops (the cases recompute theirs)."""
    for r in sorted(g.rectifications.values(), key=lambda x: x.id):
        if r.closed_at is not None:
            continue
        contact, rectify, provisional = g.dues(r.opened_at)
        if (contact, rectify, provisional) != (r.contact_due, r.rectify_due, r.provisional):
            g.emit(
                out,
                ev.DeadlineRecomputed(
                    at=now,
                    actor=a,
                    ticket=r.ticket,
                    window=r.window,
                    rectification_id=r.id,
                    contact_due=contact,
                    rectify_due=rectify,
                    provisional=provisional,
                    previous_contact_due=r.contact_due,
                    previous_rectify_due=r.rectify_due,
                ),
            )


HANDLERS: dict[type, Callable[[Ratings, Any, datetime, str, list[Event]], None]] = {
    c.RateService: _rate,
    c.FollowUpRating: _follow_up,
    c.ContactRater: _contact,
    c.Rectify: _rectify,
    c.Revisit: _revisit,
    c.ResolveOnTheSpot: _on_the_spot,
    c.ExplainRating: _explain,
    c.AppealRating: _appeal,
    c.DecideAppeal: _decide_appeal,
    c.ReassignRectification: _reassign,
}
