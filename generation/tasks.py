"""Celery tasks of the Django side. Thin: they call services and are safe to run twice."""

from __future__ import annotations

import random

from celery import shared_task

from generation import webhooks


@shared_task(name=webhooks.TASK_DELIVER, bind=True, acks_late=True, time_limit=60, max_retries=None)
def deliver_webhook(self, payload: dict) -> None:
    """On the ``webhooks`` queue (its own worker). Attempts are counted on the delivery row, not by Celery: a
    delivery deferred by the store's in-flight cap waits without using one."""
    delivery_id = payload["delivery_id"]
    outcome = webhooks.deliver(delivery_id)
    if isinstance(outcome, webhooks.Deferred):
        raise self.retry(countdown=outcome.seconds + random.uniform(0, 1))
    if outcome is False:
        delay = webhooks.retry_delay(delivery_id)
        if delay is not None:
            raise self.retry(countdown=delay)
