"""Every accepted job ends, whatever dies mid-job: the broker (restarted without its data) or the GPU worker.

Real processes (tests/stack.py): GPU worker, events worker, outbox relay; a throwaway redis-server for the
restart. `bench/broker_restart.py` measures how long such a job takes to end.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from generation.models import Job, JobState
from tests.generation.test_broker_outage import RedisServer, redis_server  # noqa: F401 - the fixture
from tests.generation.test_faults import finished, ready_inputs
from tests.stack import Stack, stack_env, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def post_pipeline(client, face, shot_id) -> str:
    body = {"kind": "pipeline", "inputs": {"face": face.pk, "product_shot": shot_id}}
    response = client.post("/api/v1/jobs/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def running(job_id) -> bool:
    return Job.objects.filter(pk=job_id, state=JobState.RUNNING).exists()


def signal_gpu(stack: Stack, sig: int) -> None:
    os.killpg(stack.procs["gpu"].pid, sig)  # the worker and its prefork child, which runs the job


def test_a_broker_restart_without_its_data_mid_job_still_ends_every_job(
    client, s3_server, s3_bucket, tmp_path, redis_server  # noqa: F811
):
    stack = Stack(env=stack_env(s3_server, s3_bucket, broker_url=redis_server.url), log_dir=tmp_path)
    for name in ("gpu", "events", "relay"):
        stack.start(name)
    try:
        owner, face, shot_id = ready_inputs(client)
        first, second = post_pipeline(client, face, shot_id), post_pipeline(client, face, shot_id)
        wait_until(lambda: running(first), 120, "the first job to start", interval=0.02)

        signal_gpu(stack, signal.SIGSTOP)  # hold the job mid-run while the broker goes away
        at_restart = Job.objects.get(pk=first).state
        redis_server.stop()  # SIGKILL; no persistence: the queued second job and the unacked first are gone
        signal_gpu(stack, signal.SIGCONT)  # the job goes on while Redis is down: its events cannot be sent
        time.sleep(3)
        redis_server.start()
        wait_until(lambda: finished(first) and finished(second), 150, "both jobs to end after the restart")
    finally:
        if "gpu" in stack.procs:
            signal_gpu(stack, signal.SIGCONT)
        stack.stop()

    jobs = {job_id: Job.objects.get(pk=job_id) for job_id in (first, second)}
    assert at_restart == JobState.RUNNING
    assert [job.state for job in jobs.values()] == [JobState.SUCCEEDED] * 2, (
        [(job.error_code, job.error_message) for job in jobs.values()], stack.log("gpu")[-3000:]
    )


def test_a_running_job_whose_worker_vanished_is_queued_again_and_runs(client, s3_server, s3_bucket, tmp_path):
    env = {**stack_env(s3_server, s3_bucket), "JOB_LEASE_SECONDS": "3", "GASANG_HEARTBEAT_SECONDS": "1"}
    stack = Stack(env=env, log_dir=tmp_path)
    for name in ("gpu", "events", "relay"):
        stack.start(name)
    try:
        owner, face, shot_id = ready_inputs(client)
        job_id = post_pipeline(client, face, shot_id)
        wait_until(lambda: running(job_id), 120, "the job to start", interval=0.02)

        stack.kill("gpu")  # SIGKILL mid-job and no worker left: nothing but the lease can notice
        requeued = wait_until(
            lambda: Job.objects.filter(pk=job_id, state=JobState.QUEUED).first(), 60, "the relay to queue it again"
        )
        stack.start("gpu")
        job = wait_until(lambda: finished(job_id), 120, "the job to finish on a new worker")
    finally:
        stack.stop()

    assert requeued.attempts == 1
    assert job.state == JobState.SUCCEEDED and job.attempts >= 2, (job.error_code, job.error_message)
