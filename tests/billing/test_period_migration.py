"""Migration 0003 moves a ledger keyed by bare dates onto credit periods without changing any balance, and the
reconciliation still finds no difference — also for the old collision of a free 1st and an upgrade that day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from billing.models import CreditPeriod, LedgerEntry
from billing.selectors import balance
from tests.accounts.factories import MembershipFactory
from tests.billing.subscribing import run_job
from tests.generation.factories import queued_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services,
              pytest.mark.clock("2026-12-01T00:30:00+00:00")]
BEFORE = [("billing", "0002_seed_plans_prices_and_append_only_ledger")]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def _legacy_ledger(apps, clock) -> dict:
    """What the old code wrote: store A used Free on Dec 1, upgraded that day (both keyed 2026-12-01, the free
    jobs captured on pro); store B stayed free with a job still running."""
    Plan, Account = apps.get_model("billing", "Plan"), apps.get_model("billing", "BillingAccount")
    Entry, Report = apps.get_model("billing", "LedgerEntry"), apps.get_model("billing", "MeterEventReport")
    free = Plan.objects.get_or_create(code="free", defaults={"name": "Free", "monthly_credits": 20})[0]
    pro = Plan.objects.get_or_create(code="pro", defaults={"name": "Pro", "monthly_credits": 2,
                                                           "metered_overage": True})[0]
    pro.monthly_credits, pro.metered_overage = 2, True
    pro.save()
    a, b = MembershipFactory().store, MembershipFactory().store
    account_a = Account.objects.create(store_id=a.pk, plan=free, stripe_customer_id="cus_test_legacy")
    Account.objects.create(store_id=b.pk, plan=free)
    jobs = {name: queued_job(store) for name, store in (("a1", a), ("a2", a), ("a3", a), ("a4", a), ("b1", b),
                                                        ("b2", b))}

    def entry(when, name, kind, plan, key, store=None):
        clock.move_to(at(when))
        store = store or a
        return Entry.objects.create(store_id=store.pk, job_id=jobs[name].pk if name else None, kind=kind,
                                    credits=1, plan=plan, period_start=key)

    nov, dec = datetime(2026, 11, 1).date(), datetime(2026, 12, 1).date()
    entry("2026-11-10T03:00", "a1", "reserve", free, nov)
    entry("2026-11-10T03:01", "a1", "capture", free, nov)
    entry("2026-11-12T05:00", "b1", "reserve", free, nov, b)
    entry("2026-11-12T05:01", "b1", "release", free, nov, b)
    entry("2026-11-20T08:00", None, "adjustment", free, nov)
    entry("2026-12-01T00:10", "a2", "reserve", free, dec)
    entry("2026-12-01T00:11", "a3", "reserve", free, dec)
    entry("2026-12-01T00:15", "b2", "reserve", free, dec, b)
    clock.move_to(at("2026-12-01T00:20"))
    account_a.plan, account_a.stripe_subscription_id, account_a.subscription_status = pro, "sub_test_legacy", "active"
    account_a.current_period_start, account_a.current_period_end = at("2026-12-01T00:20"), at("2026-12-31T00:20")
    account_a.save()
    entry("2026-12-01T00:25", "a4", "reserve", pro, dec)
    for name in ("a2", "a3", "a4"):  # the old code priced the free jobs' captures on the account's plan, pro:
        entry("2026-12-01T00:26", name, "capture", pro, dec)  # with an allowance of 2, a4 was billed 1 credit
    Report.objects.create(job_id=jobs["a4"].pk, store_id=a.pk, period_start=dec, credits=1, event_name="gasang",
                          identifier=str(jobs["a4"].pk), idempotency_key=f"k-{jobs['a4'].pk}", timestamp=0,
                          status="reported")
    clock.move_to(at("2026-12-01T00:30"))
    return {"a": a, "b": b}


def test_the_migration_keeps_every_balance_and_the_reconciliation(clock, capsys):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    executor = _migrate(BEFORE)
    try:
        stores = _legacy_ledger(executor.loader.project_state(BEFORE).apps, clock)
        _migrate(latest)
        # and back and forth once more, with the data in (the reverse restores the dates)
        old_keys = _migrate(BEFORE).loader.project_state(BEFORE).apps.get_model("billing", "LedgerEntry")
        assert sorted({str(k) for k in old_keys.objects.values_list("period_start", flat=True)}) == [
            "2026-11-01", "2026-12-01"]
    finally:
        _migrate(latest)

    a, b = balance(store=stores["a"]), balance(store=stores["b"])
    assert (a.account.plan.code, a.allowance, a.used, a.remaining) == ("pro", 2, 3, 0)
    assert (b.account.plan.code, b.allowance, b.used, b.remaining) == ("free", 20, 1, 19)
    assert not LedgerEntry.objects.filter(period__isnull=True).exists()
    for store in stores.values():
        periods = list(CreditPeriod.objects.filter(store=store).order_by("starts_at"))
        assert len(periods) == 2 and periods[0].ends_at <= periods[1].starts_at
        assert store.billing_account.credit_period == periods[1]
    call_command("reconcile_usage")
    out = capsys.readouterr().out
    print(out)
    assert out.strip().endswith("0 differences") and "ledger overage 1, reported 1" in out

    clock.shift(timedelta(minutes=5))  # the next job counts in the period the balance showed
    job = run_job(stores["a"].memberships.get())
    assert LedgerEntry.objects.get(job=job, kind="reserve").period == a.period
