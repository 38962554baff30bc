"""While the database cannot be reached the API answers 503 with Retry-After and a plain message, and serves
normally again once it is back (bench/fault_checks.py restarts a real PostgreSQL under load)."""

from __future__ import annotations

import pytest
from django.db import connection

from generation.models import Job
from tests.accounts.factories import MembershipFactory, token_for
from tests.billing.factories import restore_body
from tests.services import free_port

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
JSON = "application/json"


def test_an_unreachable_database_gets_503_with_retry_after_then_the_same_request_succeeds(client):
    owner = MembershipFactory()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(owner)}"
    body = restore_body(owner.store)
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there: connections are refused
    try:
        down = client.post("/api/v1/jobs/", body, content_type=JSON, HTTP_IDEMPOTENCY_KEY="order-7")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port

    back = client.post("/api/v1/jobs/", body, content_type=JSON, HTTP_IDEMPOTENCY_KEY="order-7")

    assert down.status_code == 503, down.content
    assert down["Retry-After"] == "5"
    assert down.json()["code"] == "database_unavailable" and "Try again" in down.json()["detail"]
    assert back.status_code == 201 and Job.objects.count() == 1
