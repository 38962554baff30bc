"""Worker events move jobs exactly once, in any order; stores hear about it through signed webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from catalog.models import ProductShot
from core import events
from generation import webhooks
from generation.models import JobState, WebhookDelivery, WebhookEndpoint
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import queued_job, shot_for
from tests.generation.receivers import Receiver

pytestmark = pytest.mark.django_db


def event(job, kind, attempt=1, **fields):
    suffix = f":{fields['progress']}" if kind == "progress" else ""
    return {
        "event_id": f"{job.pk}:{attempt}:{kind}{suffix}",
        "type": kind,
        "subject": str(job.pk),
        "attempt": attempt,
        "at": time.time(),
        **fields,
    }


@pytest.fixture
def job():
    return queued_job(MembershipFactory().store, kind="swap")


def test_redelivered_success_event_has_one_effect(job):
    endpoint = WebhookEndpoint.objects.create(
        store=job.store, url="https://example.com/h", secret=webhooks.new_secret()
    )
    done = event(job, "succeeded", outputs={"image": "stores/1/jobs/x/result.png"}, metrics={"run_s": 1.5})

    outcomes = [events.event_apply(done) for _ in range(10)]

    job.refresh_from_db()
    assert outcomes == ["applied"] + ["duplicate"] * 9
    assert job.state == JobState.SUCCEEDED and job.progress == 100 and job.outputs["image"].endswith("result.png")
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event_type="job.completed").count() == 1


def test_events_out_of_order_never_move_a_finished_job_back(job):
    events.event_apply(event(job, "succeeded", outputs={"image": "k"}))
    late_start = events.event_apply(event(job, "started"))
    late_progress = events.event_apply(event(job, "progress", progress=40))

    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED and job.progress == 100
    assert late_start.startswith("ignored") and late_progress.startswith("ignored")


def test_started_progress_failed_tells_the_reason(job):
    events.event_apply(event(job, "started"))
    events.event_apply(event(job, "progress", progress=50))
    events.event_apply(event(job, "failed", error={"code": "no_face", "message": "No face found in the target."}))

    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_code == "no_face" and "No face" in job.error_message
    assert job.started_at is not None and "queue_wait_s" in job.metrics


def test_events_for_a_canceled_job_are_ignored(job):
    from generation.services import job_cancel

    job_cancel(job=job)
    outcome = events.event_apply(event(job, "succeeded", outputs={"image": "k"}))

    job.refresh_from_db()
    assert outcome.startswith("ignored") and job.state == JobState.CANCELED and job.outputs == {}


def test_detected_faces_are_stored_on_the_shot():
    shot = shot_for(MembershipFactory().store)
    shot.faces_state = ProductShot.FacesState.PENDING
    shot.save()
    payload = {
        "event_id": f"shot-{shot.pk}:1",
        "type": "faces_detected",
        "subject": str(shot.pk),
        "at": time.time(),
        "faces": [{"box": [10, 20, 64, 64], "score": 1.2}],
    }

    events.event_apply(payload)

    shot.refresh_from_db()
    assert shot.faces_state == "ready" and shot.faces[0]["box"] == [10, 20, 64, 64]


def verify_standard_webhook(secret: str, headers: dict, body: bytes) -> bool:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return headers["webhook-signature"] == f"v1,{expected}"


def test_webhook_is_signed_retried_after_failure_and_logged(job):
    receiver = Receiver([500, 200])
    try:
        endpoint = WebhookEndpoint.objects.create(
            store=job.store, url=receiver.url, secret=webhooks.new_secret(), events=["job.completed"]
        )
        events.event_apply(event(job, "started"))  # not subscribed: no delivery
        events.event_apply(event(job, "succeeded", outputs={"image": "k"}))
        delivery = WebhookDelivery.objects.get()

        first, second = webhooks.deliver(delivery.pk), webhooks.deliver(delivery.pk)

        delivery.refresh_from_db()
        assert (first, second) == (False, True)
        assert delivery.status == "delivered" and delivery.attempts == 2 and delivery.last_status_code == 200
        headers, body = receiver.requests[-1]
        assert verify_standard_webhook(endpoint.secret, headers, body)
        assert headers["webhook-id"] == str(delivery.pk) == receiver.requests[0][0]["webhook-id"]
        assert json.loads(body)["data"]["id"] == str(job.pk) and json.loads(body)["type"] == "job.completed"
        assert webhooks.deliver(delivery.pk) is None  # delivered: never sent again
    finally:
        receiver.close()


def test_delivery_gives_up_after_max_attempts(job):
    endpoint = WebhookEndpoint.objects.create(
        store=job.store, url="http://127.0.0.1:9/nothing", secret=webhooks.new_secret()
    )
    delivery = WebhookDelivery.objects.create(store=job.store, endpoint=endpoint, event_type="job.failed", payload={})

    results = [webhooks.deliver(delivery.pk) for _ in range(webhooks.MAX_ATTEMPTS + 1)]

    delivery.refresh_from_db()
    assert results[: webhooks.MAX_ATTEMPTS] == [False] * webhooks.MAX_ATTEMPTS and results[-1] is None
    assert delivery.status == "failed" and delivery.last_error


def test_store_manages_webhooks_and_reads_the_delivery_log(client, job):
    owner = job.store.memberships.get()
    client.force_login(owner.user)

    created = client.post(
        "/api/v1/webhooks/",
        {"url": "https://shop.example/hooks", "events": ["job.completed"]},
        content_type="application/json",
    )
    rotated = client.post(f"/api/v1/webhooks/{created.json()['id']}/rotate-secret/")
    bad = client.post(
        "/api/v1/webhooks/", {"url": "ftp://x", "events": ["job.exploded"]}, content_type="application/json"
    )
    events.event_apply(event(job, "succeeded", outputs={"image": "k"}))
    log = client.get("/api/v1/webhook-deliveries/").json()["results"]

    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != created.json()["secret"]
    assert bad.status_code == 400 and {"url", "events"} <= set(bad.json()["errors"])
    assert [d["event_type"] for d in log] == ["job.completed"]
