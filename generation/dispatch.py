"""Turning a job row into the self-contained spec the GPU fleet runs, and sending it through the outbox."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalog import selectors as catalog
from core.outbox import outbox_enqueue
from generation.consent_records import job_consents
from generation.models import Job, JobState
from gpu_worker.spec import QUEUE_GPU, TASK_DETECT_FACES, TASK_RUN_JOB, validate_job_spec

ATTEMPT_LIMIT = 3


def job_output_prefix(job: Job) -> str:
    return f"stores/{job.store_id}/jobs/{job.pk}/"


def job_spec(job: Job, *, label: dict) -> dict:
    spec = {
        "job_id": str(job.pk),
        "store_id": job.store_id,
        "kind": job.kind,
        "inputs": job.input_keys,
        "params": job.params,
        "output_prefix": job_output_prefix(job),
        "attempt_limit": ATTEMPT_LIMIT,
        "attempts_before": job.attempts,  # the worker numbers its start above this (Redis may have lost its count)
        "label": label,
        "output": {"format": catalog.store_output_format(store=job.store)},
        "consents": job_consents(job),  # recorded in the output's content credential
    }
    return validate_job_spec(spec)


def enqueue_job(job: Job, *, label: dict) -> None:
    """Queue the job for the GPU fleet once the caller's transaction commits (the caller sets ``dispatched_at``)."""
    outbox_enqueue(task=TASK_RUN_JOB, queue=QUEUE_GPU, payload=job_spec(job, label=label))


def dispatch_job(job: Job, *, label: dict) -> None:
    """Queue an existing job again and record when."""
    enqueue_job(job, label=label)
    Job.objects.filter(pk=job.pk).update(dispatched_at=timezone.now())


def requeue_stale_jobs(*, older_than: timedelta, label_for) -> int:
    """Queue again every job still ``queued`` long after its last dispatch.

    The outbox guarantees the broker accepted the message; this covers a broker that lost it
    afterwards (a Redis restart without persistence). A duplicate run is harmless: outputs go
    to the same key and events are applied once.
    """
    cutoff = timezone.now() - older_than
    count = 0
    for job in Job.objects.filter(state=JobState.QUEUED, dispatched_at__lt=cutoff).select_related("store")[:100]:
        with transaction.atomic():
            dispatch_job(job, label=label_for(store=job.store))
        count += 1
    return count


def dispatch_face_detection(*, shot_id: int, image_key: str) -> None:
    outbox_enqueue(task=TASK_DETECT_FACES, queue=QUEUE_GPU, payload={"shot_id": str(shot_id), "image": image_key})
