"""Outgoing webhooks, signed the Standard Webhooks way, and the writes that manage a store's endpoints.

Headers: ``webhook-id`` (the delivery id, stable across retries so receivers can dedupe),
``webhook-timestamp`` (unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256>``
over ``"{id}.{timestamp}.{body}"`` with the endpoint's secret (``whsec_`` + base64 key).

Deliveries run on their own queue (``webhooks``) and worker, never on the events worker, and no database
transaction or row lock is held while a customer's endpoint answers: a delivery is claimed in one short
transaction, sent, and its outcome recorded in another. At most ``WEBHOOK_MAX_IN_FLIGHT`` deliveries of one store
are sent at once; the others wait (``Deferred``) and go out later, none is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store
from core.outbox import outbox_enqueue
from generation import webhook_http
from generation.models import Job, WebhookDelivery, WebhookEndpoint
from generation.webhook_crypto import InvalidToken
from gpu_worker.spec import QUEUE_WEBHOOKS

TASK_DELIVER = "generation.deliver_webhook"
MAX_ATTEMPTS = 6
USER_AGENT = "Gasang-Webhooks/1"
CLAIM_MARGIN_SECONDS = 10  # a claim outlives the longest exchange by this much before another worker may take over
_LOCK_ENDPOINTS, _LOCK_IN_FLIGHT = 0x57480001, 0x57480002  # pg_advisory_xact_lock namespaces (per store)

log = logging.getLogger(__name__)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _lock_store(namespace: int, store_id: int) -> None:
    """Serialize one kind of per-store decision across processes, until the transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [namespace, store_id % 2**31])


# ---- endpoints (writes shared by the API and the settings page) -------------------------------


def check_endpoint_url(url: str) -> str:
    """The URL when stores may register it, else ValidationError: http:// in production, a user name or password
    in it, a host on a loopback, private, link-local or other non-public address (webhook_http.check_url)."""
    try:
        webhook_http.check_url(url)
    except webhook_http.UrlRefused as exc:
        raise ValidationError({"url": str(exc)}, code="url_not_allowed") from exc
    return url


def _clean_endpoint(endpoint: WebhookEndpoint, *, check_url: bool = True) -> WebhookEndpoint:
    if check_url:
        check_endpoint_url(endpoint.url)
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

    Raises ValidationError on a URL that may not receive webhooks (check_endpoint_url), an unknown event type, or
    when the store already has ``WEBHOOK_MAX_ENDPOINTS`` endpoints.
    """
    _lock_store(_LOCK_ENDPOINTS, store.pk)
    limit = settings.WEBHOOK_MAX_ENDPOINTS
    if WebhookEndpoint.objects.filter(store=store).count() >= limit:
        raise ValidationError(
            _("A store can have at most %(limit)d webhook endpoints; delete one before adding another.")
            % {"limit": limit},
            code="too_many_endpoints",
        )
    endpoint = WebhookEndpoint(store=store, url=url, events=list(events or []), is_active=is_active)
    endpoint.secret = new_secret()
    return _clean_endpoint(endpoint)


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    """Change any of ``url``, ``events``, ``is_active`` (False pauses deliveries). Raises as create does.

    The URL is checked when it changes or the endpoint is resumed; pausing always works.
    """
    for key, value in fields.items():
        if key not in ("url", "events", "is_active"):
            raise TypeError(f"webhook_endpoint_update() got an unexpected field {key!r}")
        setattr(endpoint, key, list(value or []) if key == "events" else value)
    check_url = "url" in fields or bool(fields.get("is_active"))
    return _clean_endpoint(endpoint, check_url=check_url)


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Give the endpoint a new signing secret; deliveries sent from now on are signed with it."""
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret_encrypted"])
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


def job_event_fanout(*, job: Job, event_type: str) -> list[WebhookDelivery]:
    """Record one delivery per interested endpoint; each is sent after commit, on the webhooks queue."""
    deliveries = []
    for endpoint in WebhookEndpoint.objects.filter(store_id=job.store_id, is_active=True):
        if not endpoint.wants(event_type):
            continue
        delivery = WebhookDelivery.objects.create(
            store_id=job.store_id, endpoint=endpoint, event_type=event_type, payload=job_payload(job, event_type)
        )
        outbox_enqueue(task=TASK_DELIVER, queue=QUEUE_WEBHOOKS, payload={"delivery_id": str(delivery.pk)})
        deliveries.append(delivery)
    return deliveries


def backoff_seconds(attempt: int) -> int:
    return min(2**attempt, 600)


@dataclass(frozen=True)
class _Claim:
    delivery: WebhookDelivery
    claim_id: uuid.UUID
    url: str


@dataclass(frozen=True)
class Deferred:
    """deliver() did not send now: the store has its share of deliveries in flight, or another worker is sending
    this one. Try again in ``seconds``."""

    seconds: float


def _claim_seconds() -> float:
    return settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT + CLAIM_MARGIN_SECONDS


def _claim(delivery_id) -> _Claim | Deferred | None:
    """One short transaction: take the delivery for one attempt, unless it is done, already being sent, or its
    store has WEBHOOK_MAX_IN_FLIGHT deliveries being sent."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return None
        if delivery.claimed_until and delivery.claimed_until > now:  # another worker is sending it
            return Deferred((delivery.claimed_until - now).total_seconds() + 1)
        _lock_store(_LOCK_IN_FLIGHT, delivery.store_id)
        in_flight = WebhookDelivery.objects.filter(
            store_id=delivery.store_id, status=WebhookDelivery.Status.PENDING, claimed_until__gt=now
        ).count()
        if in_flight >= settings.WEBHOOK_MAX_IN_FLIGHT:
            return Deferred(1.0)
        claim_id = uuid.uuid4()
        delivery.attempts += 1
        delivery.claim_id, delivery.claimed_until = claim_id, now + timedelta(seconds=_claim_seconds())
        delivery.save(update_fields=["attempts", "claim_id", "claimed_until"])
        return _Claim(delivery, claim_id, delivery.endpoint.url)


def _record(claim: _Claim, answer: webhook_http.Answer) -> bool:
    """One UPDATE: the attempt's outcome. A success is kept whoever sent it; a failure only by the claim's holder
    (a worker that lost its claim to another after a long stall does not overwrite that one's result)."""
    delivery = claim.delivery
    fields = {"last_status_code": answer.status, "claim_id": None, "claimed_until": None}
    if answer.ok:
        fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now(), last_error="")
    else:
        fields["last_error"] = answer.reason
        if delivery.attempts >= MAX_ATTEMPTS:
            fields["status"] = WebhookDelivery.Status.FAILED
    rows = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING)
    if not answer.ok:
        rows = rows.filter(claim_id=claim.claim_id)
    rows.update(**fields)
    return answer.ok


def deliver(delivery_id) -> bool | Deferred | None:
    """Send one delivery once. True: delivered; False: failed (retried later unless it gave up); a ``Deferred``:
    not sent now, try again after its seconds; None: nothing to do (delivered, given up or unknown)."""
    claim = _claim(delivery_id)
    if not isinstance(claim, _Claim):
        return claim
    delivery = claim.delivery
    try:
        secret = delivery.endpoint.secret
    except InvalidToken:  # encrypted with a key that is no longer configured: rotating the secret mends it
        log.error("webhook endpoint %s: its secret cannot be decrypted with WEBHOOK_SECRET_KEY", delivery.endpoint_id)
        return _record(claim, webhook_http.Answer(None, "signing secret unreadable"))
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": str(delivery.pk),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, str(delivery.pk), timestamp, body),
    }
    answer = webhook_http.post(claim.url, body, headers)  # outside any transaction: nothing is locked meanwhile
    return _record(claim, answer)


def retry_delay(delivery_id) -> int | None:
    """Seconds until a failed delivery's next attempt, or None when it gave up (or was delivered after all)."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING).first()
    return backoff_seconds(delivery.attempts) if delivery is not None else None
