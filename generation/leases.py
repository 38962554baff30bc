"""Every accepted job ends: the outbox relay's sweeps for jobs whose worker or broker vanished.

- **Leases.** A running job's lease (``Job.lease_expires_at``) is renewed by its GPU worker's events: ``started``,
  ``progress`` and a ``heartbeat`` every ``GASANG_HEARTBEAT_SECONDS`` (15 s), for ``JOB_LEASE_SECONDS`` (120 s).
  A job whose lease ran out (its worker was killed, lost its broker for good, or gave up sending) is queued again;
  after ``ATTEMPT_LIMIT`` starts it fails with ``too_many_attempts``.
- **A broker that lost its data.** The relay keeps a marker key in Redis and its value in the database
  (``BrokerMarker``). When the key is gone, or holds a value the database does not remember (an older
  snapshot), Redis lost what it held: every job still ``queued`` is queued again at once, rather than after
  ``relay_outbox --requeue-after``.

A job run twice is harmless: outputs go to the same key and events are applied once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from generation.dispatch import ATTEMPT_LIMIT, dispatch_job
from generation.events import job_mark_failed
from generation.models import BrokerMarker, Job, JobState

log = logging.getLogger(__name__)

MARKER_KEY = "gasang:broker-marker"
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
                job_mark_failed(job, code="too_many_attempts", message=message, at=now)
                failed += 1
                continue
            job.state, job.lease_expires_at = JobState.QUEUED, None
            job.save(update_fields=["state", "lease_expires_at", "updated_at"])
            dispatch_job(job, label=label_for(job.store))
            requeued += 1
            log.warning("job %s: no word from its worker for %d s (attempt %d); queued again", job.pk, silent,
                        job.attempts)
    return requeued, failed


# ---- a broker that lost its data ---------------------------------------------------------------------------

_clients: dict[str, object] = {}


def _redis():
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None  # the embedded filesystem broker keeps its messages on disk
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
    return _clients[url]


def broker_lost_data() -> bool:
    """Check the marker key; True when Redis lost its data since the last check (of any relay)."""
    client = _redis()
    if client is None:
        return False
    key = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "") + MARKER_KEY
    try:
        with transaction.atomic():
            marker = BrokerMarker.objects.select_for_update().filter(name="redis").first()
            current = client.get(key)
            if marker is not None and current is not None and current.decode() == marker.value:
                return False
            if current is None:
                client.set(key, uuid.uuid4().hex, nx=True)
                value = client.get(key).decode()
            else:
                value = current.decode()  # first check ever, or Redis came back from an older snapshot
            lost = marker is not None
            BrokerMarker.objects.update_or_create(name="redis", defaults={"value": value})
    except IntegrityError:  # two relays made the first marker at once: the other one's stands
        return False
    return lost


def requeue_after_broker_loss(*, label_for) -> int:
    """Queue again every job that was ``queued`` when the broker lost its data; returns how many."""
    cutoff, total = timezone.now(), 0
    while True:
        jobs = list(Job.objects.filter(state=JobState.QUEUED, dispatched_at__lt=cutoff)[:SWEEP_BATCH])
        for job in jobs:  # dispatched again now, so after the cutoff: each job once
            with transaction.atomic():
                dispatch_job(job, label=label_for(job.store))
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
