"""A store's life with Stripe, for period tests: subscribe, change plan, renew, cancel — each a change of the
fake Stripe's state (what Stripe holds) followed, whenever the test says, by a signed webhook that makes the app
refetch it, exactly as Stripe delivers them."""

from __future__ import annotations

import time
from datetime import datetime

from django.utils import timezone

from billing.models import CreditPeriod, LedgerEntry, MeterEventReport
from billing.services import billing_account_for
from generation.services import job_create
from tests.billing.conftest import (
    BUSINESS_OVERAGE_PRICE,
    BUSINESS_PRICE,
    PRO_OVERAGE_PRICE,
    PRO_PRICE,
    WEBHOOK_SECRET,
)
from tests.billing.factories import worker_event
from tests.billing.fake_stripe import new_id, subscription_object
from tests.billing.webhooks import post_event, stripe_event
from tests.generation.factories import shot_for

PRICES = {"pro": [PRO_PRICE, PRO_OVERAGE_PRICE], "business": [BUSINESS_PRICE, BUSINESS_OVERAGE_PRICE]}
DAY = 86400


def customer_for(store) -> str:
    account = billing_account_for(store=store)
    if not account.stripe_customer_id:
        account.stripe_customer_id = new_id("cus")
        account.save(update_fields=["stripe_customer_id"])
    return account.stripe_customer_id


def subscribe(fake_stripe, store, plan: str, *, start: datetime | None = None, days: int = 30) -> str:
    """Stripe starts a subscription at ``start`` (now by default). No webhook yet."""
    sub_id = new_id("sub")
    begin = int((start or timezone.now()).timestamp())
    sub = subscription_object(sub_id=sub_id, customer=customer_for(store), prices=PRICES[plan], start=begin,
                              store_id=store.pk)
    for item in sub["items"]["data"]:
        item["current_period_end"] = begin + days * DAY
    fake_stripe.subscriptions[sub_id] = sub
    return sub_id


def period_of(fake_stripe, sub_id: str) -> tuple[int, int]:
    item = fake_stripe.subscriptions[sub_id]["items"]["data"][0]
    return item["current_period_start"], item["current_period_end"]


def renew(fake_stripe, sub_id: str, *, days: int = 30) -> None:
    """Stripe rolls the subscription into its next period at the old period's end."""
    _start, end = period_of(fake_stripe, sub_id)
    for item in fake_stripe.subscriptions[sub_id]["items"]["data"]:
        item["current_period_start"], item["current_period_end"] = end, end + days * DAY


def change_plan(fake_stripe, sub_id: str, plan: str) -> None:
    """The owner switched plans in the portal: same billing period, other prices (Stripe prorates the fee)."""
    sub = fake_stripe.subscriptions[sub_id]
    start, end = period_of(fake_stripe, sub_id)
    sub["items"]["data"] = [
        {**sub["items"]["data"][0], "id": new_id("si"), "price": {**sub["items"]["data"][0]["price"], "id": price},
         "current_period_start": start, "current_period_end": end}
        for price in PRICES[plan]
    ]


def cancel_at_period_end(fake_stripe, sub_id: str) -> None:
    fake_stripe.subscriptions[sub_id].update(cancel_at_period_end=True, canceled_at=int(time.time()))


def end(fake_stripe, sub_id: str, *, at: int | None = None) -> None:
    """Stripe ends the subscription (at its period end, or ``at``)."""
    sub = fake_stripe.subscriptions[sub_id]
    sub.update(status="canceled", ended_at=at or period_of(fake_stripe, sub_id)[1])
    sub["canceled_at"] = sub.get("canceled_at") or sub["ended_at"]


def deliver(client, fake_stripe, sub_id: str, event_type: str = "customer.subscription.updated") -> str:
    """Stripe's webhook about the subscription arrives now; returns the app's outcome."""
    event = stripe_event(event_type, fake_stripe.subscriptions[sub_id], created=int(time.time()))
    response = post_event(client, event, WEBHOOK_SECRET)
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


def run_job(member, *, outcome: str | None = "succeeded", kind: str = "restore"):
    """A job created now through the service; finished at once unless ``outcome`` is None."""
    job = job_create(store=member.store, kind=kind, inputs={"product_shot": shot_for(member.store).pk},
                     created_by=member.user).job
    if outcome:
        finish(job, outcome)
    return job


def finish(job, outcome: str = "succeeded") -> None:
    if outcome == "succeeded":
        worker_event(job, "succeeded", outputs={"image": "k"})
    else:
        worker_event(job, "failed", error={"code": "no_face"})


def periods_of(store) -> list[tuple[str, datetime, datetime]]:
    return [(p.plan.code, p.starts_at, p.ends_at)
            for p in CreditPeriod.objects.filter(store=store).select_related("plan").order_by("starts_at")]


def send_reports() -> None:
    """The outbox delivers the queued meter-event tasks (each twice: a redelivery is a no-op)."""
    from billing import tasks
    from billing.services import TASK_REPORT_METER_EVENT
    from core.models import OutboxMessage

    for message in OutboxMessage.objects.filter(task=TASK_REPORT_METER_EVENT).order_by("id"):
        tasks.report_meter_event(message.payload)
        tasks.report_meter_event(message.payload)


def metered(store) -> int:
    return sum(MeterEventReport.objects.filter(store=store).values_list("credits", flat=True))


def reserve_period(job) -> CreditPeriod:
    return LedgerEntry.objects.select_related("period__plan").get(job=job, kind="reserve").period
