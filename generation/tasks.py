"""Celery tasks of the Django side. Thin: they call services and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from generation import events, webhooks
from gpu_worker.spec import TASK_APPLY_EVENT


@shared_task(name=TASK_APPLY_EVENT, acks_late=True, time_limit=60)
def apply_event(event: dict) -> str:
    return events.event_apply(event)


@shared_task(name=webhooks.TASK_DELIVER, bind=True, acks_late=True, time_limit=60, max_retries=webhooks.MAX_ATTEMPTS)
def deliver_webhook(self, payload: dict) -> None:
    delivered = webhooks.deliver(payload["delivery_id"])
    if delivered is False:
        attempt = self.request.retries + 1
        if attempt < webhooks.MAX_ATTEMPTS:
            raise self.retry(countdown=webhooks.backoff_seconds(attempt))
