"""Fixtures for billing: the fake Stripe on loopback, paid plans with Stripe prices, signed webhook posts.
Django and config modules are imported inside fixtures (see tests/generation/conftest.py)."""

from __future__ import annotations

import pytest

from tests.billing.fake_stripe import running_fake_stripe

WEBHOOK_SECRET = "whsec_test_gasang"
PRO_PRICE, PRO_OVERAGE_PRICE = "price_test_pro", "price_test_pro_overage"
BUSINESS_PRICE, BUSINESS_OVERAGE_PRICE = "price_test_business", "price_test_business_overage"


@pytest.fixture(scope="session")
def fake_stripe_server():
    with running_fake_stripe() as server:
        yield server


@pytest.fixture
def fake_stripe(fake_stripe_server, settings):
    """The fake's recorded state, emptied for this test, with settings pointing the SDK at it."""
    from tests.billing.fake_stripe import reset

    url, state = fake_stripe_server
    reset(state)
    settings.STRIPE_API_BASE = url
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_VERSION = "2025-06-30.basil"
    return state


@pytest.fixture
def paid_plans(db):
    """pro and business with Stripe prices (the seeded rows have none: admins fill them in per environment)."""
    from billing.services import plan_get

    plans = {}
    for code, price, overage in (("pro", PRO_PRICE, PRO_OVERAGE_PRICE), ("business", BUSINESS_PRICE,
                                                                         BUSINESS_OVERAGE_PRICE)):
        plan = plan_get(code=code)
        plan.stripe_price_id, plan.stripe_overage_price_id = price, overage
        plan.save()
        plans[code] = plan
    return plans
