"""The issue's "done when", as one story: a free store runs out, upgrades through Checkout, its overage is
metered once per job, a failed job costs nothing, and the reconciliation finds no difference."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from billing import tasks
from billing.models import MeterEventReport
from billing.services import TASK_REPORT_METER_EVENT, billing_account_for
from core.models import OutboxMessage
from generation.models import Job
from tests.accounts.factories import MembershipFactory
from tests.billing.conftest import PRO_OVERAGE_PRICE, PRO_PRICE, WEBHOOK_SECRET
from tests.billing.factories import plan_with, restore_body, worker_event
from tests.billing.fake_stripe import new_id, subscription_object
from tests.billing.webhooks import post_event, stripe_event

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_free_store_runs_out_upgrades_and_pays_only_for_overage(client, fake_stripe, paid_plans, capsys):
    owner = MembershipFactory()
    client.force_login(owner.user)
    plan_with("free", 2, watermark=True)
    paid_plans["pro"].monthly_credits = 2
    paid_plans["pro"].save()

    def new_job():
        return client.post("/api/v1/jobs/", restore_body(owner.store), content_type=JSON)

    # 1. free: two jobs, then 402
    free_jobs = [new_job().json()["id"] for _ in range(2)]
    refused = new_job()
    assert refused.status_code == 402 and refused.json()["code"] == "quota_exceeded"

    # 2. upgrade through Checkout; Stripe calls the webhook when the owner has paid
    assert client.post("/api/v1/billing/checkout/", {"plan": "pro"}, content_type=JSON).status_code == 200
    customer = billing_account_for(store=owner.store).stripe_customer_id
    sub_id = new_id("sub")
    fake_stripe.subscriptions[sub_id] = subscription_object(
        sub_id=sub_id, customer=customer, prices=[PRO_PRICE, PRO_OVERAGE_PRICE], store_id=owner.store.pk
    )
    session = {"id": new_id("cs"), "object": "checkout.session", "mode": "subscription", "customer": customer,
               "subscription": sub_id, "client_reference_id": str(owner.store.pk)}
    assert post_event(client, stripe_event("checkout.session.completed", session), WEBHOOK_SECRET).status_code == 200
    assert billing_account_for(store=owner.store).plan.code == "pro"

    # 3. pro: 2 credits included, then metered; one job fails
    pro_jobs = [new_job() for _ in range(5)]
    assert [r.status_code for r in pro_jobs] == [201] * 5
    jobs = [Job.objects.get(pk=r.json()["id"]) for r in pro_jobs]
    worker_event(jobs[2], "failed", error={"code": "no_face"})
    for job in [jobs[0], jobs[1], jobs[3], jobs[4]]:
        worker_event(job, "succeeded", outputs={"image": "k"})
    for job_id in free_jobs:  # the free period's jobs finish too; they never count as overage
        worker_event(Job.objects.get(pk=job_id), "succeeded", outputs={"image": "k"})

    # 4. the overage jobs (4th and 5th) are reported once each, however often the task runs
    for message in OutboxMessage.objects.filter(task=TASK_REPORT_METER_EVENT):
        tasks.report_meter_event(message.payload)
        tasks.report_meter_event(message.payload)
    sent = fake_stripe.calls("POST", "/v1/billing/meter_events")
    assert sorted(r.form["identifier"] for r in sent) == sorted(str(j.pk) for j in jobs[3:])
    assert all(r.form["payload[stripe_customer_id]"] == customer for r in sent)
    assert not MeterEventReport.objects.filter(job=jobs[2]).exists()

    # 5. the ledger and Stripe agree
    call_command("reconcile_usage")
    out = capsys.readouterr().out
    print(out)
    assert out.strip().endswith("0 differences")
