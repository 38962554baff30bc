"""One store's slow webhook endpoints never hold up job state changes, its own other deliveries or other stores.

Deliveries go on the ``webhooks`` queue, consumed only by the webhooks worker; the events worker never makes a
network call. No row lock or transaction is held while an endpoint answers. ``bench/webhook_isolation.py``
measures the latency of another store's job with eight endpoints that answer in 4.5 s.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections
from django.test import override_settings

from config import processes
from config.celery_app import app
from core import events, objectstore
from core.models import OutboxMessage
from generation import webhooks
from generation.models import Job, JobState, WebhookDelivery, WebhookEndpoint
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import queued_job, shot_for
from tests.generation.photos import astronaut, jpeg_bytes
from tests.generation.receivers import Receiver
from tests.generation.test_events_and_webhooks import event
from tests.stack import Stack, stack_env, wait_until


def endpoint_for(store, url, **fields):
    return WebhookEndpoint.objects.create(store=store, url=url, secret=webhooks.new_secret(), **fields)


def queue_option(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


@pytest.mark.django_db
def test_deliveries_go_to_the_webhooks_queue_which_the_events_worker_does_not_consume():
    store = MembershipFactory().store
    endpoint_for(store, "https://hooks.shop.example/in")
    job = queued_job(store)

    events.event_apply(event(job, "started"))

    message = OutboxMessage.objects.get(task=webhooks.TASK_DELIVER)
    assert message.queue == "webhooks"
    assert app.amqp.router.route({}, webhooks.TASK_DELIVER)["queue"].name == "webhooks"  # retries too
    assert queue_option(processes.webhooks_worker("w")) == {"webhooks"}
    assert "webhooks" not in queue_option(processes.events_worker("e"))


def _row_locked(delivery_id) -> bool:
    """From a connection of its own: is the delivery's row locked by someone else right now?"""
    try:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT id FROM generation_webhookdelivery WHERE id = %s FOR UPDATE NOWAIT", [delivery_id])
            cursor.execute("ROLLBACK")
        return False
    except OperationalError:
        return True
    finally:
        connection.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_no_row_lock_is_held_while_the_endpoint_answers():
    seen = []
    delivery_id = []
    receiver = Receiver(on_request=lambda path: seen.append(_row_locked(delivery_id[0])))
    try:
        store = MembershipFactory().store
        delivery = WebhookDelivery.objects.create(
            store=store, endpoint=endpoint_for(store, receiver.url), event_type="job.started", payload={}
        )
        delivery_id.append(str(delivery.pk))

        assert webhooks.deliver(delivery.pk) is True
        assert seen == [False]
    finally:
        receiver.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@override_settings(WEBHOOK_MAX_IN_FLIGHT=1)
def test_deliveries_beyond_the_stores_in_flight_cap_wait_and_other_stores_are_not_held():
    receiver = Receiver(hold=True, hold_seconds=30)
    quick = Receiver()
    try:
        busy = MembershipFactory().store
        first, second = (
            WebhookDelivery.objects.create(store=busy, endpoint=endpoint_for(busy, receiver.url),
                                           event_type="job.started", payload={})
            for _ in range(2)
        )
        other = MembershipFactory().store
        elsewhere = WebhookDelivery.objects.create(
            store=other, endpoint=endpoint_for(other, quick.url), event_type="job.started", payload={}
        )
        outcome = []

        def send_first():
            try:
                outcome.append(webhooks.deliver(first.pk))
            finally:
                connections.close_all()

        sender = threading.Thread(target=send_first)
        sender.start()
        wait_until(lambda: receiver.requests, 10, "the first delivery to reach its endpoint", interval=0.02)

        waiting = webhooks.deliver(second.pk)
        other_store = webhooks.deliver(elsewhere.pk)
        receiver.release()
        sender.join(30)
        after = webhooks.deliver(second.pk)

        assert isinstance(waiting, webhooks.Deferred) and other_store is True
        assert outcome == [True] and after is True and len(receiver.requests) == 2
        second.refresh_from_db()
        assert second.status == "delivered" and second.attempts == 1  # waiting did not use up an attempt
    finally:
        receiver.close()
        quick.close()


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_stores_slow_endpoints_do_not_delay_another_stores_job(client, s3_server, s3_bucket, services, tmp_path):
    """Store B's eight endpoints hold every request unanswered; store A's job still runs to ``succeeded`` through
    the real GPU, events and webhooks workers while none of B's deliveries has an answer yet."""
    if not services.redis_url or not services.database_url:
        pytest.skip("the worker stack needs PostgreSQL and Redis")
    slow = Receiver(hold=True, hold_seconds=150)
    # The read timeout outlasts the test, so B's deliveries cannot end before the receiver answers them.
    stack = Stack(env={**stack_env(s3_server, s3_bucket), "WEBHOOK_READ_TIMEOUT": "150"}, log_dir=tmp_path)
    try:
        for name in ("gpu", "events", "webhooks", "relay"):
            stack.start(name)
        store_b = MembershipFactory().store
        for number in range(8):
            endpoint_for(store_b, f"{slow.url}/{number}")
        events.event_apply(event(queued_job(store_b, kind="restore"), "started"))  # 8 deliveries
        wait_until(lambda: slow.requests, 90, "store B's deliveries to reach its slow endpoints")

        owner_a = MembershipFactory()
        client.force_login(owner_a.user)
        key = objectstore.put_bytes(f"stores/{owner_a.store.pk}/shots/look.jpg", jpeg_bytes(astronaut()))
        shot = shot_for(owner_a.store, key)
        created = client.post("/api/v1/jobs/", {"kind": "restore", "inputs": {"product_shot": shot.pk}},
                              content_type="application/json")
        assert created.status_code == 201, created.content
        job = wait_until(lambda: Job.objects.filter(pk=created.json()["id"], state__in=["succeeded", "failed"])
                         .first(), 120, "store A's job to finish")
        unanswered = slow.answered == 0 and not WebhookDelivery.objects.filter(store=store_b).exclude(
            last_error="", last_status_code=None).exists()
        in_flight = len(slow.requests)

        slow.release()
        delivered = wait_until(
            lambda: WebhookDelivery.objects.filter(store=store_b, status="delivered").count() == 8 or None,
            90, "all of store B's deliveries, the deferred ones included",
        )
    finally:
        slow.close()
        stack.stop()
        for name in ("events", "webhooks"):
            print(f"----- {name} log -----\n{stack.log(name)[-3000:]}")

    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message)
    assert unanswered and 1 <= in_flight <= 4  # B had deliveries in flight (at most its cap), none answered
    assert delivered and sorted(slow.paths) == sorted(f"/hooks/{n}" for n in range(8))
