"""API rate limits: a client over a limit gets 429 with Retry-After, per token, per store, for job creation and
for failed authentication per address; other stores are unaffected and the limit resets with the window.

The clock is pinned (time-machine); counters live in the suite's Redis under this run's key prefix.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from core import shared_cache
from generation.models import Job
from tests.accounts.factories import MembershipFactory, token_for
from tests.generation.factories import public_face, shot_for

pytestmark = [pytest.mark.django_db, pytest.mark.services]
JSON = "application/json"
NOON_AND_15_S = datetime(2030, 5, 1, 3, 0, 15, tzinfo=UTC)  # 15 s into a minute window


@pytest.fixture
def rates(settings):
    """Set small limits: ``rates(token="3/min")``; the others stay out of reach."""

    def apply(**small):
        limits = {"job_create": "1000/min", "token": "1000/min", "store": "1000/min", "auth_failures": "1000/min"}
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**limits, **small}}

    return apply


@pytest.fixture
def clock():
    with time_machine.travel(NOON_AND_15_S, tick=False) as traveller:
        yield traveller


def bearer(token: str, address: str = "192.0.2.10") -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", "REMOTE_ADDR": address}


def test_a_token_over_its_limit_gets_429_with_retry_after_in_the_error_shape(client, rates, clock):
    rates(token="3/min")
    token = token_for(MembershipFactory())

    answers = [client.get("/api/v1/jobs/", **bearer(token)).status_code for _ in range(3)]
    refused = client.get("/api/v1/jobs/", **bearer(token))

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "45"  # the window ends 45 s after 03:00:15
    assert set(refused.json()) == {"detail", "code", "errors"} and refused.json()["code"] == "throttled"
    assert "API token" in refused.json()["detail"] and "3 per minute" in refused.json()["detail"]


def test_a_store_over_its_limit_is_refused_for_every_token_and_other_stores_are_unaffected(client, rates, clock):
    rates(store="2/min")
    busy = MembershipFactory()
    first, second = token_for(busy), token_for(busy)
    other = token_for(MembershipFactory())

    answers = [client.get("/api/v1/jobs/", **bearer(token)).status_code for token in (first, second, second)]
    other_store = client.get("/api/v1/jobs/", **bearer(other))

    assert answers == [200, 200, 429]
    assert other_store.status_code == 200


def test_the_limit_resets_when_the_window_ends(client, rates, clock):
    rates(token="2/min")
    token = token_for(MembershipFactory())
    for _ in range(2):
        client.get("/api/v1/jobs/", **bearer(token))

    before = client.get("/api/v1/jobs/", **bearer(token))
    clock.shift(44)
    still = client.get("/api/v1/jobs/", **bearer(token))
    clock.shift(1)  # 03:01:00, a new window
    after = client.get("/api/v1/jobs/", **bearer(token))

    assert (before.status_code, still.status_code, after.status_code) == (429, 429, 200)
    assert still.headers["Retry-After"] == "1"


def test_job_and_batch_creation_have_their_own_stricter_bucket(client, rates, clock):
    rates(job_create="2/min", token="100/min")
    owner = MembershipFactory()
    token = token_for(owner)
    shot = shot_for(owner.store).pk
    job = {"kind": "restore", "inputs": {"product_shot": shot}, "params": {"strength": 0.5}}

    created = client.post("/api/v1/jobs/", job, content_type=JSON, **bearer(token))
    batch = client.post("/api/v1/batches/", {"face": public_face().pk, "product_shots": [shot]}, content_type=JSON,
                        **bearer(token))
    refused = client.post("/api/v1/jobs/", job, content_type=JSON, **bearer(token))
    listing = client.get("/api/v1/jobs/", **bearer(token))

    assert (created.status_code, batch.status_code, refused.status_code) == (201, 201, 429)
    assert "jobs and batches" in refused.json()["detail"] and refused.headers["Retry-After"] == "45"
    assert Job.objects.filter(store=owner.store).count() == 2  # the refused request created nothing
    assert listing.status_code == 200


def test_failed_authentication_is_limited_per_address_even_for_a_valid_token_then(client, rates, clock):
    rates(auth_failures="3/min")
    valid = token_for(MembershipFactory())
    guesser, neighbour = "198.51.100.7", "198.51.100.8"

    failures = [
        client.get("/api/v1/jobs/", **bearer("gsk_wrong", guesser)).status_code,
        client.get("/api/v1/jobs/", REMOTE_ADDR=guesser).status_code,  # no credentials at all
        client.get("/api/v1/jobs/", HTTP_AUTHORIZATION="Bearer", REMOTE_ADDR=guesser).status_code,  # malformed
    ]
    wrong_again = client.get("/api/v1/jobs/", **bearer("gsk_wrong", guesser))
    valid_from_guesser = client.get("/api/v1/jobs/", **bearer(valid, guesser))
    valid_from_neighbour = client.get("/api/v1/jobs/", **bearer(valid, neighbour))
    clock.shift(45)
    valid_next_window = client.get("/api/v1/jobs/", **bearer(valid, guesser))

    assert failures == [401, 401, 401]
    assert (wrong_again.status_code, valid_from_guesser.status_code) == (429, 429)
    assert "invalid credentials" in wrong_again.json()["detail"] and wrong_again.headers["Retry-After"] == "45"
    assert valid_from_neighbour.status_code == 200 and valid_next_window.status_code == 200


def test_behind_a_proxy_each_client_has_its_own_limit_and_a_missing_setting_is_logged(
        client, rates, clock, settings, caplog, monkeypatch):
    from accounts import throttling

    rates(auth_failures="1/min")
    proxy = "10.0.0.5"

    def fail_from(client_ip: str) -> int:
        return client.get("/api/v1/jobs/", HTTP_X_FORWARDED_FOR=client_ip, REMOTE_ADDR=proxy).status_code

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert [fail_from("198.51.100.30"), fail_from("198.51.100.30"), fail_from("198.51.100.31")] == [401, 429, 401]

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    monkeypatch.setattr(throttling, "_proxy_warned", False)
    with caplog.at_level("WARNING", logger="accounts.throttling"):
        shared = [fail_from("198.51.100.40"), fail_from("198.51.100.41")]
    assert shared == [401, 429]  # every client has the proxy's address: one client's failures lock out the other
    warnings = [r.getMessage() for r in caplog.records if "API_NUM_PROXIES" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once per process, not per request


def test_the_429_message_is_korean_for_korean_clients(client, rates, clock):
    rates(token="1/min")
    token = token_for(MembershipFactory())
    client.get("/api/v1/jobs/", **bearer(token))

    refused = client.get("/api/v1/jobs/", HTTP_ACCEPT_LANGUAGE="ko", **bearer(token))

    assert refused.status_code == 429 and "API 토큰" in refused.json()["detail"]


@pytest.fixture
def unreachable_cache(settings):
    from tests.services import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    yield
    shared_cache._down_until = 0.0  # the next test's cache is up


def test_the_api_keeps_answering_when_the_cache_is_down(client, rates, unreachable_cache):
    rates(token="1/min", auth_failures="1/min")
    token = token_for(MembershipFactory())

    answers = [client.get("/api/v1/jobs/", **bearer(token)).status_code for _ in range(3)]
    wrong = [client.get("/api/v1/jobs/", **bearer("gsk_wrong")).status_code for _ in range(3)]

    assert answers == [200, 200, 200] and wrong == [401, 401, 401]  # limits are off, nothing fails
