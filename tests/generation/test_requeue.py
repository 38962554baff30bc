"""A job whose broker message was lost (Redis restarted without persistence) is queued again, not stranded."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import OutboxMessage
from generation.models import Job
from gpu_worker.spec import TASK_RUN_JOB
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import queued_job

pytestmark = pytest.mark.django_db


def test_stale_queued_job_gets_a_new_dispatch_and_fresh_ones_do_not():
    store = MembershipFactory().store
    stale = queued_job(store, dispatched_at=timezone.now() - timedelta(hours=1))
    fresh = queued_job(store, dispatched_at=timezone.now())
    running = queued_job(store, state="running", dispatched_at=timezone.now() - timedelta(hours=1))

    call_command("relay_outbox", "--once", "--requeue-after", "600")

    messages = OutboxMessage.objects.filter(task=TASK_RUN_JOB)
    assert [m.payload["job_id"] for m in messages] == [str(stale.pk)]
    assert Job.objects.get(pk=stale.pk).dispatched_at > timezone.now() - timedelta(minutes=1)
    assert fresh.pk and running.pk
