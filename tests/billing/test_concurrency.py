"""No free work through a race: N parallel creations against M < N credits leave exactly M jobs (PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from billing.errors import QuotaExceeded
from billing.models import BillingAccount, LedgerEntry
from core.models import OutboxMessage
from generation.models import Job
from generation.services import job_create
from gpu_worker.spec import TASK_RUN_JOB
from tests.accounts.factories import MembershipFactory
from tests.billing.factories import plan_with
from tests.generation.factories import shot_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS, QUOTA = 12, 5


def test_parallel_creations_against_a_small_quota_leave_exactly_quota_jobs():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    plan_with("free", QUOTA, watermark=True)  # the store has no billing account yet: it is created in the race
    member = MembershipFactory()
    shots = [shot_for(member.store).pk for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()

    def create(shot_id: int) -> None:
        try:
            barrier.wait()
            started = time.perf_counter()
            try:
                job_create(store=member.store, kind="restore", inputs={"product_shot": shot_id},
                           created_by=member.user)
                outcome = "created"
            except QuotaExceeded:
                outcome = "402"
            with lock:
                outcomes.append((outcome, time.perf_counter() - started))
        finally:
            connection.close()  # each thread has its own connection; close it here

    began = time.perf_counter()
    threads = [threading.Thread(target=create, args=(shot,)) for shot in shots]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    wall = time.perf_counter() - began

    created = [t for outcome, t in outcomes if outcome == "created"]
    refused = [t for outcome, t in outcomes if outcome == "402"]
    print(
        f"\nconcurrency: {THREADS} parallel job_create against a quota of {QUOTA} credits -> "
        f"{Job.objects.count()} jobs, {LedgerEntry.objects.filter(kind='reserve').count()} reserve entries, "
        f"{len(refused)} QuotaExceeded; {BillingAccount.objects.count()} billing account; wall {wall * 1000:.0f} ms; "
        f"per call ms: created max {max(created, default=0) * 1000:.0f}, "
        f"refused max {max(refused, default=0) * 1000:.0f}"
    )
    assert len(outcomes) == THREADS
    assert len(created) == QUOTA and len(refused) == THREADS - QUOTA
    assert Job.objects.filter(store=member.store).count() == QUOTA
    assert LedgerEntry.objects.filter(store=member.store, kind="reserve").count() == QUOTA
    assert OutboxMessage.objects.filter(task=TASK_RUN_JOB).count() == QUOTA
    assert BillingAccount.objects.filter(store=member.store).count() == 1
