"""Applying the GPU fleet's events to jobs and product shots, exactly once each."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.db import IntegrityError, transaction

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


@transaction.atomic
def event_apply(event: dict) -> str:
    """Apply one event; returns what happened ("applied", "duplicate", "ignored: <why>")."""
    event = validate_event(event)
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
        job.state = JobState.RUNNING
        job.attempts = max(job.attempts, int(event.get("attempt", 1)))
        if job.started_at is None:
            job.started_at = at
            job.metrics = {**job.metrics, "queue_wait_s": round((at - job.created_at).total_seconds(), 3)}
        job.save()
        if job.attempts == 1:
            job_event_fanout(job, "job.started")
    elif kind == "progress":
        job.state = JobState.RUNNING
        job.progress = max(job.progress, min(99, int(event.get("progress", 0))))
        job.save(update_fields=["state", "progress", "updated_at"])
    elif kind == "succeeded":
        job.state, job.progress, job.finished_at = JobState.SUCCEEDED, 100, at
        job.outputs = event.get("outputs") or {}
        job.metrics = {**job.metrics, **(event.get("metrics") or {})}
        if job.started_at is None:
            job.started_at = at
        job.save()
        billing.credits_capture(job=job)
        job_event_fanout(job, "job.completed")
    elif kind == "failed":
        error = event.get("error") or {}
        job.state, job.finished_at = JobState.FAILED, at
        job.error_code = str(error.get("code") or "internal_error")[:40]
        job.error_message = str(error.get("message") or "The job failed.")[:500]
        job.metrics = {**job.metrics, **(event.get("metrics") or {})}
        job.save()
        billing.credits_release(job=job)
        job_event_fanout(job, "job.failed")
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
