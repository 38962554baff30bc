"""An owner upgrades through Stripe Checkout; the signed webhook moves the store to the paid plan.

The real stripe SDK talks to the fake Stripe on loopback (tests/billing/fake_stripe.py)."""

from __future__ import annotations

import pytest

from billing.services import billing_account_for
from tests.accounts.factories import MembershipFactory, token_for
from tests.billing.conftest import PRO_OVERAGE_PRICE, PRO_PRICE, WEBHOOK_SECRET
from tests.billing.fake_stripe import new_id, subscription_object
from tests.billing.webhooks import post_event, stripe_event

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def owner(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


def test_checkout_creates_the_customer_once_and_a_subscription_session(client, owner, fake_stripe, paid_plans):
    first = client.post("/api/v1/billing/checkout/", {"plan": "pro"}, content_type=JSON)
    second = client.post("/api/v1/billing/checkout/", {"plan": "business"}, content_type=JSON)

    assert first.status_code == 200, first.content
    assert first.json()["url"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert second.status_code == 200
    customers = fake_stripe.calls("POST", "/v1/customers")
    assert len(customers) == 1
    assert customers[0].form["metadata[store_id]"] == str(owner.store.pk)
    assert customers[0].headers["idempotency-key"] == f"gasang-customer-{owner.store.pk}"
    assert customers[0].headers["stripe-version"] == "2025-06-30.basil"
    assert customers[0].headers["authorization"] == "Bearer sk_test_fake"
    session = fake_stripe.calls("POST", "/v1/checkout/sessions")[0].form
    account = billing_account_for(store=owner.store)
    assert account.stripe_customer_id.startswith("cus_") and session["customer"] == account.stripe_customer_id
    assert session["mode"] == "subscription" and session["client_reference_id"] == str(owner.store.pk)
    assert session["line_items[0][price]"] == PRO_PRICE and session["line_items[0][quantity]"] == "1"
    assert session["line_items[1][price]"] == PRO_OVERAGE_PRICE and "line_items[1][quantity]" not in session
    assert session["success_url"].startswith("http://testserver/settings/billing/")


def test_checkout_refuses_unknown_plans_foreign_redirects_and_tokens(client, owner, fake_stripe, paid_plans):
    free = client.post("/api/v1/billing/checkout/", {"plan": "free"}, content_type=JSON)
    elsewhere = client.post("/api/v1/billing/checkout/", {"plan": "pro", "success_url": "https://evil.example/x"},
                            content_type=JSON)
    client.logout()
    with_token = client.post("/api/v1/billing/checkout/", {"plan": "pro"}, content_type=JSON,
                             HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")

    assert free.status_code == 400 and "plan" in free.json()["errors"]
    assert elsewhere.status_code == 400
    assert with_token.status_code == 403
    assert not fake_stripe.calls("POST", "/v1/checkout/sessions")


def test_completed_checkout_upgrades_the_store_after_refetching_the_subscription(client, owner, fake_stripe,
                                                                                 paid_plans):
    client.post("/api/v1/billing/checkout/", {"plan": "pro"}, content_type=JSON)
    customer = billing_account_for(store=owner.store).stripe_customer_id
    sub_id = new_id("sub")
    fake_stripe.subscriptions[sub_id] = subscription_object(
        sub_id=sub_id, customer=customer, prices=[PRO_PRICE, PRO_OVERAGE_PRICE], store_id=owner.store.pk
    )
    session = {"id": new_id("cs"), "object": "checkout.session", "mode": "subscription", "status": "complete",
               "customer": customer, "subscription": sub_id, "client_reference_id": str(owner.store.pk)}

    response = post_event(client, stripe_event("checkout.session.completed", session), WEBHOOK_SECRET)

    assert response.status_code == 200, response.content
    account = billing_account_for(store=owner.store)
    assert account.plan.code == "pro" and account.subscription_status == "active"
    assert account.stripe_subscription_id == sub_id and account.current_period_end is not None
    assert len(fake_stripe.calls("GET", f"/v1/subscriptions/{sub_id}")) == 1
    balance = client.get("/api/v1/billing/").json()
    assert balance["plan"] == "pro" and balance["allowance"] == 500 and balance["metered_overage"] is True
    again = client.post("/api/v1/billing/checkout/", {"plan": "business"}, content_type=JSON)
    assert again.status_code == 400 and "portal" in again.json()["detail"]  # no second subscription


def test_portal_link_for_a_customer(client, owner, fake_stripe, paid_plans):
    assert client.post("/api/v1/billing/portal/", {}, content_type=JSON).status_code == 400  # no customer yet
    client.post("/api/v1/billing/checkout/", {"plan": "pro"}, content_type=JSON)

    response = client.post("/api/v1/billing/portal/", {}, content_type=JSON)

    assert response.status_code == 200 and response.json()["url"].startswith("https://billing.stripe.com/p/session/")
    portal = fake_stripe.calls("POST", "/v1/billing_portal/sessions")[0].form
    assert portal["customer"] == billing_account_for(store=owner.store).stripe_customer_id
    assert portal["return_url"] == "http://testserver/settings/billing/"
