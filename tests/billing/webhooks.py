"""Building Stripe webhook events and signing them with the SDK's own signature helper."""

from __future__ import annotations

import json
import time

import stripe

from tests.billing.fake_stripe import API_VERSION, new_id

WEBHOOK_PATH = "/billing/stripe/webhook/"


def stripe_event(event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None) -> dict:
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created or int(time.time()),
        "type": event_type,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
    }


def signature_header(payload: str, secret: str, *, timestamp: int | None = None) -> str:
    timestamp = timestamp or int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{payload}", secret)
    return f"t={timestamp},{stripe.WebhookSignature.EXPECTED_SCHEME}={signature}"


def post_event(client, event: dict, secret: str, *, timestamp: int | None = None, header: str | None = None):
    payload = json.dumps(event)
    headers = {}
    sig = header if header is not None else signature_header(payload, secret, timestamp=timestamp)
    if sig:
        headers["HTTP_STRIPE_SIGNATURE"] = sig
    return client.post(WEBHOOK_PATH, data=payload, content_type="application/json", **headers)
