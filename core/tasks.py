"""The event-applying task: thin, it calls ``core.events.event_apply`` (safe to run twice)."""

from __future__ import annotations

from celery import shared_task

from core import events
from gpu_worker.spec import TASK_APPLY_EVENT


@shared_task(name=TASK_APPLY_EVENT, acks_late=True, time_limit=60)
def apply_event(event: dict) -> str:
    return events.event_apply(event)
