"""The only module that talks to Stripe. Everything else calls these typed functions and gets plain dicts back.

The client pins the API version from settings (``STRIPE_API_VERSION``); ``STRIPE_API_BASE`` points it at
another host (tests run a fake Stripe on loopback). Errors surface as ``StripeUnavailable`` (network, 5xx,
rate limits: worth retrying) or ``StripeRejected`` (4xx: the request itself is wrong).
"""

from __future__ import annotations

import functools

import stripe
from django.conf import settings


class StripeError(Exception):
    pass


class StripeUnavailable(StripeError):
    """Stripe could not be reached or failed on its side; retrying later may succeed."""


class StripeRejected(StripeError):
    """Stripe refused the request (4xx); retrying the same request will not help."""


class WebhookSignatureInvalid(StripeError):
    """The payload is not a well-formed Stripe event signed with our endpoint secret within the tolerance."""


TIMEOUT_SECONDS = 20  # the SDK's default is 80 s; a webhook or a checkout request should not hang that long


@functools.lru_cache(maxsize=4)
def _client(secret_key: str, api_version: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key,
        stripe_version=api_version,
        base_addresses={"api": api_base} if api_base else {},
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def client() -> stripe.StripeClient:
    """A client pinned to ``STRIPE_API_VERSION`` (kept per settings: it holds a connection pool)."""
    return _client(settings.STRIPE_SECRET_KEY, settings.STRIPE_API_VERSION, settings.STRIPE_API_BASE)


def _plain(value):
    """StripeObjects (dict subclasses) as plain dicts and lists, all the way down."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        raise StripeUnavailable(str(exc)) from exc
    except stripe.StripeError as exc:
        status = getattr(exc, "http_status", None) or 0
        if status >= 500:
            raise StripeUnavailable(str(exc)) from exc
        raise StripeRejected(str(exc)) from exc


def customer_create(*, store_id: int, name: str, email: str, idempotency_key: str | None = None) -> str:
    """Create the store's Stripe customer; returns its id (``cus_…``)."""
    params = {"name": name, "metadata": {"store_id": str(store_id)}}
    if email:
        params["email"] = email
    options = {"idempotency_key": idempotency_key} if idempotency_key else {}
    customer = _call(client().v1.customers.create, params, options)
    return customer.id


def checkout_session_create(
    *, customer_id: str, price_id: str, overage_price_id: str, success_url: str, cancel_url: str, store_id: int
) -> tuple[str, str]:
    """A subscription Checkout Session for the plan's price (plus its metered overage price); returns (id, url)."""
    line_items = [{"price": price_id, "quantity": 1}]
    if overage_price_id:
        line_items.append({"price": overage_price_id})  # metered prices take no quantity
    params = {
        "mode": "subscription",
        "customer": customer_id,
        "client_reference_id": str(store_id),
        "line_items": line_items,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "metadata": {"store_id": str(store_id)},
        "subscription_data": {"metadata": {"store_id": str(store_id)}},
    }
    session = _call(client().v1.checkout.sessions.create, params)
    return session.id, session.url


def portal_session_create(*, customer_id: str, return_url: str) -> str:
    """A customer-portal session (payment methods, invoices, cancel); returns its URL."""
    session = _call(client().v1.billing_portal.sessions.create, {"customer": customer_id, "return_url": return_url})
    return session.url


def meter_event_create(
    *, event_name: str, customer_id: str, value: int, identifier: str, idempotency_key: str, timestamp: int
) -> None:
    """Report usage to a Billing Meter. Stripe drops a second event with the same ``identifier``, and the
    idempotency key makes an SDK retry of the same request safe."""
    params = {
        "event_name": event_name,
        "identifier": identifier,
        "timestamp": timestamp,
        "payload": {"stripe_customer_id": customer_id, "value": str(value)},
    }
    _call(client().v1.billing.meter_events.create, params, {"idempotency_key": idempotency_key})


def subscription_retrieve(subscription_id: str) -> dict:
    """The subscription as Stripe has it now (the webhook's copy may be stale or out of order)."""
    return _plain(_call(client().v1.subscriptions.retrieve, subscription_id))


def invoice_retrieve(invoice_id: str) -> dict:
    return _plain(_call(client().v1.invoices.retrieve, invoice_id))


def construct_webhook_event(payload: bytes, signature_header: str) -> dict:
    """Verify ``Stripe-Signature`` (HMAC with ``STRIPE_WEBHOOK_SECRET``, default 300 s tolerance) and parse.

    Raises ``WebhookSignatureInvalid`` for a missing, tampered or too old signature, or a malformed body.
    """
    if not signature_header or not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookSignatureInvalid("missing Stripe-Signature header or webhook secret")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, settings.STRIPE_WEBHOOK_SECRET)
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise WebhookSignatureInvalid(str(exc)) from exc
    return _plain(event)
