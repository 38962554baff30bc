"""Credit periods: which span of time, plan and allowance a store's credits count against.

The rules (README, "Billing periods"):

- Without a live subscription a store has *calendar* periods: from the 1st of the month at 00:00 in the store's
  time zone (``Store.time_zone``, Asia/Seoul by default) to the next 1st at 00:00 — the first one after a
  subscription ended starts at the instant it ended. That is when Free allowances reset.
- A live subscription's period is Stripe's ``current_period_start`` – ``current_period_end``.
- What Stripe reports — an upgrade, a downgrade, a cancellation, a renewal — closes the store's period and opens
  the next at the instant Stripe gives (the new ``current_period_start``, ``ended_at``, or the ``created`` of the
  event that changed the plan). A period is never closed before a reserve we already counted in it, so credits
  counted in one period never move to another, and usage before the instant never counts against the new
  allowance.
- A subscription period that runs out before Stripe's renewal webhook arrives is continued by a *provisional*
  period from its end (same plan; the free plan when Stripe said it cancels at period end). Stripe renews a
  period exactly at the old end, so the late webhook confirms it with Stripe's bounds and the reserves made
  in between count against the new period's allowance and are metered by its plan — never lost to a bucket.

Writers hold the store's ``BillingAccount`` row lock; the account caches the latest period (``credit_period``)
so that reserving for a job needs no extra query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Max

from accounts.time_zones import zone_of
from billing.models import BillingAccount, CreditPeriod, LedgerEntry, Plan, SubscriptionStatus

TICK = timedelta(microseconds=1)  # the smallest step between two instants the database keeps apart
# Statuses in which the subscribed plan's allowance applies.
PLAN_STATUSES = {SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING, SubscriptionStatus.PAST_DUE,
                 SubscriptionStatus.UNPAID}


@dataclass(frozen=True)
class PeriodSpec:
    """A period to open: ``starts_at`` is where it would naturally start (clipped when opened)."""

    plan: Plan
    starts_at: datetime
    ends_at: datetime
    subscription_id: str = ""  # empty: a calendar period
    provisional: bool = False

    def same_terms(self, period: CreditPeriod | None) -> bool:
        return (period is not None and period.plan_id == self.plan.pk
                and period.stripe_subscription_id == self.subscription_id)


def month_bounds(at: datetime, zone_name: str | None) -> tuple[datetime, datetime]:
    """The calendar month holding ``at`` in the time zone: its first instant and the next month's (UTC)."""
    zone = zone_of(zone_name)
    local = at.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    start = datetime(local.year, local.month, 1, tzinfo=zone)
    return start.astimezone(UTC), datetime(year, month, 1, tzinfo=zone).astimezone(UTC)


def calendar_spec(*, plan: Plan, zone_name: str | None, at: datetime, provisional: bool = False) -> PeriodSpec:
    """The calendar period from ``at`` to the end of its month (``at`` is a month start or when a
    subscription ended)."""
    _start, end = month_bounds(at, zone_name)
    return PeriodSpec(plan=plan, starts_at=at, ends_at=end, provisional=provisional)


def is_current(account: BillingAccount, at: datetime) -> bool:
    """Whether the cached period is where a reserve at ``at`` goes (no query).

    Clocks of two servers differ by milliseconds, so ``at`` a hair before the start of the latest period
    still belongs to it (the entry is stamped at the period's start). A plan assigned directly (admin,
    ``billing_assign_plan``) differs from the period's: that opens the next period. Provisional periods keep
    their plan until Stripe's webhook.
    """
    return _takes(account.credit_period, account, at)


def _takes(period: CreditPeriod | None, account: BillingAccount, at: datetime) -> bool:
    return (period is not None and at < period.ends_at
            and (period.plan_id == account.plan_id or period.provisional))


def _head(store_id: int) -> CreditPeriod | None:
    """The store's latest period."""
    return CreditPeriod.objects.select_related("plan").filter(store_id=store_id).order_by("-starts_at").first()


def _last_placed_at(period: CreditPeriod) -> datetime | None:
    """When the period's last reserve or grant was counted (captures and releases follow their reserve)."""
    kinds = [LedgerEntry.Kind.RESERVE, LedgerEntry.Kind.ADJUSTMENT]
    return LedgerEntry.objects.filter(period=period, kind__in=kinds).aggregate(last=Max("created_at"))["last"]


def _free_plan() -> Plan:
    from billing.services import FREE_PLAN, plan_get

    return plan_get(code=FREE_PLAN)


def _live_subscription(account: BillingAccount) -> bool:
    return bool(account.stripe_subscription_id and account.subscription_status in PLAN_STATUSES
                and account.current_period_start and account.current_period_end)


def next_spec(account: BillingAccount, head: CreditPeriod | None, at: datetime) -> PeriodSpec:
    """The period a reserve at ``at`` needs when the latest one (``head``) does not take it."""
    after = head.ends_at if head is not None and head.ends_at <= at else None  # the head ran out: continue it
    if _live_subscription(account):
        start, end = account.current_period_start, account.current_period_end
        if at < end:
            return PeriodSpec(plan=account.plan, starts_at=start, ends_at=end,
                              subscription_id=account.stripe_subscription_id)
        # Stripe's period ran out and the renewal has not reached us: continue it as Stripe will.
        begin = max(end, after or end)
        if account.cancel_at_period_end:
            return calendar_spec(plan=_free_plan(), zone_name=account.store.time_zone, at=begin, provisional=True)
        return PeriodSpec(plan=account.plan, starts_at=begin, ends_at=begin + (end - start),
                          subscription_id=account.stripe_subscription_id, provisional=True)
    zone_name = account.store.time_zone
    month_start, _end = month_bounds(at, zone_name)
    return calendar_spec(plan=account.plan, zone_name=zone_name, at=max(month_start, after or month_start))


def open_period(account: BillingAccount, head: CreditPeriod | None, spec: PeriodSpec, *, cut: datetime) -> CreditPeriod:
    """Make ``spec`` the store's period from ``cut`` on (or from its own start, when later): the head is closed
    there, never before its last reserve, or takes the spec's terms when nothing was counted in it yet. Returns
    the new latest period (the head itself when the spec would be over before it starts). Caller holds the
    account lock."""
    start = max(spec.starts_at, cut)
    if head is not None and head.ends_at > start:
        last = _last_placed_at(head)
        start = max(start, head.starts_at, last + TICK if last else head.starts_at)
        if start >= spec.ends_at:
            return head  # what Stripe reports is already behind us
        if last is None and start == head.starts_at:
            return _retake(head, _new_period(account, spec, start))
        head.ends_at, head.provisional = start, False
        head.save(update_fields=["ends_at", "provisional"])
    period = _new_period(account, spec, start)
    period.full_clean(exclude=["store", "plan"], validate_unique=False, validate_constraints=False)
    period.save()
    return period


def _retake(head: CreditPeriod, new: CreditPeriod) -> CreditPeriod:
    """Nothing was counted in the head: it becomes the new period in place. Kept rather than deleted, so that a
    reserve on a metered plan (which takes no lock) racing with this never points at a row that is gone."""
    fields = ["plan", "source", "stripe_subscription_id", "ends_at", "provisional"]
    for name in fields:
        setattr(head, name, getattr(new, name))
    head.full_clean(exclude=["store", "plan"], validate_unique=False, validate_constraints=False)
    head.save(update_fields=fields)
    return head


def _remember(account: BillingAccount, period: CreditPeriod) -> CreditPeriod:
    if account.credit_period_id != period.pk:
        account.credit_period = period
        if account.pk:
            BillingAccount.objects.filter(pk=account.pk).update(credit_period=period)
    else:
        account.credit_period = period
    return period


def period_current(*, account: BillingAccount, at: datetime) -> CreditPeriod:
    """The period credits used at ``at`` count against, opened when needed. Caller holds the account lock."""
    if is_current(account, at):
        return account.credit_period
    head = _head(account.store_id)
    if _takes(head, account, at):
        return _remember(account, head)
    spec = next_spec(account, head, at)
    cut = min(at, head.ends_at) if head is not None else spec.starts_at
    return _remember(account, open_period(account, head, spec, cut=cut))


def period_preview(*, account: BillingAccount, at: datetime) -> CreditPeriod:
    """For reading: the current period, or (unsaved) the one the next reserve would open."""
    if is_current(account, at):
        return account.credit_period
    head = _head(account.store_id)
    if _takes(head, account, at):
        return head
    spec = next_spec(account, head, at)
    start = max(spec.starts_at, min(at, head.ends_at)) if head is not None else spec.starts_at
    return _new_period(account, spec, start)


def _new_period(account: BillingAccount, spec: PeriodSpec, start: datetime) -> CreditPeriod:
    return CreditPeriod(
        store_id=account.store_id,
        plan=spec.plan,
        source=CreditPeriod.Source.SUBSCRIPTION if spec.subscription_id else CreditPeriod.Source.CALENDAR,
        stripe_subscription_id=spec.subscription_id,
        starts_at=start,
        ends_at=spec.ends_at,
        provisional=spec.provisional,
    )


def _follow_ending(account: BillingAccount, head: CreditPeriod | None, ended_at: datetime) -> CreditPeriod:
    """Free from the instant the subscription ended — or from just after the last reserve counted in the period
    that continued it (a very late webhook), in that instant's calendar month."""
    free = _free_plan()
    if head is not None and head.plan_id == free.pk and not head.stripe_subscription_id and ended_at < head.ends_at:
        if head.provisional:  # foreseen (cancel at period end): confirmed
            head.provisional = False
            head.save(update_fields=["provisional"])
        return head  # already free since then
    begin = ended_at
    if head is not None and head.ends_at > ended_at:
        last = _last_placed_at(head)
        begin = max(begin, head.starts_at, last + TICK if last else head.starts_at)
    spec = calendar_spec(plan=free, zone_name=account.store.time_zone, at=begin)
    return open_period(account, head, spec, cut=begin)


def periods_follow_stripe(*, account: BillingAccount, subscription: dict, ended_at: datetime | None,
                          event_at: datetime) -> CreditPeriod | None:
    """After ``account`` took Stripe's state of ``subscription``: close and open periods to match it.

    ``ended_at``: when Stripe says the subscription ended (cancellations); ``event_at``: the ``created`` of
    the event being applied, the instant of a plan change inside the current period. Caller holds the lock.
    """
    head = _head(account.store_id)
    if ended_at is not None:
        return _remember(account, _follow_ending(account, head, ended_at))
    if not _live_subscription(account) or account.stripe_subscription_id != subscription.get("id"):
        return None
    spec = PeriodSpec(plan=account.plan, starts_at=account.current_period_start,
                      ends_at=account.current_period_end, subscription_id=account.stripe_subscription_id)
    if spec.same_terms(head) and spec.starts_at <= head.starts_at < spec.ends_at:
        if head.ends_at != spec.ends_at or head.provisional:  # a renewal confirmed, or a period extended
            last = _last_placed_at(head)
            head.ends_at = max(spec.ends_at, last + TICK) if last else spec.ends_at
            head.provisional = False
            head.save(update_fields=["ends_at", "provisional"])
        return _remember(account, head)
    same_cycle = (head is not None and head.stripe_subscription_id == spec.subscription_id
                  and not head.provisional and spec.starts_at <= head.starts_at)
    cut = event_at if same_cycle else spec.starts_at  # a plan change inside the cycle, or a new cycle
    return _remember(account, open_period(account, head, spec, cut=cut))
