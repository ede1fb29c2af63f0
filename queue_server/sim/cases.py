"""Cases (办件) and 好差评 in the simulated hall, once the core has them.

During a service at a window the citizen's matter (from the catalogue's queue column) is
handled: 不予受理, a 补正 notice (the citizen comes back another working day and the case is
resumed), 容缺受理, or 受理. A 即办件 is decided and handed over on the spot. A 承诺件 goes to
the back office on the following working days: review, sometimes a suspension (检验, 检测,
专家评审 …) or the one extension, the decision (a few after the deadline: 超期), then the
result by post or at the 出件 window, where the citizen comes back with a P ticket.

After a service the citizen may rate it on the window's pad (about 60% do). 差评 (levels 1–2)
are about 2.5%, more after a long wait. The core opens a rectification for each, and its
owners work the closed loop: resolved on the spot, explained, appealed by the rated staff
member, or contacted → rectified → revisited, mostly within the rules' working days.

Its draws come from streams of their own (``"<seed>:<receipt_no>"`` …). Citizens coming back
for a case (补正 materials, 出件) take the place of drawn arrivals of their queue
(``engine.take_places``), so the queues keep the profile's volumes.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..hall import commands as c
from ..hall.config import StaffRole
from .arrivals import Citizen, DayKind, lognormal, midnight_ts
from .steps import Desk, ModelView, Outcome, Request

PICKUP_QUEUE_KIND = "出件"
MISSING = (
    "申请人身份证明复印件",
    "申请表(签字)",
    "授权委托书",
    "营业执照副本复印件",
    "房屋权属证明",
    "户口簿",
)
DEFICIENCY = ("申请表原件(签字)", "相关证明复印件")
REJECT_REASONS = ("申请事项不属于本机关职权范围", "申请事项依法不需要取得行政许可", "申请人不具备申请资格")
BAD_REASONS = ("等候时间过长", "服务态度不好", "业务不熟练", "一次性告知不清", "办理时间过长", "材料要求过多")


@dataclass(frozen=True, kw_only=True)
class CaseProfile:
    """Shares and delays of the case and rating behaviour (calibration assumptions)."""

    reject_share: float = 0.02  # 不予受理
    request_share: float = 0.08  # 补正 notice, 承诺件 (即办件: a third of it)
    return_share: float = 0.85  # of 补正: come back with the materials (within 5 working days)
    deficiency_share: float = 0.05  # 容缺受理, 承诺件
    deficiency_late_share: float = 0.1  # the item comes after the promised date
    suspend_share: float = 0.03
    extend_share: float = 0.02
    disapprove_share: float = 0.03
    late_share: float = 0.04  # decided after the deadline (超期)
    post_share: float = 0.4  # result by post (邮寄); the rest come to the 出件 window
    rate_share: float = 0.6  # rate on the pad after the service
    bad_share: float = 0.018  # 差评 (levels 1–2) ...
    bad_share_long_wait: float = 0.06  # ... after a wait over 30 minutes
    on_the_spot_share: float = 0.25  # 当场解决
    explain_share: float = 0.1  # 解释说明: no legal basis for the demand
    appeal_share: float = 0.05  # the rated staff member appeals
    appeal_upheld_share: float = 0.5
    contact_late_share: float = 0.08
    rectify_late_share: float = 0.08


def _office_minute(rng: random.Random) -> float:
    """A moment of back-office work: 9:00–11:30 or 14:30–17:00."""
    return rng.uniform(540, 690) if rng.random() < 0.5 else rng.uniform(870, 1020)


class CaseBehaviour:
    """The hall model's plug-in for cases and ratings (see ``engine.HallModel.cases``)."""

    def __init__(self, model: ModelView, matters: dict[str, Any], profile: CaseProfile | None = None) -> None:
        from ..hall.cases import department_matches  # only with the core's cases

        self.m = model
        self.p = profile or CaseProfile()
        self.matters = matters
        self.by_queue: dict[str, list[Any]] = defaultdict(list)
        for matter in sorted(matters.values(), key=lambda x: x.code):
            if model.config.queue(matter.queue) is not None:
                self.by_queue[matter.queue].append(matter)
        self.pickup_queue = next(
            (q.code for q in model.config.queues if q.kind.value == PICKUP_QUEUE_KIND), None
        )
        staff = model.config.staff
        self.manager = next((s for s in staff if s.role is StaffRole.MANAGER), None)
        self.backoffice = [s for s in staff if s.role is StaffRole.BACKOFFICE]
        self._matches = department_matches
        self.agenda: dict[date, list[tuple[float, Callable[..., Request | None], tuple[Any, ...]]]] = (
            defaultdict(list)
        )
        self.returning: dict[date, list[Citizen]] = defaultdict(list)
        self.cases_opened = 0
        self.ratings = 0
        self.today: date | None = None  # the day begun last (its agenda is on the heap)
        from .bundles import BundleBehaviour  # 一件事, 帮办代办 (issue 16)

        self.bundles = BundleBehaviour(self, CasePlan)

    # ------------------------------------------------------------------ the calendar

    def _working_day(self, day: date, after: int) -> date:
        return (
            self.m.calendar.add_working_days(day, after)
            if after > 0
            else (day if self.m.calendar.is_working_day(day) else self.m.calendar.next_working_day(day))
        )

    def _later(
        self,
        at: float,
        day: date,
        working_days: int,
        rng: random.Random,
        fn: Callable[..., Request | None],
        *args: Any,
    ) -> None:
        when = self._working_day(day, working_days)
        minute = _office_minute(rng)
        if when == self.today:  # today's agenda is already on the heap: join it (or do it soon)
            midnight = midnight_ts(when, self.m.tz)
            self.m.push(max(midnight + minute * 60.0, at + rng.uniform(300.0, 1800.0)), fn, *args)
            return
        self.agenda[when].append((minute, fn, args))

    def begin_day(self, day: date, kind: DayKind) -> list[Citizen]:
        """Put the day's back-office work on the heap; the citizens coming back today."""
        items = self.agenda.pop(day, [])
        self.today = day
        if not kind.working:
            nxt = self.m.calendar.next_working_day(day)
            self.agenda[nxt].extend(items)
            back, self.returning[day] = self.returning.pop(day, []), []
            for cit in back:
                self.returning[nxt].append(cit)
            return []
        self.bundles.begin_day(day)
        midnight = midnight_ts(day, self.m.tz)
        for minute, fn, args in items:
            self.m.push(midnight + minute * 60.0, fn, *args)
        return self.returning.pop(day, [])

    def _backoffice_actor(self, department: str) -> tuple[c.Actor, str | None]:
        for s in self.backoffice:
            if self._matches(s.department, department):
                return c.Actor(kind="staff", id=s.username, name=s.name), s.department
        if self.manager is not None:
            return c.Actor(kind="staff", id=self.manager.username, name=self.manager.name), None
        return c.SYSTEM, None

    def adopt(self, rows: list[dict[str, Any]], now_ts: float) -> int:
        """Take over the open cases of a database (a resumed demo: the model's agenda of the
        last run is gone): the back office goes on with each from its state. ``rows``: the
        ``cases`` table's ``receipt_no``, ``department``, ``promised_working_days``, ``state``
        and ``due_at``. Returns how many cases were taken over."""
        day = datetime.fromtimestamp(now_ts, self.m.tz).date()
        taken = 0
        for row in rows:
            rng = random.Random(f"{self.m.seed}:{row['receipt_no']}:adopted")
            plan = CasePlan(
                receipt=str(row["receipt_no"]),
                department=str(row["department"]),
                days=max(1, int(row["promised_working_days"] or 1)),
                rng=rng,
            )
            state = row["state"]
            if state == "accepted":
                self._later(now_ts, day, rng.choice((0, 1)), rng, self._start_review, plan)
            elif state == "in_review":
                self._later(now_ts, day, rng.randint(0, 2), rng, self._decide, plan)
            elif state == "suspended":
                self._later(now_ts, day, rng.randint(0, 2), rng, self._resume_review, plan)
                self._later(now_ts, day, rng.randint(3, 4), rng, self._decide, plan)
            elif state == "decided":
                self._later(now_ts, day, rng.choice((0, 1)), rng, self._post, plan)
            else:
                continue  # 补正: the citizen comes back (or not); completed and rejected are done
            taken += 1
        return taken

    # ------------------------------------------------------------------ at the window

    def service(self, desk: Desk, cit: Citizen, start: float, end: float) -> None:
        """A service started at ``desk``: schedule its case work before ``end``."""
        if cit.purpose == "pickup" and cit.receipt:
            self.m.push(start + 0.5 * (end - start), self._deliver_here, desk, cit)
            return
        if cit.transfer_to is not None and not cit.transferred:
            return  # the matter belongs to another window
        if cit.purpose == "resume" and cit.receipt:
            self.m.push(start + 0.5 * (end - start), self._resume_here, desk, cit, end)
            return
        matters = self.by_queue.get(cit.queue)
        if not matters:
            return
        rng = random.Random(f"{self.m.seed}:{cit.key}:case")
        matter = matters[rng.randrange(len(matters))]
        u = rng.random()
        cit.matter = matter.code
        instant = matter.is_instant
        request = self.p.request_share * (1 / 3 if instant else 1)
        if u < self.p.reject_share:
            step: Callable[..., Request | None] = self._reject_here
        elif u < self.p.reject_share + request:
            step = self._request_here
        else:
            step = self._accept_here
        self.m.push(start + 0.5 * (end - start), step, desk, cit, matter, rng, end)

    def _reject_here(
        self, ts: float, desk: Desk, cit: Citizen, matter: Any, rng: random.Random, end: float
    ) -> Request:

        reason = REJECT_REASONS[rng.randrange(len(REJECT_REASONS))]
        return Request(
            c.RejectCase(window=desk.session.window, matter=matter.code, reason=reason),
            desk.actor,
            desk.number,
            self._check("reject_case"),
        )

    def _request_here(
        self, ts: float, desk: Desk, cit: Citizen, matter: Any, rng: random.Random, end: float
    ) -> Request:

        names = [x.name for x in getattr(matter, "materials", ())] or list(MISSING)  # the 材料清单
        missing = tuple(rng.sample(names, rng.randint(1, min(3, len(names)))))

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"request_materials:{out.code}"] += 1
                return
            self.cases_opened += 1
            if rng.random() < self.p.return_share:
                self._come_back(cit, "resume", out.data["receipt_no"], cit.queue, rng.randint(1, 5), rng)

        return Request(
            c.RequestMaterials(window=desk.session.window, matter=matter.code, missing_materials=missing),
            desk.actor,
            desk.number,
            then,
        )

    def _accept_here(
        self, ts: float, desk: Desk, cit: Citizen, matter: Any, rng: random.Random, end: float
    ) -> Request:

        day = datetime.fromtimestamp(ts, self.m.tz).date()
        listed = getattr(matter, "materials", ())  # 容缺 only for a deferrable material of the list
        deferrable = [x.name for x in listed if x.deferrable] if listed else list(DEFICIENCY)
        deficient = not matter.is_instant and rng.random() < self.p.deficiency_share and bool(deferrable)
        cmd = c.AcceptCase(
            window=desk.session.window,
            matter=matter.code,
            deficiency_item=deferrable[rng.randrange(len(deferrable))] if deficient else "",
            deficiency_promised_date=self._working_day(day, 3) if deficient else None,
        )

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"accept_case:{out.code}"] += 1
                return
            self.cases_opened += 1
            self._accepted(desk, out.data["receipt_no"], matter, ts, end, deficient, rng, out.data)

        return Request(cmd, desk.actor, desk.number, then)

    def _resume_here(self, ts: float, desk: Desk, cit: Citizen, end: float) -> Request:

        rng = random.Random(f"{self.m.seed}:{cit.receipt}:resume")
        matter = self.matters.get(cit.matter)

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"resume_case:{out.code}"] += 1
            elif matter is not None:
                self._accepted(desk, cit.receipt, matter, ts, end, False, rng, out.data)

        return Request(
            c.ResumeCase(window=desk.session.window, receipt_no=cit.receipt), desk.actor, desk.number, then
        )

    def _accepted(
        self,
        desk: Desk,
        receipt: str,
        matter: Any,
        ts: float,
        end: float,
        deficient: bool,
        rng: random.Random,
        data: dict[str, Any] | None = None,
    ) -> None:
        """受理 done: a 即办件 is decided and handed over before the service ends; a 承诺件
        goes to the back office; a 一件事 to its parts' back offices (``bundles``, from ``data``)."""
        if getattr(matter, "parts", ()):
            self.bundles.accepted(desk, data or {}, matter, ts, rng)
            return
        if matter.is_instant:
            self.m.push(ts + 0.5 * (end - ts), self._decide_here, desk, receipt)
            self.m.push(ts + 0.8 * (end - ts), self._deliver_own, desk, receipt)
            return
        day = datetime.fromtimestamp(ts, self.m.tz).date()
        days = max(1, int(matter.promised_working_days))
        plan = CasePlan(receipt=receipt, department=matter.department, days=days, rng=rng)
        self._later(ts, day, rng.choice((0, 1)), rng, self._start_review, plan)
        if deficient:
            supply = self._working_day(
                day, 4 if rng.random() < self.p.deficiency_late_share else rng.randint(1, 3)
            )
            plan.supply_day = supply
            self.agenda[supply].append((_office_minute(rng), self._supply, (plan,)))

    def _decide_here(self, ts: float, desk: Desk, receipt: str) -> Request:

        return Request(
            c.DecideCase(receipt_no=receipt, decision=c.Decision.APPROVED, window=desk.session.window),
            desk.actor,
            desk.number,
            self._check("decide_case"),
        )

    def _deliver_own(self, ts: float, desk: Desk, receipt: str) -> Request:

        return Request(
            c.DeliverCase(receipt_no=receipt, method=c.DeliveryMethod.WINDOW, window=desk.session.window),
            desk.actor,
            desk.number,
            self._check("deliver_case"),
        )

    def _deliver_here(self, ts: float, desk: Desk, cit: Citizen) -> Request:

        return Request(
            c.DeliverCase(receipt_no=cit.receipt, method=c.DeliveryMethod.WINDOW, window=desk.session.window),
            desk.actor,
            desk.number,
            self._check("deliver_case"),
        )

    def _come_back(
        self, cit: Citizen, purpose: str, receipt: str, queue: str, working_days: int, rng: random.Random
    ) -> None:
        day = self._working_day(datetime.fromtimestamp(cit.arrive_ts, self.m.tz).date(), working_days)
        q = self.m.config.queue(queue)
        if q is None:
            return
        intervals = q.hours.intervals(day.weekday())
        if not intervals:
            return
        iv = intervals[rng.randrange(len(intervals))]
        minute = rng.uniform(iv.start_min, max(iv.start_min + 1, iv.end_min - 30))
        p = self.m.profile
        back = Citizen(
            key=f"{receipt}/{purpose}",
            arrive_ts=midnight_ts(day, self.m.tz) + minute * 60.0,
            queue=queue,
            priority=c.Priority.NORMAL,
            channel=c.Channel.KIOSK,
            slot_ts=None,
            service_s=lognormal(
                rng,
                p.service_mean_s.get(queue, 300.0) * (0.5 if purpose == "resume" else 1.0),
                p.service_sigma,
            ),
            walk_s=lognormal(rng, p.walk_mean_s, p.walk_sigma),
            absent_u=rng.random(),
            late_after=0,
            return_after_s=None,
            transfer_to=None,
            transfer_service_s=0.0,
            name=cit.name,
            phone=cit.phone,
            purpose=purpose,
            receipt=receipt,
            matter=cit.matter,
        )
        self.returning[day].append(back)

    # ------------------------------------------------------------------ back office

    def _bo(
        self, plan: CasePlan, cmd: Any, then: Callable[[Outcome, float], None] | None = None, name: str = ""
    ) -> Request:

        actor, scope = self._backoffice_actor(plan.department)
        if hasattr(cmd, "scope"):
            cmd = dataclasses.replace(cmd, scope=scope)
        return Request(cmd, actor, None, then or self._check(name or type(cmd).__name__))

    def _start_review(self, ts: float, plan: CasePlan) -> Request:
        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"start_review:{out.code}"] += 1
                return
            day = datetime.fromtimestamp(ts, self.m.tz).date()
            rng, p = plan.rng, self.p
            u = rng.random()
            # the decision some way into the promised time; a few only after it (超期)
            decide_in = max(1, round(plan.days * rng.uniform(0.3, 0.9)))
            if u < p.late_share:
                decide_in = plan.days + rng.randint(1, 3)
            if u >= 1 - p.suspend_share:
                length = rng.randint(3, 10)
                self._later(ts, day, 1, rng, self._suspend, plan, length)
                decide_in += length + 1
            elif 1 - p.suspend_share - p.extend_share <= u < 1 - p.suspend_share:
                extra = min(5, self.m.config.rules.max_extension_working_days)
                self._later(ts, day, max(0, plan.days - 2), rng, self._extend, plan, extra)
                decide_in = plan.days + rng.randint(1, extra)
            if plan.supply_day is not None:  # the decision waits for the 容缺 item
                decide_in = max(decide_in, self.m.calendar.working_days_between(day, plan.supply_day) + 1)
            self._later(ts, day, decide_in, rng, self._decide, plan)

        return self._bo(plan, c.StartReview(receipt_no=plan.receipt), then)

    def _suspend(self, ts: float, plan: CasePlan, length: int) -> Request:
        reasons = ("检验", "检测", "鉴定", "专家评审")
        reason = reasons[plan.rng.randrange(len(reasons))]

        def then(out: Outcome, ts: float) -> None:
            if out.ok:
                day = datetime.fromtimestamp(ts, self.m.tz).date()
                self._later(ts, day, length, plan.rng, self._resume_review, plan)
            else:
                self.m.unexpected[f"suspend_case:{out.code}"] += 1

        return self._bo(
            plan,
            c.SuspendCase(
                receipt_no=plan.receipt,
                reason=reason,
                expected_working_days=length,
                note=f"{reason}需{length}个工作日",
            ),
            then,
        )

    def _resume_review(self, ts: float, plan: CasePlan) -> Request:
        return self._bo(plan, c.ResumeReview(receipt_no=plan.receipt), name="resume_review")

    def _extend(self, ts: float, plan: CasePlan, days: int) -> Request:
        return self._bo(
            plan,
            c.ExtendCase(receipt_no=plan.receipt, working_days=days, reason="需现场核查,经负责人批准延期"),
            name="extend_case",
        )

    def _supply(self, ts: float, plan: CasePlan) -> Request:
        return self._bo(plan, c.SupplyMaterials(receipt_no=plan.receipt), name="supply_materials")

    def _decide(self, ts: float, plan: CasePlan) -> Request:
        approved = plan.rng.random() >= self.p.disapprove_share
        cmd = c.DecideCase(
            receipt_no=plan.receipt,
            decision=c.Decision.APPROVED if approved else c.Decision.DISAPPROVED,
            note="" if approved else "经审查不符合法定条件",
        )

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"decide_case:{out.code}"] += 1
                return
            day = datetime.fromtimestamp(ts, self.m.tz).date()
            if self.pickup_queue is None or plan.rng.random() < self.p.post_share:
                self._later(ts, day, plan.rng.choice((0, 1)), plan.rng, self._post, plan)
            else:
                owner = Citizen(
                    key=plan.receipt,
                    arrive_ts=ts,
                    queue=self.pickup_queue,
                    priority=c.Priority.NORMAL,
                    channel=c.Channel.KIOSK,
                    slot_ts=None,
                    service_s=0.0,
                    walk_s=0.0,
                    absent_u=1.0,
                    late_after=0,
                    return_after_s=None,
                    transfer_to=None,
                    transfer_service_s=0.0,
                )
                self._come_back(
                    owner, "pickup", plan.receipt, self.pickup_queue, plan.rng.randint(1, 3), plan.rng
                )

        return self._bo(plan, cmd, then)

    def _post(self, ts: float, plan: CasePlan) -> Request:
        note = f"EMS {plan.rng.randrange(10**12):012d}"
        return self._bo(
            plan,
            c.DeliverCase(receipt_no=plan.receipt, method=c.DeliveryMethod.POST, note=note),
            name="deliver_case",
        )

    # ------------------------------------------------------------------ 好差评

    def finished(self, desk: Desk, cit: Citizen, ts: float) -> None:
        """A service finished: the citizen may rate it on the window's pad."""
        if cit.ticket is None:
            return
        rng = random.Random(f"{self.m.seed}:{cit.key}:{cit.ticket}:rating")
        if rng.random() >= self.p.rate_share:
            return
        waited = ts - cit.wait_since
        bad = self.p.bad_share_long_wait if waited > 1800 else self.p.bad_share
        u = rng.random()
        if u < bad / 3:
            score = 1
        elif u < bad:
            score = 2
        else:
            score = rng.choices((3, 4, 5), weights=(4, 16, 80))[0]
        reasons: tuple[str, ...] = ()
        if score <= 2:
            reasons = ("等候时间过长",) if waited > 1800 else (BAD_REASONS[rng.randrange(len(BAD_REASONS))],)
        # the pad of the window that served, even if its staff member moves on meanwhile
        self.m.push(
            ts + rng.uniform(3.0, 40.0), self._rate, desk, desk.session.window, cit, score, reasons, rng
        )

    def _rate(
        self,
        ts: float,
        desk: Desk,
        window: int,
        cit: Citizen,
        score: int,
        reasons: tuple[str, ...],
        rng: random.Random,
    ) -> Request:

        pad = c.Actor(kind="device", id=f"pad-{window}", name=f"{window}号窗口评价器")
        cmd = c.RateService(score=score, reasons=reasons, window=window, ticket=cit.ticket or "")

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"rate_service:{out.code}"] += 1
                return
            self.ratings += 1
            rid = out.data.get("rectification_id")
            if rid is not None:
                self._loop(int(rid), out.data.get("owner_department", ""), desk, ts, rng)

        return Request(cmd, pad, None, then)

    def _loop(self, rid: int, department: str, desk: Desk, ts: float, rng: random.Random) -> None:
        """The closed loop of a 差评: 评价 → 核实 → 整改 → 反馈 → 回访."""
        p = self.p
        day = datetime.fromtimestamp(ts, self.m.tz).date()
        plan = CasePlan(receipt=str(rid), department=department, days=0, rng=rng)
        u = rng.random()
        if u < p.on_the_spot_share:
            self.m.push(ts + rng.uniform(300.0, 1800.0), self._rect_step, plan, "spot")
        elif u < p.on_the_spot_share + p.explain_share:
            self._later(ts, day, 1, rng, self._rect_step, plan, "explain")
        elif u < p.on_the_spot_share + p.explain_share + p.appeal_share:
            self.m.push(ts + rng.uniform(600.0, 3600.0), self._appeal, plan, desk.username, desk.name)
        else:
            late = rng.random() < p.contact_late_share
            self._later(ts, day, 2 if late else rng.choice((0, 1)), rng, self._rect_step, plan, "contact")

    def _rect_step(self, ts: float, plan: CasePlan, step: str) -> Request:
        rid, rng, p = int(plan.receipt), plan.rng, self.p
        day = datetime.fromtimestamp(ts, self.m.tz).date()
        if step == "spot":
            cmd: Any = c.ResolveOnTheSpot(rectification=rid, note="值班长当场沟通,问题已解决")
        elif step == "explain":
            cmd = c.ExplainRating(rectification=rid, explanation="所提要求无法律法规依据,已向评价人解释说明")
        elif step == "contact":
            cmd = c.ContactRater(rectification=rid, note="电话联系评价人,核实情况")
        elif step == "rectify":
            cmd = c.Rectify(rectification=rid, measures="窗口人员业务培训,优化一次性告知清单,已向评价人反馈")
        else:
            satisfaction = rng.choices((5, 4, 3, 2), weights=(55, 30, 10, 5))[0]
            cmd = c.Revisit(rectification=rid, satisfaction=satisfaction, note="回访评价人")

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"{step}:{out.code}"] += 1
            elif step == "contact":
                late = rng.random() < p.rectify_late_share
                self._later(ts, day, 3 if late else rng.choice((0, 1)), rng, self._rect_step, plan, "rectify")
            elif step == "rectify":
                self._later(ts, day, rng.choice((0, 1)), rng, self._rect_step, plan, "revisit")

        return self._bo(plan, cmd, then)

    def _appeal(self, ts: float, plan: CasePlan, username: str, name: str) -> Request:

        rid = int(plan.receipt)
        day = datetime.fromtimestamp(ts, self.m.tz).date()

        def then(out: Outcome, ts: float) -> None:
            if out.ok:
                self._later(ts, day, 1, plan.rng, self._decide_appeal, plan)
            else:
                self.m.unexpected[f"appeal_rating:{out.code}"] += 1

        cmd = c.AppealRating(rectification=rid, reason="评价人所述与事实不符,有录音录像为证", staff=username)
        return Request(cmd, c.Actor(kind="staff", id=username, name=name), None, then)

    def _decide_appeal(self, ts: float, plan: CasePlan) -> Request:

        rid, rng = int(plan.receipt), plan.rng
        upheld = rng.random() < self.p.appeal_upheld_share
        day = datetime.fromtimestamp(ts, self.m.tz).date()

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"decide_appeal:{out.code}"] += 1
            elif not upheld:
                self._later(ts, day, rng.choice((0, 1)), rng, self._rect_step, plan, "contact")

        cmd = c.DecideAppeal(
            rectification=rid,
            decision=c.AppealDecision.UPHELD if upheld else c.AppealDecision.REJECTED,
            note="核实后申诉成立" if upheld else "申诉理由不充分,继续整改",
        )
        actor = (
            c.Actor(kind="staff", id=self.manager.username, name=self.manager.name)
            if self.manager is not None
            else c.SYSTEM
        )
        return Request(cmd, actor, None, then)

    def _check(self, name: str) -> Callable[[Outcome, float], None]:
        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.m.unexpected[f"{name}:{out.code}"] += 1

        return then


@dataclass(eq=False)
class CasePlan:
    """What the back office knows of one case (or, ``days`` 0, one rectification)."""

    receipt: str
    department: str
    days: int
    rng: random.Random
    supply_day: date | None = None  # 容缺: when the missing item comes
