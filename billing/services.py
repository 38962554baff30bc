"""Credits: reserve when a job is created, capture when it succeeds, release when it fails or is canceled.

Guarantees (PostgreSQL):
- A store's reservations are serialised by a row lock on its ``BillingAccount``: the quota check and the
  reserve insert happen under that lock inside the job's own transaction, so N parallel creations against
  M remaining credits leave exactly M jobs, and a refused job leaves no row and no outbox message.
- Each job has at most one reserve and at most one settlement (capture *or* release): unique constraints
  ``ledger_one_entry_per_job_and_kind`` and ``ledger_one_settlement_per_job``. A second settlement attempt
  (event redelivery, a late failure after success, a cancel racing a success) is a no-op.
- Captures are serialised by the same lock, so the overage of a metered plan is computed in one order and
  produces exactly one ``MeterEventReport`` per job (``job`` is one-to-one).
- Every entry points at its ``CreditPeriod`` (billing/periods.py). A capture counts in the period of its
  reserve, against that period's plan and allowance, whenever the job finishes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Store
from accounts.time_zones import zone_of
from billing import periods
from billing.errors import PaymentRequired, QuotaExceeded
from billing.models import BillingAccount, CreditPeriod, LedgerEntry, MeterEventReport, Plan
from billing.prices import credit_price

log = logging.getLogger(__name__)

FREE_PLAN = "free"
# Used when the seeded rows are missing (e.g. a test database flushed after the data migration ran).
DEFAULT_PLANS = {
    "free": {"name": "Free", "monthly_credits": 20, "metered_overage": False, "watermark": True},
    "pro": {"name": "Pro", "monthly_credits": 500, "metered_overage": True, "watermark": False},
    "business": {"name": "Business", "monthly_credits": 3000, "metered_overage": True, "watermark": False},
    # Not sold: demo stores, benchmarks, staff. Created on first use.
    "internal": {
        "name": "Internal",
        "monthly_credits": 1_000_000,
        "metered_overage": False,
        "watermark": False,
        "is_public": False,
    },
}
TASK_REPORT_METER_EVENT = "billing.report_meter_event"
TASK_REPORT_PENDING = "billing.report_pending_meter_events"
UPGRADE_HINT = "Upgrade to Pro or Business under Billing (POST /api/v1/billing/checkout/) to keep creating jobs."


def grace_days() -> int:
    return int(getattr(settings, "BILLING_GRACE_DAYS", 3))


def meter_event_name() -> str:
    return getattr(settings, "STRIPE_METER_EVENT_NAME", "gasang_credits")


def plan_get(*, code: str) -> Plan:
    """The plan with this code; the built-in ones are recreated from their defaults if missing."""
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        if code not in DEFAULT_PLANS:
            raise Plan.DoesNotExist(code)
        plan, _ = Plan.objects.get_or_create(code=code, defaults=DEFAULT_PLANS[code])
    return plan


def billing_account_for(*, store: Store) -> BillingAccount:
    """The store's billing account, created on the free plan the first time it is needed."""
    account = BillingAccount.objects.select_related("plan", "credit_period__plan").filter(store=store).first()
    if account is None:
        account, _ = BillingAccount.objects.get_or_create(store=store, defaults={"plan": plan_get(code=FREE_PLAN)})
    account.store = store
    return account


def _account_row(store: Store, *, lock: bool) -> BillingAccount | None:
    # The cached latest period and its plan come in the same query: reserving needs no extra one.
    accounts = BillingAccount.objects.select_related("plan", "credit_period__plan").filter(store=store)
    if lock:
        # of=("self",): lock the account row only, never the shared plan row (that would serialise every store).
        accounts = accounts.select_for_update(of=("self",))
    account = next(iter(accounts[:1]), None)  # on job creation's path: no ORDER BY as .first() would add
    if account is not None:
        account.store = store  # the caller's instance: its time zone without a query
    return account


def _locked_account(store: Store) -> BillingAccount:
    account = _account_row(store, lock=True)
    if account is None:
        billing_account_for(store=store)
        account = _account_row(store, lock=True)
    return account


def _reserving_period(store: Store, at: datetime) -> tuple[BillingAccount, CreditPeriod]:
    """The account and the period to reserve in, the account row-locked when the period's plan has a quota.

    The lock makes concurrent creations for one store see each other's reserves; a plan billed by metered
    overage has no quota, so its jobs need no lock and a busy store's creations do not queue behind each other.
    Opening the next period (the current one ran out, or the plan changed) also happens under the lock.
    """
    account = _account_row(store, lock=False)
    if account is not None and periods.is_current(account, at) and account.credit_period.plan.metered_overage:
        return account, account.credit_period
    account = _locked_account(store)  # read (again) under the lock: the plan or the period may have just changed
    return account, periods.period_current(account=account, at=at)


def period_day(*, period: CreditPeriod, zone_name: str | None) -> str:
    """The period's first day in the store's time zone, e.g. 2026-12-01."""
    return f"{period.starts_at.astimezone(zone_of(zone_name)):%Y-%m-%d}"


@dataclass(frozen=True)
class PeriodTotals:
    reserved: int
    captured: int
    released: int
    granted: int

    @property
    def used(self) -> int:
        """Credits taken by jobs that are running or succeeded (reserved minus released)."""
        return self.reserved - self.released


def period_totals(*, period: CreditPeriod) -> PeriodTotals:
    if period.pk is None:  # a period not opened yet (billing.selectors.balance) has nothing in it
        return PeriodTotals(reserved=0, captured=0, released=0, granted=0)
    sums = LedgerEntry.objects.filter(period=period).aggregate(
        **{kind: Sum("credits", filter=Q(kind=kind)) for kind in LedgerEntry.Kind.values}
    )
    return PeriodTotals(
        reserved=sums["reserve"] or 0,
        captured=sums["capture"] or 0,
        released=sums["release"] or 0,
        granted=sums["adjustment"] or 0,
    )


def _past_grace(account: BillingAccount, now: datetime) -> bool:
    return account.past_due_since is not None and now - account.past_due_since > timedelta(days=grace_days())


def _save_entry(entry: LedgerEntry) -> LedgerEntry:
    # Uniqueness is PostgreSQL's job (the constraints above) and the foreign keys are rows we just read:
    # validating only the plain fields keeps job creation free of extra queries.
    entry.clean_fields(exclude=["store", "job", "plan", "period"])
    entry.save()
    return entry


def credits_reserve(*, job) -> LedgerEntry:
    """Reserve the job's price inside the caller's (job creation) transaction.

    Raises ``PaymentRequired`` when the subscription is past due beyond the grace period, and
    ``QuotaExceeded`` when a plan without metered overage has too few credits left; both are 402s
    and roll the job back with the transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("credits_reserve must run inside the job's transaction")
    now = timezone.now()
    account, period = _reserving_period(job.store, now)
    plan = period.plan
    if _past_grace(account, now):
        raise PaymentRequired(
            f"Your subscription payment has been overdue since {account.past_due_since:%Y-%m-%d}, beyond the "
            f"{grace_days()}-day grace period, so new jobs are paused. Update your payment method in the billing "
            "portal (POST /api/v1/billing/portal/)."
        )
    cost = credit_price(job.kind)
    if not plan.metered_overage:
        totals = period_totals(period=period)
        allowance = plan.monthly_credits + totals.granted
        left = max(0, allowance - totals.used)
        if cost > left:
            raise QuotaExceeded(
                f"This {job.kind} job costs {cost} credit{'s' if cost != 1 else ''}, but your store has {left} of "
                f"its {allowance} {plan.name} plan credits left for the period that started "
                f"{period_day(period=period, zone_name=job.store.time_zone)}. {UPGRADE_HINT}"
            )
    entry = LedgerEntry(
        store=job.store, job=job, kind=LedgerEntry.Kind.RESERVE, credits=cost, plan=plan, period=period,
        created_at=max(now, period.starts_at),  # inside its period even when this server's clock is a hair behind
    )
    return _save_entry(entry)


def _settle(*, reserve: LedgerEntry, kind: str, plan: Plan) -> LedgerEntry | None:
    """Insert the job's one settlement; None when it already has one (the unique constraints say so)."""
    entry = LedgerEntry(
        store_id=reserve.store_id,
        job_id=reserve.job_id,
        kind=kind,
        credits=reserve.credits,
        plan=plan,
        period_id=reserve.period_id,
    )
    try:
        with transaction.atomic():  # a savepoint: a duplicate must not break the caller's transaction
            return _save_entry(entry)
    except IntegrityError:
        return None


def _reserve_of(job) -> LedgerEntry | None:
    return LedgerEntry.objects.select_related("period__plan").filter(job=job, kind=LedgerEntry.Kind.RESERVE).first()


def _is_settled(job) -> bool:
    return LedgerEntry.objects.filter(job=job, kind__in=[LedgerEntry.Kind.CAPTURE, LedgerEntry.Kind.RELEASE]).exists()


def overage_of_capture(*, captured_before: int, credits: int, allowance: int) -> int:
    """How many of a capture's credits fall beyond the period's allowance."""
    return min(credits, max(0, captured_before + credits - allowance))


@transaction.atomic
def credits_capture(*, job) -> LedgerEntry | None:
    """Charge a succeeded job's reserved credits, once. Returns the capture, or None when there is nothing to do
    (already settled, or a job created before billing that never reserved).

    The capture counts in the period the job was reserved in, priced and metered by that period's plan (a job
    reserved on Free and finished after an upgrade is never overage). On a metered plan, the credits beyond the
    period's allowance become one ``MeterEventReport`` that is sent to Stripe after commit (through the outbox).
    """
    reserve = _reserve_of(job)
    if reserve is None or _is_settled(job):
        return None
    account = _locked_account(job.store)  # serialises captures, so overage is computed in one order
    period = reserve.period
    totals = period_totals(period=period)
    entry = _settle(reserve=reserve, kind=LedgerEntry.Kind.CAPTURE, plan=period.plan)
    if entry is None or not period.plan.metered_overage:
        return entry
    overage = overage_of_capture(
        captured_before=totals.captured,
        credits=entry.credits,
        allowance=period.plan.monthly_credits + totals.granted,
    )
    if overage:
        meter_report_create(job=job, account=account, credits=overage, period=period)
    return entry


@transaction.atomic
def credits_release(*, job) -> LedgerEntry | None:
    """Give a failed or canceled job's credits back, once. None when already settled or never reserved."""
    reserve = _reserve_of(job)
    if reserve is None or _is_settled(job):
        return None
    return _settle(reserve=reserve, kind=LedgerEntry.Kind.RELEASE, plan=reserve.plan)


def meter_report_create(*, job, account: BillingAccount, credits: int, period: CreditPeriod) -> MeterEventReport:
    """Record the overage to report and queue its delivery after commit. The job id is both Stripe's
    ``identifier`` (Stripe dedupes on it) and the root of our idempotency key."""
    from core.outbox import outbox_enqueue

    report = MeterEventReport(
        job=job,
        store_id=job.store_id,
        period=period,
        credits=credits,
        event_name=meter_event_name(),
        identifier=str(job.pk),
        idempotency_key=f"gasang-meter-{job.pk}",
        customer_id=account.stripe_customer_id,
        timestamp=int(timezone.now().timestamp()),
    )
    report.full_clean(validate_unique=False, validate_constraints=False)
    report.save()
    outbox_enqueue(task=TASK_REPORT_METER_EVENT, queue="default", payload={"meter_report_id": report.pk})
    return report


@transaction.atomic
def credits_grant(*, store: Store, credits: int, note: str = "") -> LedgerEntry:
    """An adjustment: extra credits for the store's current period (support gestures, promotions)."""
    account = _locked_account(store)
    now = timezone.now()
    period = periods.period_current(account=account, at=now)
    return _save_entry(
        LedgerEntry(
            store=store,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            credits=credits,
            plan=period.plan,
            period=period,
            note=note,
            created_at=max(now, period.starts_at),
        )
    )


@transaction.atomic
def billing_plan_assign(*, store: Store, plan_code: str) -> BillingAccount:
    """Put a store on a plan directly (admin, seeding, benchmarks); paid plans normally come from Stripe."""
    account = _locked_account(store)
    account.plan = plan_get(code=plan_code)
    account.full_clean()
    account.save()
    periods.period_current(account=account, at=timezone.now())  # the new plan's period starts now
    return account
