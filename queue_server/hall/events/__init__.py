"""Events: what happened. One frozen, keyword-only class per event type, named in the past
tense, with one stable type string used alike in the ``events`` table, the websocket JSON
and the dashboard (``EventType``). ``from_record`` / ``Event.to_record`` are the one codec.
"""

from .base import Event, EventType, event_class, event_classes, from_record
from .bundles import (
    BundleDecided, CaseAssisted, CaseSubmittedByAgent, NoticeReissued, PartOpened, PartReleased, PartWithdrawn,
)
from .cases import (
    CaseAccepted, CaseDecided, CaseDelivered, CaseExtended, CaseRejected, CaseSuspended,
    DeadlineRecomputed, MaterialsRequested, MaterialsSupplied, ReviewResumed, ReviewStarted,
)
from .complaints import (
    ComplaintAssigned, ComplaintClosed, ComplaintHandled, ComplaintReceived, ComplaintReminded, ComplaintReplied,
)
from .queue import (
    DayStarted, ServiceFinished, ServiceStarted, StaffLoggedIn, StaffLoggedOut, TicketCalled,
    TicketCancelled, TicketCheckedIn, TicketIssued, TicketNoShow, TicketReactivated, TicketRecalled,
    TicketTransferred, WindowClosed, WindowOpened, WindowPaused, WindowResumed,
)
from .ratings import (
    AppealDecided, FollowUpRated, RaterContacted, RaterRevisited, RatingAppealed, RatingExplained,
    RatingRectified, RectificationOpened, RectificationReassigned, ResolvedOnTheSpot, ServiceRated,
)

# event data never pushed to screens (kept in the log for the serving window and audit)
PRIVATE_FIELDS = frozenset({"applicant_name", "applicant_phone", "applicant_id", "status_token",
                            "rater_token_hash", "complainant_name", "complainant_phone"})

__all__ = [
    "BundleDecided", "CaseAssisted", "CaseSubmittedByAgent", "NoticeReissued", "PartOpened", "PartReleased",
    "PartWithdrawn",
    "AppealDecided", "CaseAccepted", "ComplaintAssigned", "ComplaintClosed", "ComplaintHandled",
    "ComplaintReceived", "ComplaintReminded", "ComplaintReplied", "RectificationReassigned", "CaseDecided", "CaseDelivered", "CaseExtended", "CaseRejected",
    "CaseSuspended", "DayStarted", "DeadlineRecomputed", "Event", "EventType", "FollowUpRated",
    "MaterialsRequested", "MaterialsSupplied", "PRIVATE_FIELDS", "RaterContacted", "RaterRevisited",
    "RatingAppealed", "RatingExplained", "RatingRectified", "RectificationOpened", "ResolvedOnTheSpot",
    "ReviewResumed", "ReviewStarted", "ServiceFinished", "ServiceRated", "ServiceStarted",
    "StaffLoggedIn", "StaffLoggedOut", "TicketCalled", "TicketCancelled", "TicketCheckedIn",
    "TicketIssued", "TicketNoShow", "TicketReactivated", "TicketRecalled", "TicketTransferred",
    "WindowClosed", "WindowOpened", "WindowPaused", "WindowResumed", "event_class", "event_classes",
    "from_record",
]

assert set(event_classes()) == {t.value for t in EventType}, "every event type has its class"
