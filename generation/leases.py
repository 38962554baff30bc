"""Every accepted job ends: the outbox relay's sweeps for jobs whose worker or broker vanished.

- **Leases.** A running job's lease (``Job.lease_expires_at``) is renewed by its GPU worker's events: ``started``,
  ``progress`` and a ``heartbeat`` every ``GASANG_HEARTBEAT_SECONDS`` (15 s), for ``JOB_LEASE_SECONDS`` (120 s).
  A job whose lease ran out (its worker was killed, lost its broker for good, or gave up sending) is queued again;
  after ``ATTEMPT_LIMIT`` starts it fails with ``too_many_attempts``.
- **A broker that lost its data.** The relay keeps a marker key in Redis and its value in the database
  (``core.models.BrokerMarker``, checked by core/broker_marker.py). When the key is gone, or holds a value the
  database does not remember (an older snapshot), Redis lost what it held: every job still ``queued`` is queued
  again at once, rather than after ``relay_outbox --requeue-after``.

A job run twice is harmless: outputs go to the same key and events are applied once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.broker_marker import broker_lost_data
from generation.dispatch import ATTEMPT_LIMIT, dispatch_job
from generation.events import job_mark_failed
from generation.models import Job, JobState

log = logging.getLogger(__name__)

SWEEP_BATCH = 100


def _expired(now) -> Q:
    # A row from before leases existed has none: its last update stands in for the last sign of life.
    stale = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    return Q(lease_expires_at__lt=now) | Q(lease_expires_at__isnull=True, updated_at__lt=stale)


def sweep_expired_leases(*, label_for) -> tuple[int, int]:
    """Queue again the running jobs whose lease ran out, or fail those already started ``ATTEMPT_LIMIT`` times.

    Returns (queued again, failed). Rows locked elsewhere (an event being applied) are left to the next sweep.
    """
    now = timezone.now()
    ids = list(Job.objects.filter(_expired(now), state=JobState.RUNNING).values_list("pk", flat=True)[:SWEEP_BATCH])
    requeued = failed = 0
    for job_id in ids:
        with transaction.atomic():
            job = (
                Job.objects.select_for_update(skip_locked=True)
                .filter(_expired(now), pk=job_id, state=JobState.RUNNING)
                .first()
            )
            if job is None:
                continue
            lease = timedelta(seconds=settings.JOB_LEASE_SECONDS)
            heard = job.lease_expires_at - lease if job.lease_expires_at else job.updated_at
            silent = round((now - heard).total_seconds())
            if job.attempts >= ATTEMPT_LIMIT:
                message = (f"The worker stopped responding during this job {job.attempts} times "
                           f"(nothing heard for {silent} s the last time); giving up.")
                job_mark_failed(job=job, code="too_many_attempts", message=message, at=now)
                failed += 1
                continue
            job.state, job.lease_expires_at = JobState.QUEUED, None
            job.save(update_fields=["state", "lease_expires_at", "updated_at"])
            dispatch_job(job, label=label_for(store=job.store))
            requeued += 1
            log.warning("job %s: no word from its worker for %d s (attempt %d); queued again", job.pk, silent,
                        job.attempts)
    return requeued, failed


def requeue_after_broker_loss(*, label_for) -> int:
    """Queue again every job that was ``queued`` when the broker lost its data; returns how many."""
    cutoff, total = timezone.now(), 0
    while True:
        jobs = list(
            Job.objects.filter(state=JobState.QUEUED, dispatched_at__lt=cutoff).select_related("store")[:SWEEP_BATCH]
        )
        for job in jobs:  # dispatched again now, so after the cutoff: each job once
            with transaction.atomic():
                dispatch_job(job, label=label_for(store=job.store))
        total += len(jobs)
        if len(jobs) < SWEEP_BATCH:
            return total


def sweep(*, label_for) -> dict[str, int]:
    """One pass of both sweeps (the relay runs it every few seconds); returns what it did."""
    done = {"requeued_lost": 0, "requeued_leases": 0, "failed_leases": 0}
    try:
        lost = broker_lost_data()
    except Exception as exc:  # Redis down: the relay's publishing notices that too; check again next pass
        log.info("broker marker not checked: %s", exc)
        lost = False
    if lost:
        done["requeued_lost"] = requeue_after_broker_loss(label_for=label_for)
        log.warning("the broker lost its data (a Redis restart without persistence?); queued %d job(s) again",
                    done["requeued_lost"])
    done["requeued_leases"], done["failed_leases"] = sweep_expired_leases(label_for=label_for)
    return done
