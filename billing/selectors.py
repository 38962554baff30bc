"""Reads for billing. Every selector takes the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Store
from billing.models import BillingAccount, Invoice, LedgerEntry, MeterEventReport
from billing.services import billing_account_for, grace_days, period_start_for, period_totals


@dataclass(frozen=True)
class Balance:
    account: BillingAccount
    period_start: date
    period_end: date | None
    allowance: int
    used: int
    captured: int
    overage_credits: int
    overage_reported: int

    @property
    def remaining(self) -> int:
        return max(0, self.allowance - self.used)

    @property
    def past_due(self) -> bool:
        return self.account.past_due_since is not None

    @property
    def jobs_paused_at(self) -> datetime | None:
        """When new jobs start getting 402 if the overdue payment is not settled."""
        since = self.account.past_due_since
        return since + timedelta(days=grace_days()) if since else None


def _period_end(account: BillingAccount, start: date) -> date:
    end = account.current_period_end
    if end and account.current_period_start and account.current_period_start.date() == start:
        return end.date()
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)  # the first of the next month


def balance(*, store: Store) -> Balance:
    """The store's plan and credits for the current period."""
    account = billing_account_for(store)
    start = period_start_for(account, timezone.now())
    totals = period_totals(store=store, period_start=start)
    reports = MeterEventReport.objects.filter(store=store, period_start=start)
    return Balance(
        account=account,
        period_start=start,
        period_end=_period_end(account, start),
        allowance=account.plan.monthly_credits + totals.granted,
        used=totals.used,
        captured=totals.captured,
        overage_credits=reports.aggregate(total=Sum("credits"))["total"] or 0,
        overage_reported=reports.filter(status=MeterEventReport.Status.REPORTED).aggregate(total=Sum("credits"))[
            "total"
        ]
        or 0,
    )


def usage_by_day(*, store: Store, days: int = 30) -> list[dict]:
    """Credits used per day and job kind over the last ``days`` days (UTC): reservations of jobs that were
    not released, i.e. jobs that succeeded or are still running. Rows: {day, kind, jobs, credits}."""
    since = timezone.now() - timedelta(days=days)
    released = LedgerEntry.objects.filter(store=store, kind=LedgerEntry.Kind.RELEASE).values("job_id")
    rows = (
        LedgerEntry.objects.filter(store=store, kind=LedgerEntry.Kind.RESERVE, created_at__gte=since)
        .exclude(job_id__in=released)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "job__kind")
        .annotate(jobs=Count("id"), credits=Sum("credits"))
        .order_by("day", "job__kind")
    )
    return [{"day": r["day"], "kind": r["job__kind"], "jobs": r["jobs"], "credits": r["credits"]} for r in rows]


def invoice_list(*, store: Store) -> QuerySet[Invoice]:
    return Invoice.objects.filter(store=store)
