"""Stripe's webhook endpoint: POST /billing/stripe/webhook/ (not under /api/v1/: Stripe, not a store, calls it)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import stripe_api
from billing.subscriptions import stripe_event_process

log = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify the signature before anything else (400 and no database write when it fails), then apply the
    event once. A failed refetch answers 503 so Stripe delivers the event again later."""
    try:
        event = stripe_api.construct_webhook_event(request.body, request.headers.get("Stripe-Signature", ""))
    except stripe_api.WebhookSignatureInvalid as exc:
        log.warning("rejected a Stripe webhook: %s", exc)
        return JsonResponse({"detail": "Invalid Stripe signature.", "code": "invalid_signature"}, status=400)
    try:
        outcome = stripe_event_process(event=event)
    except stripe_api.StripeError as exc:
        log.warning("Stripe event %s not applied yet: %s", event.get("id"), exc)
        return JsonResponse({"detail": "Could not reach Stripe; retry later.", "code": "unavailable"}, status=503)
    log.info("Stripe event %s (%s): %s", event.get("id"), event.get("type"), outcome)
    return JsonResponse({"received": True, "outcome": outcome})
