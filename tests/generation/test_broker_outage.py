"""Redis goes down while customers create jobs: every accepted job is kept and runs once Redis is back.

Design choice (documented in README): the API keeps accepting jobs during a broker outage. The job and
its outbox message commit together; the relay publishes the message when the broker answers again.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request

import pytest

from catalog.models import ProductShot
from core import objectstore
from core.models import OutboxMessage
from generation.models import Job, JobState
from tests.accounts.factories import MembershipFactory, token_for
from tests.generation.photos import astronaut, jpeg_bytes
from tests.services import free_port
from tests.stack import Stack, stack_env, wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        wait_until(lambda: _pings(redis.Redis.from_url(self.url)), 20, "redis to start")

    def stop(self) -> None:
        if self.proc:
            self.proc.kill()
            self.proc.wait(10)


def _pings(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False


def post_job(base: str, token: str, shot_id: int) -> tuple[int, float]:
    body = json.dumps({"kind": "restore", "inputs": {"product_shot": shot_id}, "params": {"strength": 0.5}}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/jobs/",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, time.monotonic() - started


@pytest.fixture
def redis_server():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server binary not installed")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def test_jobs_accepted_during_a_redis_outage_run_when_it_returns(s3_server, s3_bucket, tmp_path, redis_server):
    owner = MembershipFactory()
    token = token_for(owner)
    key = objectstore.put_bytes(f"stores/{owner.store.pk}/shots/outage.jpg", jpeg_bytes(astronaut()))
    shot = ProductShot.objects.create(store=owner.store, image=key, faces_state="ready",
                                      faces=[{"box": [180, 60, 120, 120], "score": 0.9}])
    port = free_port()
    stack = Stack(env=stack_env(s3_server, s3_bucket, broker_url=redis_server.url), log_dir=tmp_path)
    for name in ("gpu", "events", "relay"):
        stack.start(name)
    stack.start("web", "--bind", f"127.0.0.1:{port}")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base + "/healthz"), 60, "gunicorn to answer")

        redis_server.stop()
        answers = [post_job(base, token, shot.pk) for _ in range(5)]
        held = OutboxMessage.objects.filter(published_at__isnull=True).count()
        redis_server.start()
        jobs = wait_until(lambda: _all_finished(owner.store), 180, "every accepted job to finish")
    finally:
        stack.stop()

    assert [status for status, _ in answers] == [201] * 5
    assert max(seconds for _, seconds in answers) < 10, answers
    assert held == 5, "the jobs were held in the outbox while Redis was down"
    assert [job.state for job in jobs] == [JobState.SUCCEEDED] * 5, [(j.error_code, j.error_message) for j in jobs]
    assert not OutboxMessage.objects.filter(published_at__isnull=True).exists()


def _answers(url: str) -> bool:
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def _all_finished(store):
    jobs = list(Job.objects.filter(store=store))
    return jobs if len(jobs) == 5 and all(job.is_terminal for job in jobs) else None
