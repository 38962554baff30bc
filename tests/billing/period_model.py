"""A seeded random life of one store with Stripe, played against the app and against an independent model.

The driver (``Life``) moves the stopped clock, makes jobs (created, finished now or later, failed), changes
plans the way Stripe does (checkout, portal plan changes, cancel at period end, cancel now, renewals), and
delivers Stripe's webhooks: plan changes promptly, renewals and endings 0–3 hours late, sometimes twice, in
shuffled order, with stale events mixed in.

The model knows only Stripe's truth and the documented rules: free credits per calendar month in the store's
time zone (from the instant a subscription ended, for the first one); a subscription's credits per Stripe
period, split at the instant of a plan change. It predicts which jobs a free allowance refuses, which period each
job counts in, and the credits beyond each period's allowance.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from billing.errors import QuotaExceeded
from billing.services import credits_grant
from generation.services import job_cancel, job_create
from tests.accounts.factories import MembershipFactory
from tests.billing import subscribing as stripe
from tests.billing.conftest import WEBHOOK_SECRET
from tests.billing.fake_stripe import invoice_object, new_id
from tests.billing.webhooks import post_event, stripe_event
from tests.generation.factories import public_face, shot_for

ALLOWANCE = {"free": 3, "pro": 4, "business": 6}
METERED = {"free": False, "pro": True, "business": True}
ZONES = ["Asia/Seoul", "UTC", "America/New_York"]


def month_after(at: datetime, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    return datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=zone).astimezone(UTC)


def month_start(at: datetime, zone: ZoneInfo) -> datetime:
    local = at.astimezone(zone)
    return datetime(local.year, local.month, 1, tzinfo=zone).astimezone(UTC)


@dataclass
class ModelPeriod:
    plan: str
    granted: int = 0
    used: int = 0  # reserved minus released
    captured: int = 0
    beyond: int = 0  # captured credits beyond the allowance (plan + credits granted so far)
    jobs: set = field(default_factory=set)

    def capture(self, credits: int) -> None:
        if METERED[self.plan]:
            self.beyond += min(credits, max(0, self.captured + credits - ALLOWANCE[self.plan] - self.granted))
        self.captured += credits


@dataclass
class Sub:
    id: str
    plan: str
    start: datetime
    end: datetime
    cancel_at_end: bool = False


class Life:
    def __init__(self, *, client, fake_stripe, clock, rng: random.Random, start: datetime):
        self.client, self.fake, self.clock, self.rng = client, fake_stripe, clock, rng
        self.zone_name = rng.choice(ZONES)
        self.zone = ZoneInfo(self.zone_name)
        self.member = MembershipFactory(store__time_zone=self.zone_name)
        self.sub: Sub | None = None
        self.free_since = start - timedelta(days=400)  # when the last subscription ended
        self.piece_start: datetime | None = None  # the current subscription piece's start (plan change split)
        self.periods: dict[tuple, ModelPeriod] = {}
        self.pending_jobs: dict = {}  # job -> model key
        self.job_key: dict = {}
        self.webhooks: list[tuple[datetime, int, dict]] = []  # (due, tiebreak, event)
        self.counts = {"jobs": 0, "refused": 0, "webhooks": 0, "plan changes": 0, "renewals": 0, "endings": 0,
                       "jobs before the news": 0}
        clock.move_to(start)

    # --- the model ---------------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time(), tz=UTC)

    def key(self) -> tuple:
        if self.sub is not None:
            return ("sub", self.sub.id, self.piece_start, self.sub.plan)
        return ("calendar", max(month_start(self.now(), self.zone), self.free_since), "free")

    def period(self) -> ModelPeriod:
        key = self.key()
        return self.periods.setdefault(key, ModelPeriod(plan=key[-1]))

    # --- the store's side --------------------------------------------------------------------------------

    def job(self) -> None:
        kind = self.rng.choice(["restore", "restore", "pipeline"])
        cost = 2 if kind == "pipeline" else 1
        period = self.period()
        refused = not METERED[period.plan] and cost > ALLOWANCE[period.plan] + period.granted - period.used
        inputs = {"product_shot": shot_for(self.member.store).pk}
        if kind == "pipeline":
            inputs["face"] = public_face().pk
        self.counts["jobs"] += 1
        self.counts["jobs before the news"] += bool(self.webhooks)  # Stripe changed something we have not heard of
        try:
            job = job_create(store=self.member.store, kind=kind, inputs=inputs, created_by=self.member.user).job
        except QuotaExceeded:
            assert refused, f"refused a job the model accepts ({self.key()})"
            self.counts["refused"] += 1
            return
        assert not refused, f"accepted a job the model refuses ({self.key()})"
        period.used += cost
        period.jobs.add(job.pk)
        self.job_key[job.pk] = self.key()
        self.pending_jobs[job] = cost
        if self.rng.random() < 0.6:
            self.finish(job)

    def finish(self, job=None) -> None:
        if job is None:
            if not self.pending_jobs:
                return
            job = self.rng.choice(list(self.pending_jobs))  # in creation order: a seed replays the same life
        cost = self.pending_jobs.pop(job)
        period = self.periods[self.job_key[job.pk]]
        outcome = self.rng.choices(["succeeded", "failed", "canceled"], [8, 1, 1])[0]
        if outcome == "canceled":
            job_cancel(job=job)
        else:
            stripe.finish(job, outcome)
        if outcome == "succeeded":
            period.capture(cost)
        else:
            period.used -= cost

    def grant(self) -> None:
        credits = self.rng.randint(1, 3)
        credits_grant(store=self.member.store, credits=credits, note="property test")
        self.period().granted += credits

    # --- Stripe's side -----------------------------------------------------------------------------------

    def _event(self, event_type: str, obj: dict, at: datetime, delay: timedelta) -> None:
        event = stripe_event(event_type, obj, created=int(at.timestamp()))
        self.webhooks.append((at + delay, self.rng.random(), event))
        if self.rng.random() < 0.2:  # Stripe delivers it again
            self.webhooks.append((at + delay + timedelta(minutes=self.rng.randint(1, 30)), self.rng.random(), event))

    def _prompt(self, event_type: str) -> None:
        self.clock.shift(1)
        self._event(event_type, dict(self.fake.subscriptions[self.sub.id]), self.now(), timedelta(seconds=2))
        self.deliver_due(self.now() + timedelta(seconds=2))

    def subscribe(self) -> None:
        plan = self.rng.choice(["pro", "business"])
        days = self.rng.randint(28, 31)
        sub_id = stripe.subscribe(self.fake, self.member.store, plan, start=self.now(), days=days)
        self.sub = Sub(sub_id, plan, self.now(), self.now() + timedelta(days=days))
        self.piece_start = self.sub.start
        self._prompt("customer.subscription.created")

    def change_plan(self) -> None:
        self.sub.plan = "business" if self.sub.plan == "pro" else "pro"
        stripe.change_plan(self.fake, self.sub.id, self.sub.plan)
        self.piece_start = self.now()
        self.counts["plan changes"] += 1
        self._prompt("customer.subscription.updated")

    def cancel_at_end(self) -> None:
        stripe.cancel_at_period_end(self.fake, self.sub.id)
        self.sub.cancel_at_end = True
        self._prompt("customer.subscription.updated")

    def cancel_now(self) -> None:
        sub_id = self.sub.id
        stripe.end(self.fake, sub_id, at=int(time.time()))
        self.sub, self.free_since = None, self.now()
        self.clock.shift(1)
        self._event("customer.subscription.deleted", dict(self.fake.subscriptions[sub_id]), self.now(),
                    timedelta(seconds=2))
        self.deliver_due(self.now() + timedelta(seconds=2))

    def period_end(self) -> None:
        """At the subscription period's end Stripe renews it, or ends it when it was set to cancel; its
        webhooks come 0–3 hours later, shuffled, sometimes twice, with a stale one now and then."""
        sub, at = self.sub, self.sub.end
        delay = timedelta(minutes=self.rng.choice([0, 5, 60, 120, 180]))
        self.counts["endings" if sub.cancel_at_end else "renewals"] += 1
        if sub.cancel_at_end:
            stripe.end(self.fake, sub.id)
            self.sub, self.free_since = None, at
            self._event("customer.subscription.deleted", dict(self.fake.subscriptions[sub.id]), at, delay)
            return
        days = self.rng.randint(28, 31)
        stripe.renew(self.fake, sub.id, days=days)
        sub.start, sub.end = at, at + timedelta(days=days)
        self.piece_start = at
        inv_id = new_id("in")
        self.fake.invoices[inv_id] = invoice_object(inv_id=inv_id, customer=stripe.customer_for(self.member.store),
                                                   subscription=sub.id, status="paid")
        self._event("invoice.paid", self.fake.invoices[inv_id], at, delay)
        self._event("customer.subscription.updated", dict(self.fake.subscriptions[sub.id]), at,
                    delay + timedelta(minutes=self.rng.randint(0, 20)))
        if self.rng.random() < 0.2:  # a stale "created" that Stripe retried for hours
            self._event("customer.subscription.created", dict(self.fake.subscriptions[sub.id]),
                        at - timedelta(days=2), delay + timedelta(minutes=7))

    def deliver_due(self, until: datetime) -> None:
        self.webhooks.sort(key=lambda w: (w[0], w[1]))
        while self.webhooks and self.webhooks[0][0] <= until:
            due, _tie, event = self.webhooks.pop(0)
            self.clock.move_to(max(due, self.now()))
            response = post_event(self.client, event, WEBHOOK_SECRET)
            assert response.status_code == 200, response.content
            self.counts["webhooks"] += 1

    def advance(self, delta: timedelta) -> None:
        target = self.now() + delta
        while True:
            next_end = self.sub.end if self.sub is not None else None
            due = min([w[0] for w in self.webhooks] + ([next_end] if next_end else []), default=None)
            if due is None or due > target:
                break
            if next_end is not None and next_end == due:
                self.deliver_due(next_end - timedelta(microseconds=1))
                self.clock.move_to(next_end)
                self.period_end()
                if self.rng.random() < 0.5:  # stop soon after: the store works before Stripe's news arrives
                    target = min(target, next_end + timedelta(minutes=self.rng.randint(1, 50)))
            else:
                self.deliver_due(due)
        self.clock.move_to(target)

    def near(self, edge: datetime) -> None:
        """To a few minutes or hours before an edge (a period's end, a month's), when it is ahead."""
        target = edge - timedelta(minutes=self.rng.choice([1, 10, 90, 180]))
        self.advance(max(target - self.now(), timedelta(minutes=5)))

    # --- one step of the life ----------------------------------------------------------------------------

    def step(self) -> None:
        quiet = not self.webhooks  # plan changes only when Stripe has told us everything so far
        choices = [(self.job, 45), (self.finish, 12), (self.grant, 2),
                   (lambda: self.advance(timedelta(minutes=self.rng.randint(5, 720))), 15),
                   (lambda: self.advance(timedelta(hours=self.rng.randint(12, 24 * 7))), 8),
                   (lambda: self.near(month_after(self.now(), self.zone)), 4)]
        if self.sub is not None:
            choices.append((lambda: self.near(self.sub.end), 6))
        if quiet and self.sub is None:
            choices.append((self.subscribe, 10))
        if quiet and self.sub is not None and not self.sub.cancel_at_end:
            choices += [(self.change_plan, 4), (self.cancel_at_end, 3), (self.cancel_now, 1)]
        actions, weights = zip(*choices, strict=True)
        self.rng.choices(actions, weights)[0]()

    def settle(self) -> None:
        """Stripe delivers everything still due, and every running job finishes."""
        self.deliver_due(self.now() + timedelta(days=1))
        while self.pending_jobs:
            self.finish()
