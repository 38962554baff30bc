"""Reads for billing. Every selector takes the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import Store
from accounts.time_zones import zone_of
from billing import periods
from billing.models import BillingAccount, CreditPeriod, Invoice, LedgerEntry, MeterEventReport
from billing.services import billing_account_for, grace_days, overage_of_capture, period_totals


@dataclass(frozen=True)
class Balance:
    account: BillingAccount
    period: CreditPeriod
    time_zone: str
    allowance: int
    used: int
    captured: int
    overage_credits: int
    overage_reported: int

    @property
    def period_starts_at(self) -> datetime:
        return self.period.starts_at

    @property
    def period_ends_at(self) -> datetime:
        return self.period.ends_at

    @property
    def period_start(self) -> date:
        """The period's first day in the store's time zone."""
        return self.period.starts_at.astimezone(zone_of(self.time_zone)).date()

    @property
    def period_end(self) -> date:
        """The day the next period starts (store's time zone)."""
        return self.period.ends_at.astimezone(zone_of(self.time_zone)).date()

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


def balance(*, store: Store) -> Balance:
    """The store's plan and credits for the current period (the one the next job would open, when the last one
    has run out: its credits are all still there)."""
    account = billing_account_for(store=store)
    period = periods.period_preview(account=account, at=timezone.now())
    totals = period_totals(period=period)
    reports = MeterEventReport.objects.filter(period=period) if period.pk else MeterEventReport.objects.none()
    sums = reports.aggregate(total=Sum("credits"), reported=Sum("credits", filter=Q(status="reported")))
    return Balance(
        account=account,
        period=period,
        time_zone=store.time_zone,
        allowance=period.plan.monthly_credits + totals.granted,
        used=totals.used,
        captured=totals.captured,
        overage_credits=sums["total"] or 0,
        overage_reported=sums["reported"] or 0,
    )


def period_list(*, store: Store, limit: int = 12) -> list[dict]:
    """The store's latest periods, newest first, with their credits: {period, allowance, used, captured,
    overage, overage_reported}. ``overage`` is what the ledger bills beyond the allowance (metered plans)."""
    rows = list(
        CreditPeriod.objects.filter(store=store).select_related("plan").order_by("-starts_at")[:limit]
    )
    entries = (
        LedgerEntry.objects.filter(period__in=rows).values("period_id")
        .annotate(**{kind: Sum("credits", filter=Q(kind=kind)) for kind in LedgerEntry.Kind.values})
    )
    sums = {row["period_id"]: row for row in entries}
    reported = dict(
        MeterEventReport.objects.filter(period__in=rows, status=MeterEventReport.Status.REPORTED)
        .values("period_id").annotate(total=Sum("credits")).values_list("period_id", "total")
    )
    result = []
    for period in rows:
        row = sums.get(period.pk, {})
        allowance = period.plan.monthly_credits + (row.get("adjustment") or 0)
        captured = row.get("capture") or 0
        overage = overage_of_capture(captured_before=0, credits=captured, allowance=allowance)
        result.append({
            "period": period,
            "allowance": allowance,
            "used": (row.get("reserve") or 0) - (row.get("release") or 0),
            "captured": captured,
            "overage": overage if period.plan.metered_overage else 0,
            "overage_reported": reported.get(period.pk, 0),
        })
    return result


def usage_by_day(*, store: Store, days: int = 30) -> list[dict]:
    """Credits used per day and job kind over the last ``days`` days, today included, by the store's time zone
    (the zone its free credits reset in and its dashboard shows): reservations of jobs that were not released,
    i.e. jobs that succeeded or are still running. Rows: {day, kind, jobs, credits}."""
    zone = zone_of(store.time_zone)
    today = timezone.now().astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=zone)
    released = LedgerEntry.objects.filter(store=store, kind=LedgerEntry.Kind.RELEASE).values("job_id")
    rows = (
        LedgerEntry.objects.filter(store=store, kind=LedgerEntry.Kind.RESERVE, created_at__gte=since)
        .exclude(job_id__in=released)
        .annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day", "job__kind")
        .annotate(jobs=Count("id"), credits=Sum("credits"))
        .order_by("day", "job__kind")
    )
    return [{"day": r["day"], "kind": r["job__kind"], "jobs": r["jobs"], "credits": r["credits"]} for r in rows]


def invoice_list(*, store: Store) -> QuerySet[Invoice]:
    return Invoice.objects.filter(store=store)
