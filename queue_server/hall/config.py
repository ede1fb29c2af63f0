"""Hall configuration as frozen values.

This module only describes a hall. Reading a TOML file and reporting problems with their
place in the file is done by ``queue_server.config_file``; the core receives a ready
``HallConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class QueueKind(StrEnum):
    """Kinds of queue and window (seed 001). Values are the domain's own words."""

    GENERAL = "无差别综合"
    FIELD = "分领域"
    SPECIAL = "专窗"
    PICKUP = "出件"
    CONSULT = "咨询"


class StaffRole(StrEnum):
    WINDOW = "window"  # works at a window
    BACKOFFICE = "backoffice"  # back-office approval of cases
    MANAGER = "manager"  # everything
    AGENT = "agent"  # 代办员: submits cases for citizens; department = its service point (代办点)


@dataclass(frozen=True, kw_only=True)
class Interval:
    """A half-open span of local wall-clock time, [start, end). ``end`` may be 24:00."""

    start_min: int  # minutes after local midnight
    end_min: int

    def contains(self, minute_of_day: int) -> bool:
        return self.start_min <= minute_of_day < self.end_min

    def __str__(self) -> str:
        return f"{_hhmm(self.start_min)}-{_hhmm(self.end_min)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, kw_only=True)
class WeeklyHours:
    """Opening intervals per weekday, index 0 = Monday (``date.weekday()``)."""

    days: tuple[tuple[Interval, ...], ...]  # exactly 7 entries

    def is_open(self, weekday: int, minute_of_day: int) -> bool:
        return any(iv.contains(minute_of_day) for iv in self.days[weekday])

    def intervals(self, weekday: int) -> tuple[Interval, ...]:
        return self.days[weekday]


@dataclass(frozen=True, kw_only=True)
class QueueConfig:
    code: str  # also the ticket prefix, e.g. "A"
    name: str  # zh-CN
    kind: QueueKind
    daily_cap: int
    hours: WeeklyHours  # the hall's hours unless the queue sets its own
    department: str = ""
    default_service_s: float = 300.0  # prior for the service-time estimate
    alert_waiting: int = 30  # dashboard alert: waiting count above this
    alert_wait_min: int = 30  # dashboard alert: longest wait above this (minutes)
    matters: tuple[str, ...] = ()  # matter codes served (data/matters)


@dataclass(frozen=True, kw_only=True)
class WindowQueue:
    queue: str
    weight: float = 1.0


@dataclass(frozen=True, kw_only=True)
class WindowConfig:
    number: int
    name: str
    kind: QueueKind
    zone: str
    queues: tuple[WindowQueue, ...]
    department: str = ""
    accessible: bool = False  # low counter / barrier-free (无障碍环境建设法 art. 40)


@dataclass(frozen=True, kw_only=True)
class StaffAccount:
    username: str
    name: str
    role: StaffRole
    password_hash: str  # "scrypt$n$r$p$salt_b64$hash_b64", never plain text
    department: str = ""


class Party(StrEnum):
    """Who answers for a 差评 or a complaint, by its content (seed 001 四(四), 四(五))."""

    MANAGEMENT = "management"  # the hall's 管委会: staff attitude at 综合受理窗口, the hall itself
    DEPARTMENT = "department"  # the 入驻单位 whose matter it is: 业务咨询、审批时限、业务流程、业务审批


@dataclass(frozen=True, kw_only=True)
class Reason:
    """One entry of the responsibility catalogue: a 差评 reason / complaint category."""

    text: str
    party: Party


DEFAULT_REASONS: tuple[Reason, ...] = (
    Reason(text="等候时间过长", party=Party.MANAGEMENT),  # queueing, window staffing: the hall
    Reason(text="服务态度不好", party=Party.MANAGEMENT),  # 综合受理窗口工作人员服务态度
    Reason(text="业务不熟练", party=Party.DEPARTMENT),  # 业务咨询
    Reason(text="一次性告知不清", party=Party.DEPARTMENT),  # 业务咨询 (办事指南 are the unit's)
    Reason(text="办理时间过长", party=Party.DEPARTMENT),  # 审批时限
    Reason(text="材料要求过多", party=Party.DEPARTMENT),  # 业务流程
    Reason(text="多次跑腿", party=Party.DEPARTMENT),  # 业务流程
    Reason(text="审批结果有异议", party=Party.DEPARTMENT),  # 业务审批
    Reason(text="环境设施不便", party=Party.MANAGEMENT),  # the hall's layout and facilities
)


@dataclass(frozen=True, kw_only=True)
class Rules:
    recall_limit: int = 3  # recalls allowed after the first call
    auto_no_show: bool = True  # a recall past the limit marks the ticket no-show
    priority_ratio: int = 2  # consecutive 绿色通道 calls before a normal ticket goes next
    appointment_early_min: int = 15  # a checked-in appointment is due from slot - this
    reactivate_same_day: bool = True
    ewma_alpha: float = 0.05  # weight of the newest window-cycle sample in the estimate
    issue_rate_per_min: int = 30  # tickets a kiosk may issue per minute
    recent_calls: int = 8  # calls kept on the wall display
    announce_repeat: int = 2  # times each call is spoken
    contact_due_working_days: int = 1  # 差评: contact the rater within
    rectify_due_working_days: int = 2  # 差评: rectify and report back within
    due_soon_hours: int = 4  # "due soon" mark on cases and rectifications
    rating_pad_minutes: int = 10  # a window's rating pad may rate its last service this long
    follow_up_days: int = 15  # 追评 accepted up to this many days after the 差评 loop closed
    max_extension_working_days: int = 10  # 延期 at most once, at most this long (行政许可法 art. 42)
    # complaints (投诉/纠纷): reply within, per channel (working days from receipt)
    complaint_onsite_working_days: int = 5  # 现场
    complaint_phone_working_days: int = 5  # 电话
    complaint_hotline_working_days: int = 3  # 12345 转办: 反馈 to the hotline platform
    complaint_rating_working_days: int = 5  # 好差评 follow-up
    complaint_unresolved_working_days: int = 3  # 办不成事 反映
    booking_horizon_days: int = 30  # appointments at most this many days ahead (and not in the past)
    session_hours: int = 0  # staff sessions last this long; 0: until close_of_business (or midnight)
    login_attempts: int = 5  # failed logins per user or address before the lockout
    login_lockout_s: int = 300  # the longest wait after repeated failed logins


@dataclass(frozen=True, kw_only=True)
class HallConfig:
    code: str
    name: str
    timezone: str = "Asia/Shanghai"
    close_of_business: time = time(17, 30)
    hours: WeeklyHours
    queues: tuple[QueueConfig, ...]
    windows: tuple[WindowConfig, ...]
    staff: tuple[StaffAccount, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    require_display_token: bool = False
    notice: str = ""  # scrolling line on the wall display
    public_url: str = ""  # scheme://host[:port] phones reach the hall at (status-page QR codes)
    allowed_hosts: tuple[str, ...] = ()  # Host names besides loopback and public_url's (DNS rebinding)
    rules: Rules = field(default_factory=Rules)
    management: str = "行政服务中心管委会"  # the hall's management (管委会): owner of management matters
    reasons: tuple[Reason, ...] = DEFAULT_REASONS  # the responsibility catalogue

    def reason(self, text: str) -> Reason | None:
        return next((r for r in self.reasons if r.text == text), None)

    def queue(self, code: str) -> QueueConfig | None:
        return next((q for q in self.queues if q.code == code), None)

    def window(self, number: int) -> WindowConfig | None:
        return next((w for w in self.windows if w.number == number), None)

    def staff_account(self, username: str) -> StaffAccount | None:
        return next((s for s in self.staff if s.username == username), None)
