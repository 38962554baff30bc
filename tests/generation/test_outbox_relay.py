"""A committed job reaches the broker at once: PostgreSQL NOTIFY wakes the relay, the request never publishes."""

import time

import pytest
from django.db import connection

from core.models import OutboxMessage
from tests.accounts.factories import MembershipFactory, token_for
from tests.generation.factories import shot_for
from tests.stack import Stack, stack_env, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _relay_listening() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN gasang_outbox%%'")
        return cursor.fetchone()[0] > 0


def test_relay_polling_once_a_minute_still_publishes_a_new_job_within_seconds(
    client, s3_server, s3_bucket, tmp_path, services
):
    if connection.vendor != "postgresql" or not services.redis_url:
        pytest.skip("NOTIFY needs PostgreSQL, publishing needs Redis")
    membership = MembershipFactory()
    body = {"kind": "restore", "inputs": {"product_shot": shot_for(membership.store).pk}}
    stack = Stack(env=stack_env(s3_server, s3_bucket), log_dir=tmp_path)
    stack.start("relay", "--interval", "60")
    try:
        wait_until(_relay_listening, 60, "the relay to LISTEN")
        time.sleep(0.5)  # its first scan is done: from now on only a notification wakes it within the minute

        began = time.monotonic()
        response = client.post(
            "/api/v1/jobs/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token_for(membership)}"
        )
        assert response.status_code == 201, response.content
        message = OutboxMessage.objects.get(payload__job_id=response.json()["id"])
        wait_until(lambda: OutboxMessage.objects.get(pk=message.pk).published_at, 10, "the relay to publish the job")
        assert time.monotonic() - began < 10
        assert OutboxMessage.objects.get(pk=message.pk).publish_attempts == 1
    finally:
        stack.stop()
        print(stack.log("relay")[-3000:])
