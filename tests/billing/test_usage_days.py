"""The dashboard's billing page counts days in the store's time zone, like its jobs list and its free credits:
a job made at 01:30 in Seoul on Dec 2 (16:30 UTC on Dec 1) is Dec 2 everywhere a Seoul seller looks."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory
from tests.billing import subscribing as stripe
from tests.billing.factories import plan_with

pytestmark = [pytest.mark.django_db, pytest.mark.clock("2026-12-01T16:30:00+00:00")]


@pytest.mark.parametrize(("zone", "day", "stamp"), [
    ("Asia/Seoul", "12/2", "2026-12-02T01:30:00+09:00"),
    ("UTC", "12/1", "2026-12-01T16:30:00+00:00"),
])
def test_the_usage_chart_and_the_jobs_list_show_the_same_day(client, zone, day, stamp):
    plan_with("free", 5, watermark=True)
    member = MembershipFactory(store__time_zone=zone)
    [stripe.run_job(member) for _ in range(2)]
    client.force_login(member.user)

    billing = client.get(reverse("settings-billing")).content.decode()
    jobs = client.get(reverse("jobs")).content.decode()
    usage = client.get("/api/v1/billing/usage/?days=7").json()

    assert re.findall(r'class="usage-day">([^<]+)<', billing) == [day]
    assert f'datetime="{stamp}"' in jobs
    assert [(r["day"], r["credits"]) for r in usage["results"]] == [(_iso(day), 2)]
    assert usage["time_zone"] == zone
    assert zone in billing  # the page says which zone its days are in


def _iso(day: str) -> str:
    month, dom = day.split("/")
    return f"2026-{int(month):02d}-{int(dom):02d}"


def test_the_billing_page_lists_the_periods_with_their_credits(client, fake_stripe, paid_plans, clock):
    """Dec 1, 16:30 UTC is Dec 2, 01:30 in Seoul: the store's free month is December and the upgrade a minute
    later starts the Pro period then."""
    plan_with("free", 2, watermark=True)
    member = MembershipFactory()
    [stripe.run_job(member) for _ in range(2)]
    clock.shift(60)
    sub_id = stripe.subscribe(fake_stripe, member.store, "pro")
    stripe.deliver(client, fake_stripe, sub_id, "customer.subscription.created")
    stripe.run_job(member)
    client.force_login(member.user)

    html = client.get(reverse("settings-billing")).content.decode()

    table = html[html.index('id="periods-title"'):html.index('id="usage-title"')]
    rows = re.findall(r'"From">([^<]+)</td><td data-label="Until">([^<]+)</td><td data-label="Plan">([^<]+)</td>'
                      r'<td data-label="Used">([^<]+)<', table)
    assert rows == [  # newest first, in Seoul time: the free month began at midnight on Dec 1 there
        ("12/02/2026 1:31 a.m.", "01/01/2027 1:31 a.m.", "Pro", "1 / 500"),
        ("12/01/2026 midnight", "12/02/2026 1:31 a.m.", "Free", "2 / 2"),
    ]
