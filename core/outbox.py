"""Transactional outbox: write the message with the data; the relay publishes it once committed.

On PostgreSQL a trigger on the outbox table sends ``NOTIFY gasang_outbox`` when the inserting transaction
commits, and the relay, which LISTENs, publishes at once, in batches: the request itself never talks to the
broker. Elsewhere (SQLite in embedded mode, no NOTIFY) the request publishes right after commit and the relay
picks up whatever that missed.
"""

from __future__ import annotations

import contextlib
import logging
import select
import time
from datetime import timedelta

from celery import current_app
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.models import OutboxMessage

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "gasang_outbox"
# Without NOTIFY: how long a fresh message is left to the request's own publish before the relay takes it.
RELAY_GRACE = timedelta(seconds=5)
# After a wake-up the relay waits this long before reading the outbox: under load it then publishes many
# messages per transaction instead of one (a few ms of latency for a large cut in relay and database work).
GATHER_SECONDS = 0.025


def database_notifies() -> bool:
    """True when committed outbox rows wake the relay (the PostgreSQL trigger of migration 0004)."""
    return connection.vendor == "postgresql"


def outbox_enqueue(*, task: str, queue: str, payload: dict) -> OutboxMessage:
    """Record a message inside the caller's transaction; it goes to the broker once that commits."""
    message = OutboxMessage.objects.create(task=task, queue=queue, payload=payload)
    if not database_notifies():
        transaction.on_commit(lambda: _publish_after_commit(message))
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


def _record_failure(message_ids: list[int], exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:300]
    OutboxMessage.objects.filter(pk__in=message_ids, published_at__isnull=True).update(
        publish_attempts=F("publish_attempts") + 1, last_error=error
    )
    log.warning("outbox message(s) %s not published yet: %s", message_ids, error)


def _publish_after_commit(message: OutboxMessage) -> None:
    """The request's own publish where the database cannot notify the relay: no lock, one UPDATE.

    The relay leaves messages younger than ``RELAY_GRACE`` to this path; should both ever send one, the
    duplicate is harmless (a job's outputs go to the same keys and its events are applied once).
    """
    try:
        _publish(message)
    except Exception as exc:  # broker down or unreachable: the relay will try again
        _record_failure([message.pk], exc)
        return
    OutboxMessage.objects.filter(pk=message.pk, published_at__isnull=True).update(
        published_at=timezone.now(), publish_attempts=F("publish_attempts") + 1
    )


def relay_pending(limit: int = 500, batch: int = 100) -> int:
    """Publish the oldest unpublished messages, a locked batch at a time; returns how many went out.

    Stops at the first failure (the broker is still down) so that messages keep their order. The row locks
    (SKIP LOCKED) let several relays run side by side without sending a message twice.
    """
    sent = 0
    pending = OutboxMessage.objects.filter(published_at__isnull=True)
    if not database_notifies():
        pending = pending.filter(created_at__lt=timezone.now() - RELAY_GRACE)
    while sent < limit:
        with transaction.atomic():
            messages = list(pending.select_for_update(skip_locked=True).order_by("id")[: min(batch, limit - sent)])
            if not messages:
                return sent
            published = []
            failure = None
            for message in messages:
                try:
                    _publish(message)
                except Exception as exc:  # broker down or unreachable: keep order, try again later
                    failure = (message, exc)
                    break
                published.append(message.pk)
            if published:
                OutboxMessage.objects.filter(pk__in=published).update(
                    published_at=timezone.now(), publish_attempts=F("publish_attempts") + 1
                )
            sent += len(published)
            if failure:
                _record_failure([failure[0].pk], failure[1])
                return sent
        if len(messages) < batch:
            return sent  # the outbox is drained (or the rest is locked by another relay)
    return sent


class RelayWakeups:
    """Waits until a transaction that wrote outbox rows commits (PostgreSQL NOTIFY), or a timeout passes.

    Uses its own connection, opened on first use and opened again after any error (a database restart), so
    the relay's query connection can come and go. Without NOTIFY it simply sleeps.
    """

    def __init__(self) -> None:
        self._listener = None

    def wait(self, timeout: float) -> bool:
        """True when woken by a notification, False on timeout."""
        if not database_notifies():
            time.sleep(timeout)
            return False
        try:
            listener = self._listener or self._listen()
            if not select.select([listener], [], [], timeout)[0]:
                return False
            time.sleep(GATHER_SECONDS)  # let the commits of a busy moment arrive, to publish them as one batch
            listener.poll()
            listener.notifies.clear()
            return True
        except Exception as exc:  # the database went away: poll meanwhile and listen again next time
            log.warning("outbox relay not listening (%s); polling every %.1f s", exc, timeout)
            self.close()
            time.sleep(timeout)
            return False

    def _listen(self):
        listener = connection.get_new_connection(connection.get_connection_params())
        listener.autocommit = True
        with listener.cursor() as cursor:
            cursor.execute(f"LISTEN {NOTIFY_CHANNEL}")
        self._listener = listener
        return listener

    def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.close()
        self._listener = None
