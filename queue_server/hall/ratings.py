"""好差评: one rating per service, and the closed loop of every 差评 (domain rules §4).

Who may rate: the rating pad of the window where the service just finished (the shell binds a
pad to its window; the core checks the ticket is that window's last finished service and
that ``rules.rating_pad_minutes`` have not passed), or the citizen's status page (the
ticket's status token). Staff never rate; the shell refuses their roles.

Every 差评 (score 1–2) opens a rectification owned by the party of its reasons
(``responsibility.decide``: the hall's management or the department of the matter served; free
text alone goes to the management to triage, which may reassign it) with the staff member who
served named on it: contact the rater within ``rules.contact_due_working_days`` and rectify
and report back within ``rules.rectify_due_working_days`` working days of the rating (close
of business, ``WorkCalendar.deadline``). The state machine is
``states.RECTIFICATION_TRANSITIONS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from . import commands as c
from . import events as ev
from .calendar import WorkCalendar
from .cases import Cases, department_matches
from .config import HallConfig
from .errors import HallError
from .events import Event
from .model import Rating, Rectification, Ticket
from .queue import Queue
from .responsibility import matter_department
from .states import (
    RECTIFICATION_CREATION,
    rectification_transition,
)
from .states import (
    RectificationState as RS,
)
from .states import (
    TicketState as T,
)

SCORES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
# the pick list of the pad and the status page is the hall's catalogue (HallConfig.reasons);
# free text is allowed too
APPEAL_ACTIONS = {True: "uphold the appeal of", False: "reject the appeal of"}


def token_hash(status_token: str) -> str:
    return hashlib.sha256(status_token.encode()).hexdigest()


def before_appeal(r: Rectification) -> RS | None:
    """The state the loop was in when it was appealed (where a rejected appeal goes back to)."""
    return RS(r.appeal_from_state) if r.appeal_from_state else None


@dataclass
class RatingChanges:
    ratings: dict[int, Rating] = field(default_factory=dict)
    rectifications: dict[int, Rectification] = field(default_factory=dict)


class Ratings:
    """The ratings kept (today's and those of open or recent loops) and every 差评's loop."""

    def __init__(
        self,
        config: HallConfig,
        queue: Queue,
        cases: Cases,
        *,
        ratings: Iterable[Rating] = (),
        rectifications: Iterable[Rectification] = (),
        last_rating_id: int = 0,
        last_rectification_id: int = 0,
    ) -> None:
        self.config = config
        self.tz = queue.tz
        self.queue = queue
        self.cases = cases
        self.ratings: dict[int, Rating] = {r.id: r for r in ratings}
        self.rectifications: dict[int, Rectification] = {r.id: r for r in rectifications}
        self.last_rating_id = max([last_rating_id, *self.ratings])
        self.last_rectification_id = max([last_rectification_id, *self.rectifications])
        self.changes = RatingChanges()

    @property
    def calendar(self) -> WorkCalendar:
        return self.cases.calendar

    def take_changes(self) -> RatingChanges:
        ch, self.changes = self.changes, RatingChanges()
        return ch

    def emit(self, out: list[Event], event: Event) -> None:
        self.apply(event)
        out.append(event)

    def apply(self, event: Event) -> None:
        _APPLY[type(event)](self, event)

    def owns(self, event: Event) -> bool:
        return type(event) in _APPLY and (
            not isinstance(event, ev.DeadlineRecomputed) or event.receipt_no is None
        )

    def rectification(self, rid: int) -> Rectification:
        r = self.rectifications.get(rid)
        if r is None:
            raise HallError("unknown_rectification", f"no open rectification {rid}")
        return r

    def rating_of_ticket(self, ticket_id: str) -> Rating | None:
        """The (first) rating of a service; a 追评 is not counted here."""
        return next(
            (r for r in self.ratings.values() if r.ticket == ticket_id and r.follow_up_of is None), None
        )

    def rectification_of_rating(self, rating_id: int) -> Rectification | None:
        return next((r for r in self.rectifications.values() if r.rating_id == rating_id), None)

    def dues(self, opened_at: datetime) -> tuple[datetime, datetime, bool]:
        rules, cob = self.config.rules, self.config.close_of_business
        contact = self.calendar.deadline(opened_at, rules.contact_due_working_days, cob, self.tz)
        rectify = self.calendar.deadline(opened_at, rules.rectify_due_working_days, cob, self.tz)
        return contact.at, rectify.at, contact.provisional or rectify.provisional

    def _served_by(self, t: Ticket) -> tuple[str | None, str]:
        staff = t.served_by
        account = self.config.staff_account(staff) if staff else None
        if account is not None:
            return staff, account.name
        win = self.queue.windows.get(t.window) if t.window is not None else None
        return staff, (win.staff_name if win is not None and win.staff == staff else "")

    def service_of(self, t: Ticket) -> dict[str, Any]:
        """What the pad shows and the rating records about a service: who served, which matter."""
        staff, staff_name = self._served_by(t)
        wcfg = self.config.window(t.window) if t.window is not None else None
        cases = self.cases.of_ticket(t.id)
        queue = self.config.queue(t.queue)
        owner = matter_department(
            wcfg.department if wcfg else "",
            cases[0].department if cases else "",
            queue.department if queue else "",
        )
        return {
            "ticket": t.id,
            "ticket_number": t.number,
            "queue": t.queue,
            "queue_name": queue.name if queue else t.queue,
            "window": t.window,
            "window_name": wcfg.name if wcfg else "",
            "staff": staff,
            "staff_name": staff_name,
            "department": wcfg.department if wcfg else "",
            "matter_code": cases[0].matter_code if cases else "",
            "matter_name": cases[0].matter_name if cases else (queue.name if queue else ""),
            "receipt_no": cases[0].receipt_no if cases else None,
            "finished_at": t.finished_at.isoformat() if t.finished_at else None,
            "matter_department": owner,
        }

    def rateable_until(self, t: Ticket) -> datetime:
        assert t.finished_at is not None
        return t.finished_at + timedelta(minutes=self.config.rules.rating_pad_minutes)

    def prune(self, today: date) -> None:
        """Keep what a restart on ``today`` would load: today's ratings, open rectifications and
        those closed within ``follow_up_days`` (a 追评 may still come), and the ratings those
        refer to."""
        since = today - timedelta(days=self.config.rules.follow_up_days)
        self.rectifications = {
            k: r
            for k, r in self.rectifications.items()
            if r.closed_at is None or r.closed_at.astimezone(self.tz).date() >= since
        }
        kept = {r.rating_id for r in self.rectifications.values()}
        self.ratings = {
            k: r
            for k, r in self.ratings.items()
            if r.service_date >= today or k in kept or r.follow_up_of in kept
        }

    # ------------------------------------------------------------------ views

    def rating_view(self, rating: Rating) -> dict[str, Any]:
        view = rating.public()
        view["level"] = SCORES[rating.score]
        parties = {r.text: r.party.value for r in self.config.reasons}
        view["reason_parties"] = [{"text": t, "party": parties.get(t)} for t in rating.reasons]
        view["follow_up"] = next(
            (r.public() for r in self.ratings.values() if r.follow_up_of == rating.id), None
        )
        return view

    def rectification_view(self, r: Rectification, now: datetime) -> dict[str, Any]:
        view = {**r.public(), **rectification_marks(self, r, now.astimezone(self.tz))}
        rating = self.ratings.get(r.rating_id)
        view["rating"] = self.rating_view(rating) if rating is not None else None
        return view

    def list_rectifications(
        self, now: datetime, *, department: str | None = None, open_only: bool = False
    ) -> list[dict[str, Any]]:
        rows = [
            r
            for r in self.rectifications.values()
            if (
                department_matches(department, r.owner_department)
                or (r.coordinator and department_matches(department, r.coordinator))
            )
            and (not open_only or r.state is not RS.CLOSED)
        ]
        rows.sort(key=lambda r: (r.state is RS.CLOSED, r.rectify_due, r.id))
        return [self.rectification_view(r, now) for r in rows]

    def rateable_service(self, window: int, now: datetime) -> dict[str, Any] | None:
        """What a window's rating pad shows: its last finished service while it may be rated."""
        self.queue.window(window)
        t = self.queue.last_finished(window)
        if t is None or now > self.rateable_until(t):
            return None
        rating = self.rating_of_ticket(t.id)
        return {
            **self.service_of(t),
            "rateable_until": self.rateable_until(t).isoformat(),
            "rated": rating is not None,
        }

    def rating_status(self, status_token: str) -> dict[str, Any]:
        """What the citizen's status page may know about the rating of its own ticket."""
        wanted = token_hash(status_token)
        t = self.queue.ticket_by_token(status_token)
        rating = (
            self.rating_of_ticket(t.id)
            if t is not None
            else next(
                (r for r in self.ratings.values() if r.follow_up_of is None and r.rater_token_hash == wanted),
                None,
            )
        )
        if t is None and rating is None:
            raise HallError("unknown_ticket", "no ticket with that status token today")
        out: dict[str, Any] = {
            "ticket_number": t.number
            if t is not None
            else rating.ticket_number
            if rating is not None
            else "",
            "finished": (t is not None and t.state is T.DONE) or t is None,
            "rated": rating is not None,
            "score": rating.score if rating else None,
            "follow_up_allowed": False,
            "follow_up_score": None,
            "rectification_state": None,
        }
        if t is not None and t.state is T.DONE:
            service = self.service_of(t)
            out.update(
                matter_name=service["matter_name"],
                staff_name=service["staff_name"],
                window=t.window,
                window_name=service["window_name"],
            )
        if rating is not None:
            follow = next((r for r in self.ratings.values() if r.follow_up_of == rating.id), None)
            rect = self.rectification_of_rating(rating.id)
            out["follow_up_score"] = follow.score if follow else None
            out["rectification_state"] = rect.state.value if rect else None
            out["follow_up_allowed"] = bool(
                rect is not None
                and follow is None
                and rect.outcome != "appeal_upheld"
                and (rect.rectified_at is not None or rect.state is RS.CLOSED)
            )
        return out


# ---------------------------------------------------------------------- event application
# States move by RECTIFICATION_TRANSITIONS (states.py).


def _actor_id(actor: str) -> str:
    return actor.split(":", 1)[1] if ":" in actor else actor


def _a_rated(g: Ratings, e: ev.ServiceRated | ev.FollowUpRated) -> None:
    assert e.ticket is not None and e.window is not None
    r = Rating(
        id=e.rating_id,
        ticket=e.ticket,
        ticket_number=e.ticket_number,
        service_date=e.at.date(),
        queue=e.queue,
        window=e.window,
        score=e.score,
        channel=e.channel,
        at=e.at,
        staff=e.staff,
        staff_name=e.staff_name or "",
        department=e.department,
        matter_code=e.matter_code,
        matter_name=e.matter_name,
        receipt_no=e.receipt_no,
        reasons=list(e.reasons),
        text=e.text,
        follow_up_of=e.follow_up_of if isinstance(e, ev.FollowUpRated) else None,
        rater_token_hash=e.rater_token_hash,
    )
    g.ratings[r.id] = r
    g.last_rating_id = max(g.last_rating_id, r.id)
    g.changes.ratings[r.id] = r


def _a_opened(g: Ratings, e: ev.RectificationOpened) -> None:
    assert e.ticket is not None and e.window is not None
    r = Rectification(
        id=e.rectification_id,
        rating_id=e.rating_id,
        ticket=e.ticket,
        window=e.window,
        state=RECTIFICATION_CREATION["open"],
        opened_at=e.at,
        contact_due=e.contact_due,
        rectify_due=e.rectify_due,
        updated_at=e.at,
        owner_department=e.owner_department,
        owner_staff=e.owner_staff,
        owner_staff_name=e.owner_staff_name or "",
        provisional=e.provisional,
        responsible=e.responsible or "department",
        coordinator=e.coordinator or "",
        triage=bool(e.triage),
    )
    g.rectifications[r.id] = r
    g.last_rectification_id = max(g.last_rectification_id, r.id)
    g.changes.rectifications[r.id] = r


def _step(
    g: Ratings,
    e: ev.RaterContacted
    | ev.RatingRectified
    | ev.RaterRevisited
    | ev.ResolvedOnTheSpot
    | ev.RatingExplained
    | ev.RatingAppealed
    | ev.AppealDecided
    | ev.RectificationReassigned,
    action: str,
) -> Rectification:
    """The rectification of ``e``, moved by ``action`` and touched."""
    r = g.rectifications[e.rectification_id]
    r.state = rectification_transition(action, r.id, r.state, before_appeal(r))
    r.updated_at = e.at
    g.changes.rectifications[r.id] = r
    return r


def _closed(r: Rectification, at: datetime, outcome: str | None) -> None:
    r.closed_at = at
    r.outcome = outcome


def _a_contacted(g: Ratings, e: ev.RaterContacted) -> None:
    r = _step(g, e, "record contact for")
    r.contacted_at, r.contact_note, r.contacted_by = e.at, e.note, _actor_id(e.actor)
    r.contact_on_time = e.on_time


def _a_rectified(g: Ratings, e: ev.RatingRectified) -> None:
    r = _step(g, e, "record rectification for")
    r.rectified_at, r.measures, r.rectified_by = e.at, e.measures, _actor_id(e.actor)
    r.rectify_on_time = e.on_time


def _a_revisited(g: Ratings, e: ev.RaterRevisited) -> None:
    r = _step(g, e, "record the revisit for")
    r.revisit_at, r.revisit_satisfaction = e.at, e.satisfaction
    r.revisit_note, r.revisited_by = e.note, _actor_id(e.actor)
    _closed(r, e.at, e.outcome)


def _a_on_the_spot(g: Ratings, e: ev.ResolvedOnTheSpot) -> None:
    r = _step(g, e, "resolve on the spot")
    r.measures = e.note
    r.contact_on_time, r.rectify_on_time = e.contact_on_time, e.rectify_on_time
    _closed(r, e.at, e.outcome)


def _a_explained(g: Ratings, e: ev.RatingExplained) -> None:
    r = _step(g, e, "explain")
    r.explanation = e.explanation
    r.contact_on_time, r.rectify_on_time = e.contact_on_time, e.rectify_on_time
    _closed(r, e.at, e.outcome)


def _a_appealed(g: Ratings, e: ev.RatingAppealed) -> None:
    r = g.rectifications[e.rectification_id]
    r.appeal_from_state = e.from_state
    r = _step(g, e, "appeal")
    r.appeal_reason, r.appealed_at, r.appealed_by = e.reason, e.at, _actor_id(e.actor)


def _a_appeal_decided(g: Ratings, e: ev.AppealDecided) -> None:
    upheld = e.decision == c.AppealDecision.UPHELD.value
    r = _step(g, e, APPEAL_ACTIONS[upheld])
    r.appeal_decision, r.appeal_decided_at = e.decision, e.at
    r.appeal_decided_by, r.appeal_note = _actor_id(e.actor), e.note
    if upheld:
        _closed(r, e.at, e.outcome)
        rating = g.ratings.get(r.rating_id)
        if rating is not None:
            rating.excluded = True
            g.changes.ratings[rating.id] = rating


def _a_reassigned(g: Ratings, e: ev.RectificationReassigned) -> None:
    r = _step(g, e, "reassign")
    r.responsible, r.owner_department = e.responsible, e.owner_department
    r.coordinator = "" if e.responsible == "management" else r.coordinator
    r.triage = False
    r.reassigned_at, r.reassigned_by, r.reassign_reason = e.at, _actor_id(e.actor), e.reason


def _a_recomputed(g: Ratings, e: ev.DeadlineRecomputed) -> None:
    assert e.rectification_id is not None and e.contact_due is not None and e.rectify_due is not None
    r = g.rectifications[e.rectification_id]
    r.contact_due, r.rectify_due = e.contact_due, e.rectify_due
    r.provisional = e.provisional
    r.updated_at = e.at
    g.changes.rectifications[r.id] = r


_APPLY: dict[type[Event], Callable[[Ratings, Any], None]] = {
    ev.DeadlineRecomputed: _a_recomputed,
    ev.ServiceRated: _a_rated,
    ev.FollowUpRated: _a_rated,
    ev.RectificationOpened: _a_opened,
    ev.RaterContacted: _a_contacted,
    ev.RatingRectified: _a_rectified,
    ev.RaterRevisited: _a_revisited,
    ev.ResolvedOnTheSpot: _a_on_the_spot,
    ev.RatingExplained: _a_explained,
    ev.RatingAppealed: _a_appealed,
    ev.AppealDecided: _a_appeal_decided,
    ev.RectificationReassigned: _a_reassigned,
}


def rectification_marks(g: Ratings, r: Rectification, now: datetime) -> dict[str, Any]:
    soon_s = g.config.rules.due_soon_hours * 3600
    contact_overdue = r.state is RS.OPEN and now > r.contact_due
    rectify_overdue = r.state in (RS.OPEN, RS.CONTACTED) and now > r.rectify_due
    next_due = (
        r.contact_due
        if r.state is RS.OPEN and not contact_overdue
        else (r.rectify_due if r.state in (RS.OPEN, RS.CONTACTED) and not rectify_overdue else None)
    )
    return {
        "contact_overdue": contact_overdue,
        "rectify_overdue": rectify_overdue,
        "overdue": contact_overdue or rectify_overdue,
        "due_soon": next_due is not None and (next_due - now).total_seconds() <= soon_s,
        "next_due": next_due.isoformat() if next_due else None,
    }
