"""Stripe's webhooks: only signed ones are heard, each event has one effect, and any order ends the same."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import BillingAccount, Invoice, StripeEvent
from billing.services import billing_account_for
from generation.models import Job
from tests.accounts.factories import MembershipFactory, token_for
from tests.billing.conftest import PRO_OVERAGE_PRICE, PRO_PRICE, WEBHOOK_SECRET
from tests.billing.factories import restore_body
from tests.billing.fake_stripe import invoice_object, new_id, subscription_object
from tests.billing.webhooks import post_event, signature_header, stripe_event

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def subscribed(fake_stripe, paid_plans):
    """A store with a Stripe customer and an active pro subscription held by the fake Stripe."""
    store = MembershipFactory().store
    account = billing_account_for(store=store)
    account.stripe_customer_id = new_id("cus")
    account.save()
    sub_id = new_id("sub")
    fake_stripe.subscriptions[sub_id] = subscription_object(
        sub_id=sub_id, customer=account.stripe_customer_id, prices=[PRO_PRICE, PRO_OVERAGE_PRICE], store_id=store.pk
    )
    return store, account.stripe_customer_id, sub_id


def sub_event(fake_stripe, sub_id, event_type, status, created):
    """An event carrying a snapshot of the subscription in ``status`` (what Stripe sent at the time)."""
    snapshot = json.loads(json.dumps(fake_stripe.subscriptions[sub_id]))
    snapshot["status"] = status
    return stripe_event(event_type, snapshot, created=created)


@pytest.mark.parametrize("case", ["missing", "tampered", "too old", "wrong secret"])
def test_unsigned_tampered_or_stale_webhooks_get_400_and_write_nothing(client, subscribed, fake_stripe, case):
    store, customer, sub_id = subscribed
    event = stripe_event("customer.subscription.updated", fake_stripe.subscriptions[sub_id])
    payload = json.dumps(event)
    if case == "missing":
        response = post_event(client, event, WEBHOOK_SECRET, header="")
    elif case == "tampered":
        header = signature_header(payload, WEBHOOK_SECRET)
        tampered = payload.replace('"active"', '"canceled"')
        response = client.post("/billing/stripe/webhook/", data=tampered, content_type=JSON,
                               HTTP_STRIPE_SIGNATURE=header)
    elif case == "too old":
        response = post_event(client, event, WEBHOOK_SECRET, timestamp=int(time.time()) - 301)
    else:
        response = post_event(client, event, "whsec_someone_else")

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert billing_account_for(store=store).plan.code == "free"
    assert not fake_stripe.requests  # not even a refetch


def test_only_post_is_accepted(client):
    assert client.get("/billing/stripe/webhook/").status_code == 405


def test_the_same_event_ten_times_has_one_effect(client, subscribed, fake_stripe):
    store, customer, sub_id = subscribed
    event = stripe_event("customer.subscription.created", fake_stripe.subscriptions[sub_id])

    answers = [post_event(client, event, WEBHOOK_SECRET).json()["outcome"] for _ in range(10)]

    assert answers[0].startswith("applied") and answers[1:] == ["duplicate"] * 9
    assert StripeEvent.objects.filter(event_id=event["id"]).count() == 1
    assert len(fake_stripe.calls("GET", f"/v1/subscriptions/{sub_id}")) == 1
    assert billing_account_for(store=store).plan.code == "pro"


def _state(store):
    account = BillingAccount.objects.select_related("plan").get(store=store)
    return (account.plan.code, account.subscription_status, account.stripe_subscription_id,
            account.past_due_since is not None, account.current_period_start, account.current_period_end)


def test_shuffled_subscription_events_end_in_the_same_state_as_ordered(client, fake_stripe, paid_plans):
    """Stripe does not guarantee order. Each event is applied by refetching the subscription, so any order
    converges on Stripe's current state (here: past_due → paid again → canceled at the end)."""
    final_states = []
    for order in ("ordered", "shuffled", "reversed"):
        store = MembershipFactory().store
        account = billing_account_for(store=store)
        account.stripe_customer_id = new_id("cus")
        account.save()
        sub_id = new_id("sub")
        fake_stripe.subscriptions[sub_id] = subscription_object(
            sub_id=sub_id, customer=account.stripe_customer_id, prices=[PRO_PRICE, PRO_OVERAGE_PRICE]
        )
        now = int(time.time())
        events = [
            sub_event(fake_stripe, sub_id, "customer.subscription.created", "active", now - 40),
            sub_event(fake_stripe, sub_id, "customer.subscription.updated", "past_due", now - 30),
            sub_event(fake_stripe, sub_id, "customer.subscription.updated", "active", now - 20),
            sub_event(fake_stripe, sub_id, "customer.subscription.deleted", "canceled", now - 10),
        ]
        fake_stripe.subscriptions[sub_id]["status"] = "canceled"  # what Stripe holds after the last event
        if order == "shuffled":
            random.Random(6).shuffle(events)
        elif order == "reversed":
            events.reverse()
        for event in events:
            assert post_event(client, event, WEBHOOK_SECRET).status_code == 200
        plan, status, subscription, past_due, start, end = _state(store)
        assert subscription == sub_id
        final_states.append((plan, status, past_due, start, end))

    assert final_states[0] == ("free", "canceled", False, None, None)
    assert final_states[0] == final_states[1] == final_states[2]


def test_shuffled_events_of_a_live_subscription_converge_on_its_current_state(client, subscribed, fake_stripe):
    store, customer, sub_id = subscribed
    now = int(time.time())
    events = [
        sub_event(fake_stripe, sub_id, "customer.subscription.created", "incomplete", now - 30),
        sub_event(fake_stripe, sub_id, "customer.subscription.updated", "active", now - 20),
        sub_event(fake_stripe, sub_id, "customer.subscription.updated", "past_due", now - 10),
    ]
    fake_stripe.subscriptions[sub_id]["status"] = "past_due"
    for event in reversed(events):
        post_event(client, event, WEBHOOK_SECRET)

    account = billing_account_for(store=store)
    assert (account.plan.code, account.subscription_status) == ("pro", "past_due")
    assert account.past_due_since is not None
    assert account.last_event_created == now - 10


def test_deletion_of_an_old_subscription_does_not_downgrade_the_current_one(client, subscribed, fake_stripe):
    store, customer, sub_id = subscribed
    post_event(client, stripe_event("customer.subscription.created", fake_stripe.subscriptions[sub_id]),
               WEBHOOK_SECRET)
    old_id = new_id("sub")
    fake_stripe.subscriptions[old_id] = subscription_object(sub_id=old_id, customer=customer, prices=[PRO_PRICE],
                                                            status="canceled")

    post_event(client, stripe_event("customer.subscription.deleted", fake_stripe.subscriptions[old_id]),
               WEBHOOK_SECRET)

    account = billing_account_for(store=store)
    assert account.plan.code == "pro" and account.stripe_subscription_id == sub_id


def test_payment_failure_makes_the_store_past_due_then_402_after_the_grace_period(client, subscribed, fake_stripe):
    store, customer, sub_id = subscribed
    member = store.memberships.get()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(member)}"
    post_event(client, stripe_event("customer.subscription.created", fake_stripe.subscriptions[sub_id]),
               WEBHOOK_SECRET)
    inv_id = new_id("in")
    fake_stripe.invoices[inv_id] = invoice_object(inv_id=inv_id, customer=customer, subscription=sub_id,
                                                  status="open")
    fake_stripe.subscriptions[sub_id]["status"] = "past_due"  # Stripe moves it on a failed renewal payment

    post_event(client, stripe_event("invoice.payment_failed", fake_stripe.invoices[inv_id]), WEBHOOK_SECRET)

    account = billing_account_for(store=store)
    assert account.past_due_since is not None and account.plan.code == "pro"
    assert Invoice.objects.get(stripe_invoice_id=inv_id).status == "open"
    in_grace = client.post("/api/v1/jobs/", restore_body(store), content_type=JSON)
    assert in_grace.status_code == 201
    assert client.get("/api/v1/billing/").json()["past_due"] is True

    BillingAccount.objects.filter(pk=account.pk).update(past_due_since=timezone.now() - timedelta(days=3, hours=1))
    jobs_before = Job.objects.count()
    refused = client.post("/api/v1/jobs/", restore_body(store), content_type=JSON)

    assert refused.status_code == 402 and refused.json()["code"] == "payment_required"
    assert "grace period" in refused.json()["detail"] and "portal" in refused.json()["detail"]
    assert Job.objects.count() == jobs_before

    fake_stripe.invoices[inv_id].update(status="paid", amount_paid=2900)
    fake_stripe.subscriptions[sub_id]["status"] = "active"
    post_event(client, stripe_event("invoice.paid", fake_stripe.invoices[inv_id]), WEBHOOK_SECRET)

    assert billing_account_for(store=store).past_due_since is None
    assert Invoice.objects.get(stripe_invoice_id=inv_id).status == "paid"
    assert client.post("/api/v1/jobs/", restore_body(store), content_type=JSON).status_code == 201


def test_a_late_payment_failure_after_the_payment_changes_nothing(client, subscribed, fake_stripe):
    store, customer, sub_id = subscribed
    inv_id = new_id("in")
    fake_stripe.invoices[inv_id] = invoice_object(inv_id=inv_id, customer=customer, subscription=sub_id,
                                                  status="paid")
    failed_snapshot = {**fake_stripe.invoices[inv_id], "status": "open"}

    post_event(client, stripe_event("invoice.paid", fake_stripe.invoices[inv_id]), WEBHOOK_SECRET)
    post_event(client, stripe_event("invoice.payment_failed", failed_snapshot), WEBHOOK_SECRET)

    assert billing_account_for(store=store).past_due_since is None
    assert Invoice.objects.get(stripe_invoice_id=inv_id).status == "paid"


def test_a_refetch_failure_answers_503_and_records_nothing(client, subscribed, fake_stripe):
    store, customer, sub_id = subscribed
    event = stripe_event("customer.subscription.updated", {**fake_stripe.subscriptions[sub_id], "id": "sub_gone"})

    response = post_event(client, event, WEBHOOK_SECRET)

    assert response.status_code == 503
    assert not StripeEvent.objects.exists()


def test_unhandled_event_types_are_recorded_and_ignored(client):
    from django.test import override_settings

    with override_settings(STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET):
        response = post_event(client, stripe_event("charge.refunded", {"id": "ch_1", "object": "charge"}),
                              WEBHOOK_SECRET)

    assert response.status_code == 200 and response.json()["outcome"] == "ignored: not handled"
