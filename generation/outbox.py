"""Transactional outbox: write the message with the data, publish after commit, retry until accepted."""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from generation.models import OutboxMessage

log = logging.getLogger(__name__)


def outbox_enqueue(*, task: str, queue: str, payload: dict) -> OutboxMessage:
    """Record a message inside the caller's transaction; it is published right after commit."""
    message = OutboxMessage.objects.create(task=task, queue=queue, payload=payload)
    transaction.on_commit(lambda: publish_one(message.pk))
    return message


def _publish(message: OutboxMessage) -> None:
    # A job's task id is the job id, so a cancel can revoke it on every worker.
    task_id = message.payload.get("job_id")
    current_app.send_task(
        message.task,
        args=[message.payload],
        task_id=task_id,
        queue=message.queue,
        retry=False,
        ignore_result=True,
    )


def publish_one(message_id: int) -> bool:
    """Publish one message if still unpublished. Returns True when the broker accepted it.

    The row lock keeps the request's fast path and the relay from sending it twice.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, published_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        try:
            _publish(message)
        except Exception as exc:  # broker down or unreachable: the relay will try again
            message.publish_attempts += 1
            message.last_error = f"{type(exc).__name__}: {exc}"[:300]
            message.save(update_fields=["publish_attempts", "last_error"])
            log.warning("outbox message %s not published yet: %s", message.pk, message.last_error)
            return False
        message.published_at = timezone.now()
        message.publish_attempts += 1
        message.save(update_fields=["published_at", "publish_attempts"])
        return True


def relay_pending(limit: int = 500) -> int:
    """Publish the oldest unpublished messages; returns how many went out. Stops at the first failure."""
    sent = 0
    pending = OutboxMessage.objects.filter(published_at__isnull=True).order_by("id")
    ids = list(pending.values_list("id", flat=True)[:limit])
    for message_id in ids:
        if not publish_one(message_id):
            if OutboxMessage.objects.filter(pk=message_id, published_at__isnull=True).exists():
                break  # broker still down; keep order and try later
            continue
        sent += 1
    return sent
