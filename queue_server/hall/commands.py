"""Commands: what someone asks the hall to do. Imperative names, frozen values.

The core validates each against the hall's state; the shell has already checked field
types and the sender's role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Channel(StrEnum):
    KIOSK = "kiosk"
    MOBILE = "mobile"
    APPOINTMENT = "appointment"
    STAFF = "staff"


class Priority(StrEnum):
    NORMAL = "normal"
    GREEN = "green"  # 绿色通道: elderly, disabled, military
    APPOINTMENT = "appointment"  # 预约, served near its slot


@dataclass(frozen=True, kw_only=True)
class Actor:
    """Who acts: a staff member, a device (kiosk, window call button) or the system."""

    kind: str  # "staff" | "device" | "system"
    id: str
    name: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"


SYSTEM = Actor(kind="system", id="hall", name="系统")


@dataclass(frozen=True, kw_only=True)
class Applicant:
    name: str = ""
    phone: str = ""
    id_number: str = ""


@dataclass(frozen=True, kw_only=True)
class IssueTicket:
    queue: str
    channel: Channel = Channel.KIOSK
    priority: Priority = Priority.NORMAL
    appointment_slot: datetime | None = None
    checked_in: bool = True  # False for an appointment booked ahead: check_in on arrival
    applicant: Applicant | None = None
    status_token: str = ""  # unguessable token of the citizen status page (the shell makes it)


@dataclass(frozen=True, kw_only=True)
class CheckIn:
    ticket: str


@dataclass(frozen=True, kw_only=True)
class CallNext:
    window: int


@dataclass(frozen=True, kw_only=True)
class CallTicket:
    window: int
    ticket: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class Recall:
    window: int


@dataclass(frozen=True, kw_only=True)
class StartService:
    window: int


@dataclass(frozen=True, kw_only=True)
class FinishService:
    window: int


@dataclass(frozen=True, kw_only=True)
class NoShow:
    window: int


@dataclass(frozen=True, kw_only=True)
class Reactivate:
    ticket: str


@dataclass(frozen=True, kw_only=True)
class Transfer:
    ticket: str
    to_queue: str | None = None
    to_window: int | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class CancelTicket:
    ticket: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class OpenWindow:
    window: int


@dataclass(frozen=True, kw_only=True)
class PauseWindow:
    window: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class ResumeWindow:
    window: int


@dataclass(frozen=True, kw_only=True)
class CloseWindow:
    window: int


@dataclass(frozen=True, kw_only=True)
class StaffLogin:
    window: int
    username: str
    name: str


@dataclass(frozen=True, kw_only=True)
class StaffLogout:
    window: int


@dataclass(frozen=True, kw_only=True)
class Tick:
    """The shell's timer: lets the core roll over to a new service day."""


# ---------------------------------------------------------------------- cases (办件)
# ``scope``: the department a back-office sender acts for (None: any, e.g. a manager). The core
# refuses a case or rectification outside it with ``not_your_department``.

SUSPENSION_REASONS = (
    "听证",
    "招标",
    "拍卖",
    "检验",
    "检测",
    "检疫",
    "鉴定",
    "专家评审",
)  # 行政许可法 art. 45


class Decision(StrEnum):
    APPROVED = "approved"
    DISAPPROVED = "disapproved"


class DeliveryMethod(StrEnum):
    WINDOW = "window"  # handed out at the 出件 window (or at the window of a 即办件)
    POST = "post"  # 邮寄


@dataclass(frozen=True, kw_only=True)
class AcceptCase:
    """受理 during a service at ``window``; with ``deficiency_item`` it is 容缺受理."""

    window: int
    matter: str
    applicant: Applicant | None = None  # default: the ticket's applicant
    deficiency_item: str = ""
    deficiency_promised_date: date | None = None


@dataclass(frozen=True, kw_only=True)
class RejectCase:
    """不予受理 with a reason: a new case, or a 补正 case (``receipt_no``) that cannot go on."""

    window: int
    reason: str
    matter: str = ""
    receipt_no: str = ""
    applicant: Applicant | None = None


@dataclass(frozen=True, kw_only=True)
class RequestMaterials:
    """补正: one notice listing every missing material; the clock does not start."""

    window: int
    matter: str
    missing_materials: tuple[str, ...]
    applicant: Applicant | None = None


@dataclass(frozen=True, kw_only=True)
class ResumeCase:
    """The materials of a 补正 case are complete (any window, during a service): 受理."""

    window: int
    receipt_no: str


@dataclass(frozen=True, kw_only=True)
class SupplyMaterials:
    """The 容缺 item was supplied."""

    receipt_no: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class StartReview:
    receipt_no: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class SuspendCase:
    receipt_no: str
    reason: str  # one of SUSPENSION_REASONS
    expected_working_days: int
    note: str = ""
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResumeReview:
    receipt_no: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExtendCase:
    receipt_no: str
    working_days: int
    reason: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class DecideCase:
    """办结. With ``window``: a 即办件 decided on the spot at the window serving its ticket."""

    receipt_no: str
    decision: Decision
    note: str = ""
    window: int | None = None
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeliverCase:
    """出件: at a window serving the citizen's ticket, or by post."""

    receipt_no: str
    method: DeliveryMethod
    window: int | None = None
    note: str = ""  # e.g. the tracking number
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecomputeDeadlines:
    """Recompute every open case's and rectification's due instants with the hall's calendar
    (the shell sends it at start, after loading new calendar data)."""


# ---------------------------------------------------------------------- 集成服务 (issue 16)


@dataclass(frozen=True, kw_only=True)
class ReissueNotice:
    """A second 补正 notice for a 补正 case: refused unless the matter's material list changed
    since the first (一次告知)."""

    window: int
    receipt_no: str
    missing_materials: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class AssistCase:
    """帮办: a named hall helper accompanies the citizen through an open case (and its parts)."""

    receipt_no: str
    helper: str
    helper_name: str = ""


@dataclass(frozen=True, kw_only=True)
class SubmitForCitizen:
    """代办: a 代办员 submits a case (or a 一件事 bundle) on the citizen's behalf; the citizen
    makes no visit. ``agent_point`` is the 代办员's service point (the server fills it in)."""

    matter: str
    applicant: Applicant
    deficiency_item: str = ""
    deficiency_promised_date: date | None = None
    agent_point: str = ""


# ---------------------------------------------------------------------- 好差评


@dataclass(frozen=True, kw_only=True)
class RateService:
    """One rating per service. From a window's rating pad: ``window`` (the pad's) and the
    ``ticket`` it shows; from the citizen's status page: ``status_token``."""

    score: int  # 1-5
    reasons: tuple[str, ...] = ()
    text: str = ""
    window: int | None = None
    ticket: str = ""
    status_token: str = ""


@dataclass(frozen=True, kw_only=True)
class FollowUpRating:
    """追评: once, by the rater (status page token), after the 差评 was dealt with."""

    status_token: str
    score: int
    reasons: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class ContactRater:
    rectification: int
    note: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class Rectify:
    rectification: int
    measures: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class Revisit:
    rectification: int
    satisfaction: int  # 1-5, as the rater said at the 回访
    note: str = ""
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolveOnTheSpot:
    rectification: int
    note: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExplainRating:
    """解释说明: the demand has no legal basis; closes the loop with that outcome."""

    rectification: int
    explanation: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class AppealRating:
    rectification: int
    reason: str
    staff: str = ""  # set when the rated staff member appeals from a window: must be the owner
    scope: str | None = None


class AppealDecision(StrEnum):
    UPHELD = "upheld"  # the rating stays stored, excluded from the figures
    REJECTED = "rejected"  # the loop goes on from where it was


@dataclass(frozen=True, kw_only=True)
class DecideAppeal:
    rectification: int
    decision: AppealDecision
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ReassignRectification:
    """The management gives a 差评 loop to another owner (the management or a department),
    with the reason recorded. ``department`` names the department (for ``department``)."""

    rectification: int
    responsible: str  # management / department
    reason: str
    department: str = ""
    scope: str | None = None


# ---------------------------------------------------------------------- complaints (投诉/纠纷)


class ComplaintChannel(StrEnum):
    ONSITE = "onsite"  # 现场
    PHONE = "phone"  # 电话
    HOTLINE = "hotline_12345"  # 12345 转办 (分办、督办、反馈)
    RATING = "rating"  # 好差评 follow-up
    UNRESOLVED = "unresolved"  # 办不成事 反映 (找茬 window)


COMPLAINT_CHANNEL_NAMES = {
    ComplaintChannel.ONSITE: "现场",
    ComplaintChannel.PHONE: "电话",
    ComplaintChannel.HOTLINE: "12345转办",
    ComplaintChannel.RATING: "好差评",
    ComplaintChannel.UNRESOLVED: "办不成事",
}


@dataclass(frozen=True, kw_only=True)
class ReceiveComplaint:
    """Record a complaint. ``category``: an entry of the hall's responsibility catalogue (it
    decides the owner), or empty (free text: the management triages). ``department`` names the
    department a department category goes to when no matter or case names it."""

    channel: ComplaintChannel
    content: str
    category: str = ""
    matter_code: str = ""
    receipt_no: str = ""
    rating_id: int | None = None
    department: str = ""
    hotline_ref: str = ""  # 12345 work-order number (required for that channel)
    hotline_due: date | None = None  # 12345: the platform's 反馈 date, when it sets one
    complainant: Applicant | None = None
    ticket: str = ""
    window: int | None = None


@dataclass(frozen=True, kw_only=True)
class AssignComplaint:
    """分办 to the owner (the management's triage), or reassign (``reason`` required)."""

    complaint: int
    responsible: str  # management / department
    department: str = ""
    reason: str = ""
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class HandleComplaint:
    complaint: int
    handling: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReplyComplaint:
    complaint: int
    reply: str
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class CloseComplaint:
    complaint: int
    satisfaction: int  # 1-5, the complainant's
    scope: str | None = None


@dataclass(frozen=True, kw_only=True)
class RemindComplaint:
    """督办: a manager's reminder to the owner, recorded."""

    complaint: int
    note: str


Command = (
    IssueTicket
    | CheckIn
    | CallNext
    | CallTicket
    | Recall
    | StartService
    | FinishService
    | NoShow
    | Reactivate
    | Transfer
    | CancelTicket
    | OpenWindow
    | PauseWindow
    | ResumeWindow
    | CloseWindow
    | StaffLogin
    | StaffLogout
    | Tick
    | AcceptCase
    | RejectCase
    | RequestMaterials
    | ResumeCase
    | SupplyMaterials
    | StartReview
    | SuspendCase
    | ResumeReview
    | ExtendCase
    | DecideCase
    | DeliverCase
    | RecomputeDeadlines
    | RateService
    | FollowUpRating
    | ContactRater
    | Rectify
    | Revisit
    | ResolveOnTheSpot
    | ExplainRating
    | AppealRating
    | DecideAppeal
    | ReassignRectification
    | ReceiveComplaint
    | AssignComplaint
    | HandleComplaint
    | ReplyComplaint
    | CloseComplaint
    | RemindComplaint
    | ReissueNotice
    | AssistCase
    | SubmitForCitizen
)
