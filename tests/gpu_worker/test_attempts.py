"""A job's start number never repeats, also when Redis lost its counters: the dispatch carries the starts the
database has seen (``attempts_before``), and a repeated number would make the new start's events look like
duplicates of the old one's (event ids are ``<job>:<attempt>:<type>``)."""

import uuid

import pytest

from gpu_worker.attempts import next_attempt


def test_a_counter_lost_with_redis_restarts_above_the_starts_already_seen(redis_url, tmp_path):
    import redis

    job_id = f"attempts-test-{uuid.uuid4().hex}"
    first, second = next_attempt(job_id, redis_url, tmp_path), next_attempt(job_id, redis_url, tmp_path)
    redis.Redis.from_url(redis_url).delete(f"gasang:attempts:{job_id}")  # Redis restarted without its data

    third = next_attempt(job_id, redis_url, tmp_path, at_least=second + 1)
    fourth = next_attempt(job_id, redis_url, tmp_path)  # the same message redelivered after a crash

    redis.Redis.from_url(redis_url).delete(f"gasang:attempts:{job_id}")
    assert (first, second, third, fourth) == (1, 2, 3, 4)


@pytest.mark.parametrize("seen", [0, 2])
def test_the_embedded_counter_honours_the_starts_already_seen(tmp_path, seen):
    job_id = uuid.uuid4().hex

    numbers = [next_attempt(job_id, "filesystem://", tmp_path, at_least=seen + 1) for _ in range(2)]

    assert numbers == [seen + 1, seen + 2]
