"""Fixtures for billing: the fake Stripe on loopback, paid plans with Stripe prices, signed webhook posts, and a
pinned clock. Django and config modules are imported inside fixtures (see tests/generation/conftest.py).

Every billing test runs at each instant of ``CLOCKS`` (time-machine, clock stopped: a test moves it with
``clock.shift(...)`` / ``clock.move_to(...)``), so none depends on the day it runs; a test marked
``@pytest.mark.clock("2026-11-30T15:30:00+00:00", ...)`` runs at those instants instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tests.billing.fake_stripe import running_fake_stripe

CLOCKS = {
    "utc-1st-0030": datetime(2026, 12, 1, 0, 30, tzinfo=UTC),  # 09:30 KST
    "utc-last-day-2330": datetime(2026, 11, 30, 23, 30, tzinfo=UTC),  # already Dec 1, 08:30 in Seoul
    "utc-new-year-eve-235959": datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),  # Jan 1, 08:59:59 in Seoul
    "leap-day": datetime(2028, 2, 29, 12, 0, tzinfo=UTC),  # 21:00 KST, Feb 29
    "kst-utc-split": datetime(2026, 12, 1, 16, 30, tzinfo=UTC),  # Dec 2, 01:30 KST: the dates differ
    "kst-month-split": datetime(2026, 11, 30, 15, 30, tzinfo=UTC),  # Dec 1, 00:30 KST: even the months differ
    "kst-new-year-eve-235959": datetime(2026, 12, 31, 14, 59, 59, tzinfo=UTC),  # Dec 31, 23:59:59 KST
}


def pytest_configure(config):
    config.addinivalue_line("markers", "clock(*instants): run this billing test at these ISO instants only")


def pytest_generate_tests(metafunc):
    if "clock" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("clock")
    metafunc.parametrize("clock", list(marker.args) if marker else list(CLOCKS), indirect=True)


@pytest.fixture(autouse=True)
def clock(request):
    """The stopped clock every billing test runs on (a time_machine traveller)."""
    name = request.param
    at = CLOCKS[name] if name in CLOCKS else datetime.fromisoformat(name)
    with time_machine.travel(at, tick=False) as traveller:
        yield traveller

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
