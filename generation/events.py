"""The GPU fleet's job events (started, progress, heartbeat, succeeded, failed): what each does to a job.

Dispatched, exactly once each, by ``core.events.event_apply``; registered in GenerationConfig.ready."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models.functions import Greatest
from django.utils import timezone

from billing import services as billing
from core.events import event_handler_register
from generation.models import Job, JobState
from generation.screening import job_screen
from generation.webhooks import job_event_fanout

log = logging.getLogger(__name__)


def lease_until() -> datetime:
    """When a running job's lease ends if nothing more is heard from its worker."""
    return timezone.now() + timedelta(seconds=settings.JOB_LEASE_SECONDS)


def _apply_heartbeat(event: dict) -> str:
    """Renew the lease of a job that is not finished (its worker lives). Not recorded: applying it twice is harmless.

    A job still ``queued`` (its ``started`` event was lost, or the relay re-queued it meanwhile) is running again.
    """
    renewed = Job.objects.filter(pk=event["subject"], state__in=[JobState.QUEUED, JobState.RUNNING]).update(
        state=JobState.RUNNING,
        lease_expires_at=lease_until(),
        attempts=Greatest("attempts", int(event.get("attempt") or 1)),
        updated_at=timezone.now(),
    )
    return "applied" if renewed else "ignored: job not active"


def job_mark_failed(
    *, job: Job, code: str, message: str, at: datetime, metrics: dict | None = None, input_role: str | None = None
) -> None:
    """End a locked, unfinished job as ``failed`` with a reason: credits released, webhooks fanned out.

    ``input_role``: the engine role of the input at fault ("face_1", "parent_b", ...), when the worker named one.
    """
    job.state, job.finished_at, job.lease_expires_at = JobState.FAILED, at, None
    job.error_code = str(code or "internal_error")[:40]
    job.error_message = str(message or "The job failed.")[:500]
    job.error_input = str(input_role or "")[:40]
    job.metrics = {**job.metrics, **(metrics or {})}
    job.save()
    billing.credits_release(job=job)
    job_event_fanout(job=job, event_type="job.failed")


def _on_active_job(apply: Callable[[Job, dict], None]) -> Callable[[dict], str]:
    """The handler for an event about a job: ``apply(job, event)`` on the locked job unless it is gone or finished."""

    def handler(event: dict) -> str:
        job = Job.objects.select_for_update().filter(pk=event["subject"]).first()
        if job is None:
            return "ignored: unknown job"
        if job.is_terminal:
            return f"ignored: job already {job.state}"
        apply(job, event)
        return "applied"

    return handler


def _at(event: dict) -> datetime:
    return datetime.fromtimestamp(event["at"], tz=UTC)


@_on_active_job
def _apply_started(job: Job, event: dict) -> None:
    at = _at(event)
    job.state, job.lease_expires_at = JobState.RUNNING, lease_until()
    job.attempts = max(job.attempts, int(event.get("attempt", 1)))
    if job.started_at is None:
        job.started_at = at
        job.metrics = {**job.metrics, "queue_wait_s": round((at - job.created_at).total_seconds(), 3)}
    job.save()
    if job.attempts == 1:
        job_event_fanout(job=job, event_type="job.started")


@_on_active_job
def _apply_progress(job: Job, event: dict) -> None:
    job.state, job.lease_expires_at = JobState.RUNNING, lease_until()
    job.progress = max(job.progress, min(99, int(event.get("progress", 0))))
    job.save(update_fields=["state", "progress", "lease_expires_at", "updated_at"])


@_on_active_job
def _apply_succeeded(job: Job, event: dict) -> None:
    at = _at(event)
    job.state, job.progress, job.finished_at, job.lease_expires_at = JobState.SUCCEEDED, 100, at, None
    job.outputs = event.get("outputs") or {}
    job.metrics = {**job.metrics, **(event.get("metrics") or {})}
    job_screen(job)  # generate_face: never a real person (generation/screening.py)
    if job.started_at is None:
        job.started_at = at
    job.save()
    billing.credits_capture(job=job)
    job_event_fanout(job=job, event_type="job.completed")


@_on_active_job
def _apply_failed(job: Job, event: dict) -> None:
    error = event.get("error") or {}
    role = error.get("input") if isinstance(error.get("input"), str) else None
    job_mark_failed(job=job, code=error.get("code"), message=error.get("message"), at=_at(event),
                    metrics=event.get("metrics"), input_role=role)


def job_event_handlers_register() -> None:
    """Route the job events to this module (GenerationConfig.ready); ``core.events`` dedupes and dispatches."""
    event_handler_register(event_type="heartbeat", handler=_apply_heartbeat, once=False)
    event_handler_register(event_type="started", handler=_apply_started)
    event_handler_register(event_type="progress", handler=_apply_progress)
    event_handler_register(event_type="succeeded", handler=_apply_succeeded)
    event_handler_register(event_type="failed", handler=_apply_failed)
