"""The worker's events, sent to the events queue through broker blips.

Stale progress is worth little: progress and heartbeats get a short try and are dropped when the broker stays
away. An event that ends a job (``succeeded``/``failed``) is retried with backoff for up to
``GASANG_EVENT_RETRY_SECONDS`` (default 300 s), and the job's heartbeat keeps going meanwhile; should the
process die or give up first, the heartbeats stop, the job's lease runs out and the outbox relay queues it
again (generation/leases.py). The events worker applies each event id once, so a resend is harmless.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from gpu_worker.app import app
from gpu_worker.spec import QUEUE_EVENTS, TASK_APPLY_EVENT, event_id

log = logging.getLogger(__name__)

EVENT_RETRY_SECONDS = float(os.environ.get("GASANG_EVENT_RETRY_SECONDS") or 300)
HEARTBEAT_SECONDS = float(os.environ.get("GASANG_HEARTBEAT_SECONDS") or 15)
BRIEF_SECONDS = 1.0  # progress: one reconnect and a retry, then drop it
STARTED_SECONDS = 10.0  # a lost `started` is covered by the heartbeats, which also mark the job running
# kombu's own reconnect-and-resend for one call; the loop in send() spans longer outages.
SEND_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
MAX_BACKOFF = 2.0  # a returning broker is found within 2 s


def event(event_type: str, subject: str, attempt: int, **fields) -> dict:
    number = fields["progress"] if event_type == "progress" else None
    return {
        "event_id": event_id(event_type, subject, attempt, number=number),
        "type": event_type,
        "subject": subject,
        "attempt": attempt,
        "at": time.time(),
        **fields,
    }


def send(payload: dict, patience: float) -> bool:
    """Publish ``payload``, retrying with backoff for up to ``patience`` seconds; False when it never went."""
    deadline = time.monotonic() + patience
    delay, tries = 0.25, 0
    while True:
        tries += 1
        try:
            app.send_task(
                TASK_APPLY_EVENT, args=[payload], queue=QUEUE_EVENTS, retry=True, retry_policy=SEND_RETRY_POLICY
            )
        except Exception as exc:  # broker down or restarting: any kombu/redis/socket error
            left = deadline - time.monotonic()
            if left <= 0:
                level = logging.ERROR if patience > STARTED_SECONDS else logging.WARNING
                log.log(level, "event %s not sent in %.0f s (%d tries): %s", payload["event_id"], patience, tries, exc)
                return False
            if tries == 1:
                log.warning("event %s not sent yet (%s); retrying for up to %.0f s", payload["event_id"], exc, left)
            time.sleep(min(delay, left))
            delay = min(delay * 2, MAX_BACKOFF)
            continue
        if tries > 1:
            log.warning("event %s sent after %d tries", payload["event_id"], tries)
        return True


def publish(event_type: str, subject: str, attempt: int, *, patience: float = BRIEF_SECONDS, **fields) -> bool:
    """Best effort: for progress and other events whose loss something else covers. Never raises."""
    return send(event(event_type, subject, attempt, **fields), patience)


def publish_final(event_type: str, subject: str, attempt: int, **fields) -> bool:
    """An event that ends a job or a detection: kept and retried for ``EVENT_RETRY_SECONDS``. Never raises."""
    return send(event(event_type, subject, attempt, **fields), EVENT_RETRY_SECONDS)


class Heartbeat:
    """While open, a thread sends ``heartbeat`` events for the job every ``HEARTBEAT_SECONDS``."""

    def __init__(self, job_id: str, attempt: int, every: float | None = None) -> None:
        self.job_id, self.attempt = job_id, attempt
        self.every = every or HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(self.every + 5)

    def _beat(self) -> None:
        number = 0
        while not self._stop.wait(self.every):
            number += 1
            payload = event("heartbeat", self.job_id, self.attempt)
            payload["event_id"] = event_id("heartbeat", self.job_id, self.attempt, number=number)
            send(payload, patience=min(self.every, 5.0))
