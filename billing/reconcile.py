"""Comparing the ledger's overage with what was reported to Stripe, per store and period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from billing.models import LedgerEntry, MeterEventReport
from billing.services import overage_of_capture


@dataclass(frozen=True)
class PeriodReconciliation:
    store_id: int
    period_start: date
    captured: int
    allowance: int
    ledger_overage: int  # what the ledger says should be billed
    recorded: int  # MeterEventReport rows written
    reported: int  # of which Stripe accepted

    @property
    def difference(self) -> int:
        return self.ledger_overage - self.reported


def reconcile(*, store_id: int | None = None) -> list[PeriodReconciliation]:
    """One row per store and period that has captures or reports. The overage is recomputed from the capture
    entries in the order they were written, with the plan each capture was priced on, exactly as
    ``credits_capture`` did; the reported side is the sum of reports Stripe accepted."""
    captures = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CAPTURE).select_related("plan").order_by("id")
    grants = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.ADJUSTMENT)
    reports = MeterEventReport.objects.all()
    if store_id is not None:
        captures, grants, reports = (q.filter(store_id=store_id) for q in (captures, grants, reports))
    granted = {
        (r["store_id"], r["period_start"]): r["total"]
        for r in grants.values("store_id", "period_start").annotate(total=Sum("credits"))
    }
    totals: dict[tuple[int, date], dict[str, int]] = defaultdict(
        lambda: {"captured": 0, "allowance": 0, "overage": 0, "recorded": 0, "reported": 0}
    )
    for entry in captures:
        key = (entry.store_id, entry.period_start)
        row = totals[key]
        allowance = entry.plan.monthly_credits + granted.get(key, 0)
        if entry.plan.metered_overage:
            row["overage"] += overage_of_capture(
                captured_before=row["captured"], credits=entry.credits, allowance=allowance
            )
        row["captured"] += entry.credits
        row["allowance"] = allowance
    for report in reports.values("store_id", "period_start", "credits", "status"):
        row = totals[(report["store_id"], report["period_start"])]
        row["recorded"] += report["credits"]
        if report["status"] == MeterEventReport.Status.REPORTED:
            row["reported"] += report["credits"]
    return [
        PeriodReconciliation(
            store_id=store,
            period_start=period,
            captured=row["captured"],
            allowance=row["allowance"],
            ledger_overage=row["overage"],
            recorded=row["recorded"],
            reported=row["reported"],
        )
        for (store, period), row in sorted(totals.items())
    ]
