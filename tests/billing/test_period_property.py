"""Property: over random lives of a store (seeded), the credits metered to Stripe are exactly the credits beyond
each period's allowance, every job counts in the period the model says, and no two periods overlap.

``BILLING_PROPERTY_SEQUENCES`` (default 60) sets how many lives; ``BILLING_PROPERTY_SEED`` the first seed. Each
life is 40 steps over several months (plan changes, jobs, shuffled and late webhooks), see period_model.py.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from billing.models import CreditPeriod, LedgerEntry, MeterEventReport
from billing.reconcile import reconcile
from tests.billing.factories import plan_with
from tests.billing.period_model import ALLOWANCE, Life

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.clock("2026-06-01T00:00:00+00:00")]
SEQUENCES = int(os.environ.get("BILLING_PROPERTY_SEQUENCES", "60"))
FIRST_SEED = int(os.environ.get("BILLING_PROPERTY_SEED", "1300"))
STEPS = 40
EARLIEST, LATEST = datetime(2026, 10, 1, tzinfo=UTC), datetime(2028, 3, 15, tzinfo=UTC)


@pytest.fixture
def allowances(paid_plans):
    plan_with("free", ALLOWANCE["free"], watermark=True)
    for code in ("pro", "business"):
        paid_plans[code].monthly_credits = ALLOWANCE[code]
        paid_plans[code].save()


def _start(rng: random.Random) -> datetime:
    """Somewhere between Oct 2026 and Mar 2028 (a leap February included), often just before a month ends."""
    day = EARLIEST + timedelta(days=rng.randint(0, (LATEST - EARLIEST).days))
    if rng.random() < 0.5:  # the last hours of a month in UTC or Seoul
        following = datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC)
        return following - timedelta(hours=rng.choice([1, 9, 10, 15]), minutes=rng.randint(0, 59))
    return day + timedelta(seconds=rng.randint(0, 86399))


def _check(life: Life) -> tuple[int, int]:
    store = life.member.store
    periods = list(CreditPeriod.objects.filter(store=store).select_related("plan").order_by("starts_at"))
    for earlier, later in zip(periods, periods[1:], strict=False):
        assert earlier.ends_at <= later.starts_at, f"overlap: {earlier} / {later}"
    assert not any(p.provisional for p in periods), "Stripe told everything, yet a period is still provisional"
    for entry in LedgerEntry.objects.filter(store=store, kind__in=["reserve", "adjustment"]).select_related("period"):
        assert entry.period.starts_at <= entry.created_at < entry.period.ends_at, f"{entry} outside its period"

    by_period: dict[int, set] = {}
    for job_id, period_id, plan in LedgerEntry.objects.filter(store=store, kind="reserve").values_list(
            "job_id", "period_id", "period__plan__code"):
        by_period.setdefault(period_id, set()).add(job_id)
        assert plan == life.job_key[job_id][-1], f"job {job_id} counted on {plan}; model: {life.job_key[job_id]}"
    model_groups = sorted(sorted(map(str, p.jobs)) for p in life.periods.values() if p.jobs)
    assert sorted(sorted(map(str, jobs)) for jobs in by_period.values()) == model_groups

    metered = Counter()
    for period_id, credits in MeterEventReport.objects.filter(store=store).values_list("period_id", "credits"):
        metered[period_id] += credits
    expected = sorted(p.beyond for p in life.periods.values() if p.jobs)
    actual = sorted(metered.get(pid, 0) for pid in by_period)
    assert actual == expected, f"metered per period {actual}, beyond the allowances {expected}"
    assert all(row.ledger_overage == row.recorded for row in reconcile(store_id=store.pk))
    return sum(metered.values()), sum(expected)


def test_metered_credits_are_exactly_the_credits_beyond_each_periods_allowance(client, fake_stripe, allowances,
                                                                               clock):
    totals = Counter()
    for n in range(SEQUENCES):
        rng = random.Random(FIRST_SEED + n)
        life = Life(client=client, fake_stripe=fake_stripe, clock=clock, rng=rng, start=_start(rng))
        for _ in range(STEPS):
            life.step()
        life.settle()
        metered, expected = _check(life)
        totals.update(life.counts)
        totals.update({"metered": metered, "expected": expected, "periods": len(life.periods)})
    print(f"\nproperty: {SEQUENCES} sequences (seeds {FIRST_SEED}..{FIRST_SEED + SEQUENCES - 1}), "
          f"{totals['jobs']} jobs ({totals['refused']} refused by a free allowance), {totals['webhooks']} webhooks, "
          f"{totals['plan changes']} plan changes, {totals['renewals']} renewals, {totals['endings']} cancellations "
          f"at period end, {totals['jobs before the news']} jobs made while a webhook was still on its way, "
          f"{totals['periods']} periods; "
          f"metered {totals['metered']} credits, beyond the allowances {totals['expected']}")
    assert totals["metered"] == totals["expected"] and totals["jobs"] > SEQUENCES * 5
