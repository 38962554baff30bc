"""Credit periods at their edges: an upgrade on the 1st, a downgrade mid-period, a renewal webhook two hours late,
a cancellation at period end, and two stores in different time zones. Every test runs on a stopped clock
(tests/billing/conftest.py) and moves it as the story goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from billing.errors import QuotaExceeded
from billing.models import CreditPeriod, MeterEventReport
from billing.selectors import balance
from billing.services import billing_account_for
from tests.accounts.factories import MembershipFactory
from tests.billing import subscribing as stripe
from tests.billing.factories import plan_with

pytestmark = pytest.mark.django_db
SEOUL = ZoneInfo("Asia/Seoul")


def month_of(at: datetime, zone=SEOUL) -> tuple[datetime, datetime]:
    local = at.astimezone(zone)
    start = datetime(local.year, local.month, 1, tzinfo=zone)
    following = datetime(local.year + (local.month == 12), local.month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), following.astimezone(UTC)


def utc(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def now() -> datetime:
    from django.utils import timezone

    return timezone.now()


@pytest.fixture
def allowances(paid_plans):
    """Small allowances so a few jobs cross them: free 2, pro 2, business 3."""
    plan_with("free", 2, watermark=True)
    for code, credits in (("pro", 2), ("business", 3)):
        paid_plans[code].monthly_credits = credits
        paid_plans[code].save()
    return paid_plans


def no_differences(capsys) -> bool:
    stripe.send_reports()
    capsys.readouterr()
    call_command("reconcile_usage")
    return capsys.readouterr().out.strip().endswith("0 differences")


@pytest.mark.clock("2026-12-01T00:30:00+00:00", "2026-11-30T15:30:00+00:00", "2028-02-29T15:00:30+00:00")
def test_an_upgrade_on_the_1st_never_bills_the_free_usage_of_that_day(client, fake_stripe, allowances, clock,
                                                                        capsys):
    member = MembershipFactory()  # a Seoul store; at each instant it is the 1st there
    free_jobs = [stripe.run_job(member, outcome=None) for _ in range(2)]  # still running when it upgrades
    with pytest.raises(QuotaExceeded):
        stripe.run_job(member)

    clock.shift(120)
    sub_id = stripe.subscribe(fake_stripe, member.store, "pro")  # Stripe starts it now
    upgraded_at = utc(stripe.period_of(fake_stripe, sub_id)[0])
    clock.shift(3)
    assert stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.created").startswith("applied")
    for job in free_jobs:
        stripe.finish(job)  # captured after the upgrade, still in the free period
    pro_jobs = [stripe.run_job(member) for _ in range(3)]  # 2 within the pro allowance, 1 beyond

    assert [r.job_id for r in MeterEventReport.objects.all()] == [pro_jobs[2].pk]
    month_start, _ = month_of(free_jobs[0].created_at)
    assert stripe.periods_of(member.store) == [
        ("free", month_start, upgraded_at),
        ("pro", upgraded_at, upgraded_at + timedelta(days=30)),
    ]
    now_balance = balance(store=member.store)
    assert (now_balance.period_starts_at, now_balance.used, now_balance.allowance) == (upgraded_at, 3, 2)
    assert no_differences(capsys)


def test_a_downgrade_mid_period_closes_the_period_at_the_change(client, fake_stripe, allowances, clock):
    member = MembershipFactory()
    sub_id = stripe.subscribe(fake_stripe, member.store, "business")
    start, end = map(utc, stripe.period_of(fake_stripe, sub_id))
    stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.created")
    clock.shift(timedelta(days=3))
    business_jobs = [stripe.run_job(member) for _ in range(4)]  # allowance 3: one credit beyond
    running = stripe.run_job(member, outcome=None)  # the 5th business credit, finishes after the downgrade

    clock.shift(timedelta(days=7))
    stripe.change_plan(fake_stripe, sub_id, "pro")
    changed_at = now()
    stripe.deliver(client, fake_stripe, sub_id)
    pro_jobs = [stripe.run_job(member) for _ in range(3)]  # a fresh pro allowance of 2: one beyond
    stripe.finish(running)

    assert stripe.periods_of(member.store) == [("business", start, changed_at), ("pro", changed_at, end)]
    reports = {r.job_id: r.credits for r in MeterEventReport.objects.all()}
    assert reports == {business_jobs[3].pk: 1, running.pk: 1, pro_jobs[2].pk: 1}
    assert stripe.reserve_period(running).plan.code == "business"


@pytest.mark.parametrize("webhook_delay_hours", [0, 2])
def test_a_renewal_webhook_two_hours_late_puts_the_jobs_in_between_into_the_new_period(
    client, fake_stripe, allowances, clock, webhook_delay_hours, capsys
):
    member = MembershipFactory()
    sub_id = stripe.subscribe(fake_stripe, member.store, "pro")
    start, renewal = map(utc, stripe.period_of(fake_stripe, sub_id))
    stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.created")
    clock.move_to(renewal - timedelta(hours=1))
    [stripe.run_job(member) for _ in range(3)]  # allowance 2: one credit metered

    clock.move_to(renewal)
    stripe.renew(fake_stripe, sub_id)  # Stripe renews exactly at the old period's end
    if not webhook_delay_hours:
        stripe.deliver(client, fake_stripe, sub_id)
    clock.move_to(renewal + timedelta(hours=1))
    in_between = [stripe.run_job(member) for _ in range(3)]
    assert balance(store=member.store).period.provisional is bool(webhook_delay_hours)
    clock.move_to(renewal + timedelta(hours=webhook_delay_hours))
    if webhook_delay_hours:
        stripe.deliver(client, fake_stripe, sub_id)
    clock.move_to(renewal + timedelta(hours=3))
    after = [stripe.run_job(member) for _ in range(2)]

    new_end = renewal + timedelta(days=30)
    assert stripe.periods_of(member.store) == [("pro", start, renewal), ("pro", renewal, new_end)]
    assert {stripe.reserve_period(job).ends_at for job in in_between + after} == {new_end}
    assert not CreditPeriod.objects.filter(provisional=True).exists()
    assert stripe.metered(member.store) == 1 + 1 + 2  # old period: 3 - 2; new period: 5 - 2
    now_balance = balance(store=member.store)
    assert (now_balance.used, now_balance.overage_credits) == (5, 3)
    assert no_differences(capsys)


@pytest.mark.parametrize("webhook_delay_hours", [0, 2])
def test_a_cancellation_at_period_end_returns_the_store_to_free_credits_at_that_instant(
    client, fake_stripe, allowances, clock, webhook_delay_hours
):
    member = MembershipFactory()
    sub_id = stripe.subscribe(fake_stripe, member.store, "pro")
    start, period_end = map(utc, stripe.period_of(fake_stripe, sub_id))
    stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.created")
    clock.shift(timedelta(days=20))
    stripe.cancel_at_period_end(fake_stripe, sub_id)  # the owner cancels in the portal
    stripe.deliver(client, fake_stripe, sub_id)
    clock.move_to(period_end - timedelta(hours=1))
    [stripe.run_job(member) for _ in range(3)]  # pro until the end: one credit metered

    clock.move_to(period_end)
    stripe.end(fake_stripe, sub_id)
    if not webhook_delay_hours:
        stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.deleted")
    clock.move_to(period_end + timedelta(hours=1))
    free_jobs = [stripe.run_job(member) for _ in range(2)]
    with pytest.raises(QuotaExceeded):
        stripe.run_job(member)
    clock.move_to(period_end + timedelta(hours=webhook_delay_hours))
    if webhook_delay_hours:
        stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.deleted")

    _, month_end = month_of(period_end)
    assert stripe.periods_of(member.store) == [("pro", start, period_end), ("free", period_end, month_end)]
    assert {stripe.reserve_period(job).plan.code for job in free_jobs} == {"free"}
    assert stripe.metered(member.store) == 1
    assert billing_account_for(store=member.store).plan.code == "free"
    assert (balance(store=member.store).used, balance(store=member.store).allowance) == (2, 2)


@pytest.mark.clock("2026-11-30T14:30:00+00:00")
def test_two_stores_in_different_time_zones_get_their_free_credits_back_at_their_own_midnight(clock):
    plan_with("free", 2, watermark=True)
    seoul, london = MembershipFactory(), MembershipFactory(store__time_zone="Europe/London")
    for member in (seoul, london):
        [stripe.run_job(member) for _ in range(2)]
        with pytest.raises(QuotaExceeded):
            stripe.run_job(member)

    clock.move_to(datetime(2026, 11, 30, 15, 30, tzinfo=UTC))  # 00:30 on Dec 1 in Seoul, 15:30 on Nov 30 in London
    stripe.run_job(seoul)
    with pytest.raises(QuotaExceeded):
        stripe.run_job(london)
    days = {m.store.time_zone: balance(store=m.store).period_start.isoformat() for m in (seoul, london)}

    clock.move_to(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))
    stripe.run_job(london)

    assert days == {"Asia/Seoul": "2026-12-01", "Europe/London": "2026-11-01"}
    nov, dec = month_of(datetime(2026, 11, 15, tzinfo=UTC)), month_of(datetime(2026, 12, 15, tzinfo=UTC))
    london_zone = ZoneInfo("Europe/London")
    assert stripe.periods_of(seoul.store) == [("free", *nov), ("free", *dec)]
    assert stripe.periods_of(london.store) == [
        ("free", *month_of(datetime(2026, 11, 15, tzinfo=UTC), london_zone)),
        ("free", *month_of(datetime(2026, 12, 15, tzinfo=UTC), london_zone)),
    ]


def test_a_job_reserved_before_the_upgrade_webhook_stays_in_the_free_period(client, fake_stripe, allowances, clock):
    """Stripe starts the subscription, and the webhook comes a minute later: a job created in that minute was
    priced and quota-checked as Free, so it counts there, and the new allowance is untouched."""
    member = MembershipFactory()
    sub_id = stripe.subscribe(fake_stripe, member.store, "pro")
    clock.shift(30)
    early = stripe.run_job(member)
    clock.shift(30)
    stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.created")
    [stripe.run_job(member) for _ in range(2)]

    assert stripe.reserve_period(early).plan.code == "free"
    (free_plan, _, free_end), (pro_plan, pro_start, _) = stripe.periods_of(member.store)
    assert free_end == pro_start > early.created_at and stripe.metered(member.store) == 0


def test_overlapping_periods_are_impossible_in_the_database(clock):
    if connection.vendor != "postgresql":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite relies on the unique start and the lock")
    member = MembershipFactory()
    period = stripe.reserve_period(stripe.run_job(member))

    with pytest.raises(IntegrityError), transaction.atomic():
        CreditPeriod.objects.create(store=member.store, plan=period.plan, source="calendar",
                                    starts_at=period.starts_at + timedelta(days=1), ends_at=period.ends_at)


def test_an_ending_stripe_could_not_announce_heard_days_late_stops_the_continued_period_there(
    client, fake_stripe, allowances, clock
):
    """Unpaid for weeks, Stripe ends the subscription at its period end, and our endpoint hears of it three days
    later. The jobs made meanwhile counted in the period that continued the subscription; from the webhook on
    the store is on its free credits."""
    member = MembershipFactory()
    sub_id = stripe.subscribe(fake_stripe, member.store, "pro")
    stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.created")
    _, period_end = map(utc, stripe.period_of(fake_stripe, sub_id))
    clock.move_to(period_end)
    stripe.end(fake_stripe, sub_id)
    clock.shift(timedelta(days=1))
    meanwhile = [stripe.run_job(member) for _ in range(3)]  # continued pro: 2 included, 1 metered
    clock.shift(timedelta(days=2))
    stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.deleted")
    free_jobs = [stripe.run_job(member) for _ in range(2)]
    with pytest.raises(QuotaExceeded):
        stripe.run_job(member)

    continued = stripe.reserve_period(meanwhile[0])
    assert (continued.plan.code, continued.starts_at, continued.provisional) == ("pro", period_end, False)
    assert continued.ends_at == meanwhile[-1].created_at + timedelta(microseconds=1)  # closed after its last job
    following = stripe.periods_of(member.store)[2]  # free from there (to the end of that month in Seoul)
    assert following[:2] == ("free", continued.ends_at)
    assert {stripe.reserve_period(job).plan.code for job in free_jobs} == {"free"}
    assert stripe.metered(member.store) == 1 and not CreditPeriod.objects.filter(provisional=True).exists()
