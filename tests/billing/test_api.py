"""Store members see their plan, credits and usage; owners see invoices."""

from __future__ import annotations

import pytest

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, token_for
from tests.billing.factories import invoice_for, plan_with, put_on_plan, restore_body, worker_event

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def owner(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


def test_balance_shows_plan_allowance_used_and_remaining(client, owner):
    put_on_plan(owner.store, plan_with("free", 10, watermark=True))
    for _ in range(3):
        client.post("/api/v1/jobs/", restore_body(owner.store), content_type=JSON)

    body = client.get("/api/v1/billing/").json()

    assert body["store"] == owner.store.pk
    assert (body["plan"], body["allowance"], body["used"], body["remaining"]) == ("free", 10, 3, 7)
    assert body["past_due"] is False and body["watermark"] is True and body["period_start"].endswith("-01")


def test_usage_per_day_and_kind_leaves_out_failed_jobs(client, owner):
    from generation.models import Job

    ids = [client.post("/api/v1/jobs/", restore_body(owner.store), content_type=JSON).json()["id"]
           for _ in range(3)]
    worker_event(Job.objects.get(pk=ids[0]), "failed", error={"code": "x"})
    worker_event(Job.objects.get(pk=ids[1]), "succeeded", outputs={"image": "k"})

    body = client.get("/api/v1/billing/usage/?days=7").json()

    assert body["total_credits"] == 2
    assert [(row["kind"], row["jobs"], row["credits"]) for row in body["results"]] == [("restore", 2, 2)]
    assert client.get("/api/v1/billing/usage/?days=0").status_code == 400


def test_invoices_are_for_owners_only(client, owner):
    invoice = invoice_for(owner.store)
    invoice_for(MembershipFactory().store)
    viewer = MembershipFactory(store=owner.store, role=Role.VIEWER)

    listed = client.get("/api/v1/billing/invoices/").json()["results"]
    client.force_login(viewer.user)
    refused = client.get("/api/v1/billing/invoices/")
    client.logout()
    with_token = client.get("/api/v1/billing/", HTTP_AUTHORIZATION=f"Bearer {token_for(owner, scopes=('read',))}")

    assert [row["stripe_invoice_id"] for row in listed] == [invoice.stripe_invoice_id]
    assert refused.status_code == 403
    assert with_token.status_code == 200  # integrations may read their credits
