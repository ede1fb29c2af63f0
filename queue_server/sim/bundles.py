"""一件事 bundles, 帮办 and 代办 in the simulated hall (issue 16); ``cases.CaseBehaviour``
hands bundles here and calls ``begin_day``.

A bundle accepted at a window (or submitted by a 代办员) has its parts decided by their
departments' back offices: the parts without inputs start at once (并联审批), each other part
when the core has released it (its inputs approved). When every part is closed the bundle is
handed out once: the citizen comes back to the 出件 window (a 代办 bundle goes by post: the
citizen makes no visit). About a third of the bundles accepted at a window are accompanied by
a hall helper (帮办). Each working day the 代办员 of the hall's config (staff accounts of role
``agent``, their department the service point) submit a few cases and bundles for citizens.

The parts' receipts come from the command's outcome: the reply's ``parts`` (live mode), or
the last part's receipt (engine mode: the core opens the parts in one command, in catalogue
order, with consecutive receipts).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..hall import commands as c
from ..hall.config import StaffRole
from .arrivals import Citizen, midnight_ts
from .steps import Desk, Outcome, Request

HELPERS = (("bb-01", "王帮办"), ("bb-02", "李帮办"), ("bb-03", "张帮办"))  # seed 001 ③: 3 帮办 staff
ASSIST_SHARE = 0.3  # bundles accepted at a window with a 帮办员
AGENT_SUBMISSIONS = 3  # per working day, across the 代办员
DISAPPROVE_SHARE = 0.03


@dataclass(eq=False)
class BundlePlan:
    receipt: str
    matter: Any
    parts: dict[str, str]  # matter code -> part receipt
    rng: random.Random
    by_agent: bool
    closed: set[str] = field(default_factory=set)  # parts decided (or withdrawn)
    refused: set[str] = field(default_factory=set)
    started: set[str] = field(default_factory=set)


def part_receipts(data: dict[str, Any], matter: Any) -> dict[str, str]:
    """Matter code -> part receipt, from a bundle's acceptance outcome."""
    parts = data.get("parts")
    if isinstance(parts, list) and parts:
        return {str(p["matter_code"]): str(p["receipt_no"]) for p in parts}
    head, seq = str(data["receipt_no"]).rsplit("-", 1)  # the last part's
    n = len(matter.parts)
    return {p.matter: f"{head}-{int(seq) - (n - 1 - i):04d}" for i, p in enumerate(matter.parts)}


class BundleBehaviour:
    def __init__(self, cases: Any, plan: Callable[..., Any]) -> None:
        """``cases``: the ``cases.CaseBehaviour`` (its back office and calendar helpers);
        ``plan``: its ``CasePlan`` class (passed in: this module does not import cases)."""
        self.k = cases
        self.plan = plan
        self.bundles_opened = 0
        self.assisted = 0
        self.submitted = 0
        catalogue = cases.matters
        self.agents = [
            (s.username, s.name, s.department)
            for s in cases.m.config.staff
            if s.role is StaffRole.AGENT and s.department
        ]
        self.agent_matters = sorted(
            (m for m in catalogue.values() if m.is_bundle or not m.is_instant), key=lambda m: m.code
        )

    # ------------------------------------------------------------------ at the window

    def accepted(
        self,
        desk: Desk | None,
        data: dict[str, Any],
        matter: Any,
        ts: float,
        rng: random.Random,
        by_agent: bool = False,
    ) -> None:
        """A bundle was accepted: start its parts without inputs; maybe a 帮办员 joins."""
        self.bundles_opened += 1
        receipt = str(data.get("bundle_receipt") or data["receipt_no"])
        plan = BundlePlan(
            receipt=receipt, matter=matter, parts=part_receipts(data, matter), rng=rng, by_agent=by_agent
        )
        if desk is not None and rng.random() < ASSIST_SHARE:
            helper, name = HELPERS[rng.randrange(len(HELPERS))]
            self.k.m.push(ts + 1.0, self._assist, desk, receipt, helper, name)
        for p in matter.parts:
            if not p.after:
                self._start(plan, p.matter, ts)

    def _assist(self, ts: float, desk: Desk, receipt: str, helper: str, name: str) -> Request:
        def then(out: Outcome, ts: float) -> None:
            if out.ok:
                self.assisted += 1
            else:
                self.k.m.unexpected[f"assist_case:{out.code}"] += 1

        return Request(
            c.AssistCase(receipt_no=receipt, helper=helper, helper_name=name), desk.actor, desk.number, then
        )

    # ------------------------------------------------------------------ the parts

    def _after(
        self, ts: float, working_days: int, rng: random.Random, fn: Callable[..., Request | None], *args: Any
    ) -> None:
        """Back-office work ``working_days`` later; 0: later today, if the office is still open
        (a day's agenda is put on the heap at its start: today's is gone)."""
        local = datetime.fromtimestamp(ts, self.k.m.tz)
        if (
            working_days == 0
            and local.hour * 60 + local.minute < 16 * 60
            and self.k.m.calendar.is_working_day(local.date())
        ):
            self.k.m.push(ts + rng.uniform(600.0, 3600.0), fn, *args)
            return
        self.k._later(ts, local.date(), max(1, working_days), rng, fn, *args)

    def _start(self, plan: BundlePlan, code: str, ts: float) -> None:
        plan.started.add(code)
        self._after(ts, plan.rng.choice((0, 1)), plan.rng, self._review, plan, code)

    def _department(self, code: str) -> str:
        return str(self.k.matters[code].department)

    def _review(self, ts: float, plan: BundlePlan, code: str) -> Request:
        part = self.plan(receipt=plan.parts[code], department=self._department(code), days=1, rng=plan.rng)

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.k.m.unexpected[f"start_review:{out.code}"] += 1
                return
            share = next(p.share_working_days for p in plan.matter.parts if p.matter == code)
            self._after(ts, max(0, share - 1), plan.rng, self._decide, plan, code)

        return self.k._bo(part, c.StartReview(receipt_no=part.receipt), then)

    def _decide(self, ts: float, plan: BundlePlan, code: str) -> Request:
        part = self.plan(receipt=plan.parts[code], department=self._department(code), days=1, rng=plan.rng)
        approved = plan.rng.random() >= DISAPPROVE_SHARE
        cmd = c.DecideCase(
            receipt_no=part.receipt,
            decision=c.Decision.APPROVED if approved else c.Decision.DISAPPROVED,
            note="" if approved else "经审查不符合法定条件",
        )

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.k.m.unexpected[f"decide_case:{out.code}"] += 1
                return
            plan.closed.add(code)
            if not approved:
                plan.refused.add(code)
            self._moved(plan, ts)

        return self.k._bo(part, cmd, then)

    def _moved(self, plan: BundlePlan, ts: float) -> None:
        """After a part's decision: start the released parts; close those the core withdrew;
        when all are closed, the bundle is handed out once."""
        changed = True
        while changed:
            changed = False
            for p in plan.matter.parts:
                if p.matter in plan.closed or p.matter in plan.started or not p.after:
                    continue
                if any(a in plan.refused for a in p.after):
                    plan.closed.add(p.matter)
                    plan.refused.add(p.matter)  # withdrawn: its dependants go too
                    changed = True
                elif all(a in plan.closed for a in p.after):
                    self._start(plan, p.matter, ts)
        if len(plan.closed) == len(plan.parts):
            self._hand_out(plan, ts)

    def _hand_out(self, plan: BundlePlan, ts: float) -> None:
        k = self.k
        day = datetime.fromtimestamp(ts, k.m.tz).date()
        if plan.by_agent or k.pickup_queue is None:
            k._later(ts, day, plan.rng.choice((0, 1)), plan.rng, self._post, plan)
            return
        owner = Citizen(
            key=plan.receipt,
            arrive_ts=ts,
            queue=k.pickup_queue,
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
        k._come_back(owner, "pickup", plan.receipt, k.pickup_queue, plan.rng.randint(1, 3), plan.rng)

    def _post(self, ts: float, plan: BundlePlan) -> Request:
        bundle = self.plan(receipt=plan.receipt, department=str(plan.matter.department), days=1, rng=plan.rng)
        note = f"EMS {plan.rng.randrange(10**12):012d}"
        return self.k._bo(
            bundle,
            c.DeliverCase(receipt_no=plan.receipt, method=c.DeliveryMethod.POST, note=note),
            name="deliver_case",
        )

    # ------------------------------------------------------------------ 代办

    def begin_day(self, day: date) -> None:
        """A working day: the 代办员 submit a few cases for citizens of their towns."""
        if not self.agent_matters or not self.agents:
            return
        rng = random.Random(f"{self.k.m.seed}:{day.isoformat()}:agents")
        midnight = midnight_ts(day, self.k.m.tz)
        for i in range(AGENT_SUBMISSIONS):
            agent = self.agents[rng.randrange(len(self.agents))]
            matter = self.agent_matters[rng.randrange(len(self.agent_matters))]
            minute = rng.uniform(540, 1020)
            stream = random.Random(f"{self.k.m.seed}:{day.isoformat()}:agent:{i}")
            self.k.m.push(midnight + minute * 60.0, self._submit, agent, matter, stream)

    def _submit(self, ts: float, agent: tuple[str, str, str], matter: Any, rng: random.Random) -> Request:
        applicant = c.Applicant(name=f"代办群众{rng.randrange(1000):03d}", phone="", id_number="")
        username, name, point = agent
        actor = c.Actor(kind="staff", id=username, name=name)

        def then(out: Outcome, ts: float) -> None:
            if not out.ok:
                self.k.m.unexpected[f"submit_for_citizen:{out.code}"] += 1
                return
            self.submitted += 1
            if matter.is_bundle:
                self.accepted(None, out.data, matter, ts, rng, by_agent=True)
                return
            receipt = str(out.data["receipt_no"])
            day = datetime.fromtimestamp(ts, self.k.m.tz).date()
            plan = self.plan(
                receipt=receipt,
                department=str(matter.department),
                days=max(1, int(matter.promised_working_days)),
                rng=rng,
            )
            self.k._later(ts, day, rng.choice((0, 1)), rng, self.k._start_review, plan)

        return Request(
            c.SubmitForCitizen(matter=matter.code, applicant=applicant, agent_point=point), actor, None, then
        )
