"""Outgoing webhooks, signed the Standard Webhooks way, and the writes that manage a store's endpoints.

Headers: ``webhook-id`` (the delivery id, stable across retries so receivers can dedupe),
``webhook-timestamp`` (unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256>``
over ``"{id}.{timestamp}.{body}"`` with the endpoint's secret (``whsec_`` + base64 key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store
from generation.models import Job, WebhookDelivery, WebhookEndpoint
from generation.outbox import outbox_enqueue
from gpu_worker.spec import QUEUE_DEFAULT

TASK_DELIVER = "generation.deliver_webhook"
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 5
USER_AGENT = "Gasang-Webhooks/1"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


# ---- endpoints (writes shared by the API and the settings page) -------------------------------


def _clean_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    if not endpoint.url.startswith(("https://", "http://")):
        raise ValidationError({"url": _("Use an http(s) URL.")})
    events = endpoint.events
    if not isinstance(events, list) or not set(events) <= set(WebhookEndpoint.Event.values):
        raise ValidationError(
            {
                "events": _("Unknown event type; choose from: %(events)s.")
                % {"events": ", ".join(WebhookEndpoint.Event.values)}
            }
        )
    endpoint.events = list(dict.fromkeys(events))
    endpoint.full_clean()
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_create(
    *, store: Store, url: str, events: list[str] | None = None, is_active: bool = True
) -> WebhookEndpoint:
    """Add an endpoint with a new signing secret (show it to the caller once). Empty ``events`` means all.

    Raises ValidationError on a non-http(s) URL or an unknown event type.
    """
    endpoint = WebhookEndpoint(
        store=store, url=url, events=list(events or []), is_active=is_active, secret=new_secret()
    )
    return _clean_endpoint(endpoint)


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    """Change any of ``url``, ``events``, ``is_active`` (False pauses deliveries). Raises as create does."""
    for key, value in fields.items():
        if key not in ("url", "events", "is_active"):
            raise TypeError(f"webhook_endpoint_update() got an unexpected field {key!r}")
        setattr(endpoint, key, list(value or []) if key == "events" else value)
    return _clean_endpoint(endpoint)


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret; deliveries sent from now on are signed with it."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret"])
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Delete the endpoint and its delivery log."""
    endpoint.delete()


# ---- signing and delivery ----------------------------------------------------------------------


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def job_payload(job: Job, event_type: str) -> dict:
    return {
        "type": event_type,
        "timestamp": timezone.now().isoformat(),
        "data": {
            "id": str(job.pk),
            "kind": job.kind,
            "state": job.state,
            "batch": str(job.batch_id) if job.batch_id else None,
            "outputs": sorted(job.outputs),
            "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        },
    }


def job_event_fanout(job: Job, event_type: str) -> list[WebhookDelivery]:
    """Record one delivery per interested endpoint; each is sent after commit through the outbox."""
    deliveries = []
    for endpoint in WebhookEndpoint.objects.filter(store_id=job.store_id, is_active=True):
        if not endpoint.wants(event_type):
            continue
        delivery = WebhookDelivery.objects.create(
            store_id=job.store_id, endpoint=endpoint, event_type=event_type, payload=job_payload(job, event_type)
        )
        outbox_enqueue(task=TASK_DELIVER, queue=QUEUE_DEFAULT, payload={"delivery_id": str(delivery.pk)})
        deliveries.append(delivery)
    return deliveries


def backoff_seconds(attempt: int) -> int:
    return min(2**attempt, 600)


def deliver(delivery_id: str) -> bool | None:
    """Send one delivery. True: delivered; False: failed, retry later; None: nothing to do."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = int(time.time())
        request = urllib.request.Request(
            delivery.endpoint.url,
            data=body,
            method="POST",
            headers={
                "content-type": "application/json",
                "user-agent": USER_AGENT,
                "webhook-id": str(delivery.pk),
                "webhook-timestamp": str(timestamp),
                "webhook-signature": sign(delivery.endpoint.secret, str(delivery.pk), timestamp, body),
            },
        )
        delivery.attempts += 1
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only
                delivery.last_status_code = response.status
                ok = 200 <= response.status < 300
        except urllib.error.HTTPError as exc:
            delivery.last_status_code, ok = exc.code, False
            delivery.last_error = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            delivery.last_status_code, ok = None, False
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:300]
        if ok:
            delivery.status, delivery.delivered_at, delivery.last_error = (
                WebhookDelivery.Status.DELIVERED,
                timezone.now(),
                "",
            )
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = WebhookDelivery.Status.FAILED
        delivery.save()
        return ok
