"""Comparing the ledger's overage with what was reported to Stripe, per store and credit period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from accounts.time_zones import zone_of
from billing.models import CreditPeriod, LedgerEntry, MeterEventReport
from billing.services import overage_of_capture


@dataclass(frozen=True)
class PeriodReconciliation:
    store_id: int
    period_id: int
    starts_at: datetime  # in the store's time zone
    ends_at: datetime
    plan: str
    captured: int
    allowance: int  # the plan's credits plus every grant of the period
    ledger_overage: int  # what the ledger says should be billed
    recorded: int  # MeterEventReport rows written
    reported: int  # of which Stripe accepted

    @property
    def difference(self) -> int:
        return self.ledger_overage - self.reported

    @property
    def label(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M} {self.starts_at:%Z} ({self.plan})"


def reconcile(*, store_id: int | None = None) -> list[PeriodReconciliation]:
    """One row per credit period that has captures or reports. The overage is recomputed from the capture and
    grant entries in the order they were written, with the plan each capture was priced on (its period's plan)
    and the credits granted until then, exactly as ``credits_capture`` did; the reported side is the sum of
    reports Stripe accepted."""
    kinds = [LedgerEntry.Kind.CAPTURE, LedgerEntry.Kind.ADJUSTMENT]
    entries = LedgerEntry.objects.filter(kind__in=kinds).select_related("plan").order_by("id")
    reports = MeterEventReport.objects.all()
    if store_id is not None:
        entries, reports = entries.filter(store_id=store_id), reports.filter(store_id=store_id)
    granted: dict[int, int] = defaultdict(int)
    totals: dict[int, dict[str, int]] = defaultdict(
        lambda: {"captured": 0, "allowance": 0, "overage": 0, "recorded": 0, "reported": 0}
    )
    for entry in entries:
        if entry.kind == LedgerEntry.Kind.ADJUSTMENT:
            granted[entry.period_id] += entry.credits
            continue
        row = totals[entry.period_id]
        allowance = entry.plan.monthly_credits + granted[entry.period_id]
        if entry.plan.metered_overage:
            row["overage"] += overage_of_capture(
                captured_before=row["captured"], credits=entry.credits, allowance=allowance
            )
        row["captured"] += entry.credits
        row["allowance"] = entry.plan.monthly_credits  # the grants are added below, all of them
    for report in reports.values("period_id", "credits", "status"):
        row = totals[report["period_id"]]
        row["recorded"] += report["credits"]
        if report["status"] == MeterEventReport.Status.REPORTED:
            row["reported"] += report["credits"]
    found = CreditPeriod.objects.filter(pk__in=totals).select_related("plan", "store")
    result = []
    for period in sorted(found, key=lambda p: (p.store_id, p.starts_at)):
        row, zone = totals[period.pk], zone_of(period.store.time_zone)
        result.append(PeriodReconciliation(
            store_id=period.store_id,
            period_id=period.pk,
            starts_at=period.starts_at.astimezone(zone),
            ends_at=period.ends_at.astimezone(zone),
            plan=period.plan.code,
            captured=row["captured"],
            allowance=row["allowance"] + granted[period.pk],
            ledger_overage=row["overage"],
            recorded=row["recorded"],
            reported=row["reported"],
        ))
    return result
