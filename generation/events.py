"""Applying the GPU fleet's events to jobs and product shots, exactly once each."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Greatest
from django.utils import timezone

from billing import services as billing
from catalog.models import ProductShot
from generation.models import AppliedEvent, Job, JobState
from generation.webhooks import job_event_fanout
from gpu_worker.spec import validate_event

log = logging.getLogger(__name__)


def _mark_applied(event_id: str) -> bool:
    """Record the event id; False when it was applied before (a redelivery)."""
    try:
        with transaction.atomic():
            AppliedEvent.objects.create(event_id=event_id)
    except IntegrityError:
        return False
    return True


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


def job_mark_failed(job: Job, *, code: str, message: str, at: datetime, metrics: dict | None = None) -> None:
    """End a locked, unfinished job as ``failed`` with a reason: credits released, webhooks fanned out."""
    job.state, job.finished_at, job.lease_expires_at = JobState.FAILED, at, None
    job.error_code = str(code or "internal_error")[:40]
    job.error_message = str(message or "The job failed.")[:500]
    job.metrics = {**job.metrics, **(metrics or {})}
    job.save()
    billing.credits_release(job=job)
    job_event_fanout(job, "job.failed")


@transaction.atomic
def event_apply(event: dict) -> str:
    """Apply one event; returns what happened ("applied", "duplicate", "ignored: <why>")."""
    event = validate_event(event)
    if event["type"] == "heartbeat":
        return _apply_heartbeat(event)
    if not _mark_applied(event["event_id"]):
        return "duplicate"
    if event["type"] == "faces_detected":
        return _apply_faces(event)
    job = Job.objects.select_for_update().filter(pk=event["subject"]).first()
    if job is None:
        return "ignored: unknown job"
    if job.is_terminal:
        return f"ignored: job already {job.state}"
    at = datetime.fromtimestamp(event["at"], tz=UTC)
    kind = event["type"]
    if kind == "started":
        job.state, job.lease_expires_at = JobState.RUNNING, lease_until()
        job.attempts = max(job.attempts, int(event.get("attempt", 1)))
        if job.started_at is None:
            job.started_at = at
            job.metrics = {**job.metrics, "queue_wait_s": round((at - job.created_at).total_seconds(), 3)}
        job.save()
        if job.attempts == 1:
            job_event_fanout(job, "job.started")
    elif kind == "progress":
        job.state, job.lease_expires_at = JobState.RUNNING, lease_until()
        job.progress = max(job.progress, min(99, int(event.get("progress", 0))))
        job.save(update_fields=["state", "progress", "lease_expires_at", "updated_at"])
    elif kind == "succeeded":
        job.state, job.progress, job.finished_at, job.lease_expires_at = JobState.SUCCEEDED, 100, at, None
        job.outputs = event.get("outputs") or {}
        job.metrics = {**job.metrics, **(event.get("metrics") or {})}
        if job.started_at is None:
            job.started_at = at
        job.save()
        billing.credits_capture(job=job)
        job_event_fanout(job, "job.completed")
    elif kind == "failed":
        error = event.get("error") or {}
        job_mark_failed(job, code=error.get("code"), message=error.get("message"), at=at, metrics=event.get("metrics"))
    return "applied"


def _apply_faces(event: dict) -> str:
    shot = ProductShot.objects.select_for_update().filter(pk=event["subject"]).first()
    if shot is None:
        return "ignored: unknown shot"
    if event.get("error"):
        shot.faces_state = ProductShot.FacesState.FAILED
        shot.faces = []
    else:
        shot.faces_state = ProductShot.FacesState.READY
        shot.faces = event.get("faces") or []
    shot.save(update_fields=["faces", "faces_state"])
    return "applied"
