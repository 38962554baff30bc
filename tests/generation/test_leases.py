"""Every accepted job ends: a running job whose worker went silent is queued again (and fails with a reason after
three starts); jobs queued into a Redis that lost its data are queued again at once. The clock is pinned."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from core import events
from core.broker_marker import MARKER_KEY
from core.models import OutboxMessage
from generation.models import Job, JobState
from gpu_worker.spec import TASK_RUN_JOB
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import queued_job

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def worker_event(job, kind, attempt=1, number=0, **fields):
    event_id = f"{job.pk}:{attempt}:{kind}" + (f":{number}" if kind == "heartbeat" else "")
    return {"event_id": event_id, "type": kind, "subject": str(job.pk), "attempt": attempt, "at": time.time(),
            **fields}


def relay_once():
    call_command("relay_outbox", "--once")


def dispatches(job) -> list[dict]:
    return [m.payload for m in OutboxMessage.objects.filter(task=TASK_RUN_JOB, payload__job_id=str(job.pk))]


@pytest.fixture
def job():
    return queued_job(MembershipFactory().store, dispatched_at=T0)


def test_a_running_job_whose_worker_went_silent_is_queued_again(job):
    lease = settings.JOB_LEASE_SECONDS
    with time_machine.travel(T0, tick=False) as clock:
        events.event_apply(worker_event(job, "started"))
        clock.shift(lease - 10)
        events.event_apply(worker_event(job, "heartbeat", number=1))  # alive: the lease starts again
        clock.shift(lease - 10)
        relay_once()
        still, sent_before = Job.objects.get(pk=job.pk), dispatches(job)
        clock.shift(20)  # nothing heard for a whole lease
        relay_once()

    job.refresh_from_db()
    assert still.state == JobState.RUNNING and sent_before == []
    assert job.state == JobState.QUEUED and job.attempts == 1
    [again] = dispatches(job)
    assert again["attempts_before"] == 1  # the next start is attempt 2 even if Redis forgot its count


def test_a_job_whose_workers_keep_vanishing_fails_with_a_reason_after_three_starts(job):
    with time_machine.travel(T0, tick=False) as clock:
        events.event_apply(worker_event(job, "started", attempt=3))
        clock.shift(settings.JOB_LEASE_SECONDS + 1)
        relay_once()

    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error_code == "too_many_attempts"
    assert "stopped responding during this job 3 times" in job.error_message
    assert job.finished_at == T0 + timedelta(seconds=settings.JOB_LEASE_SECONDS + 1)
    assert dispatches(job) == []


def test_a_heartbeat_marks_a_job_running_but_never_revives_a_finished_one(job):
    finished = queued_job(job.store, state=JobState.SUCCEEDED, progress=100)

    lost_start = events.event_apply(worker_event(job, "heartbeat", attempt=2, number=1))
    late = events.event_apply(worker_event(finished, "heartbeat", number=7))

    job.refresh_from_db()
    finished.refresh_from_db()
    assert lost_start == "applied" and job.state == JobState.RUNNING and job.attempts == 2
    assert job.lease_expires_at is not None
    assert late.startswith("ignored") and finished.state == JobState.SUCCEEDED


def test_jobs_queued_into_a_redis_that_lost_its_data_are_queued_again_at_once(redis_url):
    import redis

    store = MembershipFactory().store
    relay_once()  # the relay leaves its marker in Redis
    waiting = queued_job(store, dispatched_at=datetime.now(tz=UTC) - timedelta(seconds=5))
    relay_once()
    kept = dispatches(waiting)

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(prefix + MARKER_KEY)  # what a restart without data does
    relay_once()

    assert kept == []  # the broker still holds it: no duplicate
    [again] = dispatches(waiting)
    assert again["job_id"] == str(waiting.pk)
