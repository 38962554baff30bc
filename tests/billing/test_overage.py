"""A paid store's jobs beyond its allowance are billed as Stripe meter events: one per job, reported once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from billing import metering, tasks
from billing.models import LedgerEntry, MeterEventReport
from billing.selectors import balance
from billing.services import TASK_REPORT_METER_EVENT, billing_account_for
from core.models import OutboxMessage
from generation.services import job_create
from tests.accounts.factories import MembershipFactory
from tests.billing.factories import plan_with, put_on_plan, worker_event
from tests.generation.factories import public_face, shot_for

pytestmark = pytest.mark.django_db
METER_PATH = "/v1/billing/meter_events"


@pytest.fixture
def pro_store(fake_stripe, paid_plans):
    member = MembershipFactory()
    put_on_plan(member.store, plan_with("pro", 2, metered=True), stripe_customer_id="cus_test_overage",
                subscription_status="active")
    return member


def run_job(member, kind="restore", outcome="succeeded"):
    inputs = {"product_shot": shot_for(member.store).pk}
    if kind == "pipeline":
        inputs["face"] = public_face().pk
    job = job_create(store=member.store, kind=kind, inputs=inputs, created_by=member.user).job
    if outcome == "succeeded":
        worker_event(job, "succeeded", outputs={"image": "k"})
    else:
        worker_event(job, "failed", error={"code": "no_face"})
    return job


def reconcile_output(capsys) -> str:
    call_command("reconcile_usage")
    return capsys.readouterr().out


def test_overage_jobs_produce_one_meter_event_each_reported_once(pro_store, fake_stripe, capsys):
    within = [run_job(pro_store), run_job(pro_store)]  # the allowance: 2 credits
    failed = run_job(pro_store, outcome="failed")  # costs nothing, billed nothing
    beyond = [run_job(pro_store), run_job(pro_store)]

    reports = list(MeterEventReport.objects.order_by("id"))
    assert [r.job_id for r in reports] == [job.pk for job in beyond]
    messages = OutboxMessage.objects.filter(task=TASK_REPORT_METER_EVENT)
    assert [m.payload["meter_report_id"] for m in messages] == [r.pk for r in reports]

    for message in messages:  # the task runs twice per report (a redelivery), and the sweeper once more
        assert tasks.report_meter_event(message.payload) is True
        assert tasks.report_meter_event(message.payload) is None
    assert metering.meter_reports_send_pending(older_than=timedelta(0)) == 0

    sent = fake_stripe.calls("POST", METER_PATH)
    assert len(sent) == 2
    for request, job in zip(sent, beyond, strict=True):
        assert request.form["identifier"] == str(job.pk)
        assert request.form["event_name"] == "gasang_credits"
        assert request.form["payload[value]"] == "1"
        assert request.form["payload[stripe_customer_id]"] == "cus_test_overage"
        assert request.headers["idempotency-key"] == f"gasang-meter-{job.pk}"
    assert MeterEventReport.objects.filter(status="reported").count() == 2
    assert not MeterEventReport.objects.filter(job__in=[*within, failed]).exists()
    assert LedgerEntry.objects.filter(job=failed, kind="release").exists()

    out = reconcile_output(capsys)
    assert "ledger overage 2, reported 2" in out and out.strip().endswith("0 differences")

    now = balance(store=pro_store.store)
    assert (now.used, now.overage_credits, now.overage_reported) == (4, 2, 2)


def test_a_job_crossing_the_allowance_is_billed_only_for_the_part_beyond_it(pro_store, fake_stripe):
    run_job(pro_store)  # 1 of 2 credits
    crossing = run_job(pro_store, kind="pipeline")  # 2 credits: 1 within, 1 beyond

    report = MeterEventReport.objects.get()
    assert report.job_id == crossing.pk and report.credits == 1


def test_stripe_down_keeps_the_report_pending_and_the_sweeper_sends_it_once(pro_store, fake_stripe, capsys, clock):
    run_job(pro_store)
    run_job(pro_store)
    fake_stripe.fail_paths.add(METER_PATH)
    job = run_job(pro_store)
    report = MeterEventReport.objects.get(job=job)

    assert metering.meter_report_send(report_id=report.pk) is False
    report.refresh_from_db()
    assert (report.status, report.attempts) == ("pending", 1) and "StripeUnavailable" in report.last_error
    with pytest.raises(CommandError):
        reconcile_output(capsys)
    assert "DIFFERENCE +1" in capsys.readouterr().out

    fake_stripe.fail_paths.clear()
    assert tasks.report_pending_meter_events.run() == 0  # too fresh for the sweeper: its own task may still run
    clock.shift(1)
    assert metering.meter_reports_send_pending(older_than=timedelta(0)) == 1
    assert metering.meter_reports_send_pending(older_than=timedelta(0)) == 0

    succeeded = [r for r in fake_stripe.calls("POST", METER_PATH) if r.form["identifier"] == str(job.pk)]
    assert len(succeeded) == 2  # the failed attempt and the one that went through
    assert {r.headers["idempotency-key"] for r in succeeded} == {f"gasang-meter-{job.pk}"}
    assert reconcile_output(capsys).strip().endswith("0 differences")


def test_free_plan_never_produces_meter_events(fake_stripe):
    member = MembershipFactory()
    billing_account_for(store=member.store)
    run_job(member)

    assert not MeterEventReport.objects.exists()
