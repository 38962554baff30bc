"""Subscriptions through Stripe: the customer, Checkout, the portal, and applying Stripe's webhook events.

Events are applied exactly once (``StripeEvent.event_id`` is unique and inserted in the same transaction as
the effect) and in any order: for every subscription or invoice event we refetch the object from Stripe and
apply *its current state*, never the snapshot in the event, so a late or shuffled delivery converges on what
Stripe has now. Refetches happen before the transaction opens, so no row lock is held across the network.
Applying a subscription's state also closes and opens the store's credit periods (billing/periods.py) at the
instants Stripe reports.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Store
from billing import stripe_api
from billing.models import BillingAccount, Invoice, Plan, StripeEvent, SubscriptionStatus
from billing.periods import PLAN_STATUSES, periods_follow_stripe
from billing.services import FREE_PLAN, _locked_account, billing_account_for, plan_get

log = logging.getLogger(__name__)

PAST_DUE_STATUSES = {SubscriptionStatus.PAST_DUE, SubscriptionStatus.UNPAID}
ENDED_STATUSES = {SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED}
HANDLED_EVENTS = {
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
}


def _dt(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


def customer_ensure(*, store: Store, email: str = "") -> str:
    """The store's Stripe customer id, created once.

    The Stripe call happens outside any row lock (job creation must not wait on Stripe); two racing requests
    send the same idempotency key, so Stripe answers both with the same customer, and the first save wins.
    """
    account = billing_account_for(store=store)
    if account.stripe_customer_id:
        return account.stripe_customer_id
    customer_id = stripe_api.customer_create(
        store_id=store.pk, name=store.name, email=email, idempotency_key=f"gasang-customer-{store.pk}"
    )
    with transaction.atomic():
        account = _locked_account(store)
        if not account.stripe_customer_id:
            account.stripe_customer_id = customer_id
            account.save(update_fields=["stripe_customer_id", "updated_at"])
        return account.stripe_customer_id


def checkout_start(*, store: Store, plan_code: str, email: str, success_url: str, cancel_url: str) -> str:
    """A Checkout Session URL to subscribe to (or upgrade to) a paid plan. Raises ValidationError for a plan
    that cannot be bought, or the store's current plan."""
    plan = Plan.objects.filter(code=plan_code, is_public=True).exclude(stripe_price_id="").first()
    if plan is None:
        raise ValidationError({"plan": f"'{plan_code}' is not a plan you can subscribe to."})
    account = billing_account_for(store=store)
    if account.stripe_subscription_id and account.subscription_status in PLAN_STATUSES:
        # A second Checkout would start a second subscription; plan changes go through the portal.
        raise ValidationError({"plan": f"Your store already subscribes to the {account.plan.name} plan; change "
                                       "plans in the billing portal (POST /api/v1/billing/portal/)."})
    customer_id = customer_ensure(store=store, email=email)
    _session_id, url = stripe_api.checkout_session_create(
        customer_id=customer_id,
        price_id=plan.stripe_price_id,
        overage_price_id=plan.stripe_overage_price_id if plan.metered_overage else "",
        success_url=success_url,
        cancel_url=cancel_url,
        store_id=store.pk,
    )
    return url


def portal_url(*, store: Store, return_url: str) -> str:
    """The Stripe customer portal for the store (payment method, invoices, plan changes, cancel)."""
    account = billing_account_for(store=store)
    if not account.stripe_customer_id:
        raise ValidationError({"detail": "Your store has no Stripe customer yet; subscribe to a plan first."})
    return stripe_api.portal_session_create(customer_id=account.stripe_customer_id, return_url=return_url)


# --- webhook events ---------------------------------------------------------------------------------------


def _invoice_subscription_id(invoice: dict) -> str | None:
    details = ((invoice.get("parent") or {}).get("subscription_details") or {}).get("subscription")
    return details or invoice.get("subscription")  # basil moved it under parent; older versions had it on top


def _refetch(event: dict) -> dict:
    """What Stripe holds now for the event's subject: {"subscription": ..., "invoice": ...}."""
    obj = event["data"]["object"]
    kind = event["type"]
    fetched: dict = {}
    if kind == "checkout.session.completed":
        if obj.get("subscription"):
            fetched["subscription"] = stripe_api.subscription_retrieve(obj["subscription"])
    elif kind.startswith("customer.subscription."):
        fetched["subscription"] = stripe_api.subscription_retrieve(obj["id"])
    elif kind.startswith("invoice."):
        fetched["invoice"] = stripe_api.invoice_retrieve(obj["id"])
        subscription_id = _invoice_subscription_id(fetched["invoice"])
        if subscription_id:
            fetched["subscription"] = stripe_api.subscription_retrieve(subscription_id)
    return fetched


def _account_for(event: dict, fetched: dict) -> BillingAccount | None:
    obj = event["data"]["object"]
    subject = fetched.get("subscription") or fetched.get("invoice") or obj
    customer = subject.get("customer") or obj.get("customer")
    if customer:
        account = BillingAccount.objects.filter(stripe_customer_id=customer).first()
        if account is not None:
            return account
    store_id = obj.get("client_reference_id") or (subject.get("metadata") or {}).get("store_id")
    store = Store.objects.filter(pk=store_id).first() if str(store_id or "").isdigit() else None
    if store is None:
        return None
    account = billing_account_for(store=store)
    if customer and not account.stripe_customer_id:
        account.stripe_customer_id = customer
    return account


def _plan_for(subscription: dict) -> Plan | None:
    prices = [item["price"]["id"] for item in (subscription.get("items") or {}).get("data", [])]
    return Plan.objects.filter(stripe_price_id__in=prices).exclude(stripe_price_id="").first()


def _period(subscription: dict) -> tuple[datetime | None, datetime | None]:
    items = (subscription.get("items") or {}).get("data") or [{}]
    start = items[0].get("current_period_start") or subscription.get("current_period_start")
    end = items[0].get("current_period_end") or subscription.get("current_period_end")
    return _dt(start), _dt(end)


def _ended_at(subscription: dict, event_at: datetime) -> datetime:
    return _dt(subscription.get("ended_at")) or _dt(subscription.get("canceled_at")) or event_at


def _apply_subscription(account: BillingAccount, subscription: dict, event_at: datetime) -> str:
    status = subscription.get("status") or ""
    current = account.stripe_subscription_id
    if status in ENDED_STATUSES and current and current != subscription["id"]:
        return "ignored: an older subscription ended"
    account.stripe_subscription_id = subscription["id"]
    account.subscription_status = status if status in SubscriptionStatus.values else ""
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    if status in ENDED_STATUSES:
        account.plan = plan_get(code=FREE_PLAN)
        account.current_period_start = account.current_period_end = None
    elif status in PLAN_STATUSES:
        plan = _plan_for(subscription)
        if plan is None:
            log.error("subscription %s has no price mapped to a plan", subscription["id"])
        else:
            account.plan = plan
        account.current_period_start, account.current_period_end = _period(subscription)
    if status in PAST_DUE_STATUSES:
        account.past_due_since = account.past_due_since or timezone.now()
    else:
        account.past_due_since = None
    ended_at = _ended_at(subscription, event_at) if status in ENDED_STATUSES else None
    periods_follow_stripe(account=account, subscription=subscription, ended_at=ended_at, event_at=event_at)
    return f"subscription {status}"


def _upsert_invoice(account: BillingAccount, invoice: dict) -> None:
    lines = (invoice.get("lines") or {}).get("data") or [{}]
    period = lines[0].get("period") or {}
    Invoice.objects.update_or_create(
        stripe_invoice_id=invoice["id"],
        defaults={
            "store_id": account.store_id,
            "number": invoice.get("number") or "",
            "status": invoice.get("status") or "",
            "amount_due": invoice.get("amount_due") or 0,
            "amount_paid": invoice.get("amount_paid") or 0,
            "currency": invoice.get("currency") or "",
            "hosted_invoice_url": invoice.get("hosted_invoice_url") or "",
            "period_start": _dt(period.get("start") or invoice.get("period_start")),
            "period_end": _dt(period.get("end") or invoice.get("period_end")),
            "created_at": _dt(invoice.get("created")) or timezone.now(),
        },
    )


def stripe_event_process(*, event: dict) -> str:
    """Apply one verified Stripe event, once. Returns what happened ("applied: …", "duplicate", "ignored: …").

    Raises ``stripe_api.StripeError`` when a refetch fails; nothing is recorded then, so Stripe's retry of the
    same event is applied later.
    """
    if StripeEvent.objects.filter(event_id=event["id"]).exists():
        return "duplicate"
    handled = event["type"] in HANDLED_EVENTS
    fetched = _refetch(event) if handled else {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event["id"], type=event["type"], created=int(event.get("created") or 0)
                )
        except IntegrityError:
            return "duplicate"
        outcome = _apply(event, fetched) if handled else "ignored: not handled"
        record.processed_at = timezone.now()
        record.save(update_fields=["processed_at"])
    return outcome


def _apply(event: dict, fetched: dict) -> str:
    found = _account_for(event, fetched)
    if found is None:
        return "ignored: no store for this customer"
    account = BillingAccount.objects.select_for_update(of=("self",)).select_related("plan").get(pk=found.pk)
    if found.stripe_customer_id and not account.stripe_customer_id:
        account.stripe_customer_id = found.stripe_customer_id
    outcome = []
    if "subscription" in fetched:
        event_at = min(_dt(event.get("created")) or timezone.now(), timezone.now())
        outcome.append(_apply_subscription(account, fetched["subscription"], event_at))
    if "invoice" in fetched:
        _upsert_invoice(account, fetched["invoice"])
        outcome.append(f"invoice {fetched['invoice'].get('status')}")
    account.last_event_created = max(account.last_event_created, int(event.get("created") or 0))
    account.full_clean()
    account.save()
    return "applied: " + ", ".join(outcome or ["nothing to change"])
