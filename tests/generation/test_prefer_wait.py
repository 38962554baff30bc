"""``Prefer: wait`` never starves the web tier: few waiters at once, a short cap, no database connection held.

The server here is pytest-django's live server (threads in this process, the suite's PostgreSQL and Redis), so
the per-process cap and the store slots in the shared cache are the ones gunicorn would use.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest
from django.db import connection

from generation import waiting
from generation.models import Job, JobState
from tests.accounts.factories import MembershipFactory, token_for
from tests.generation.factories import shot_for
from tests.stack import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


class Caller:
    """One store's API client against the live server."""

    def __init__(self, base_url: str) -> None:
        self.membership = MembershipFactory()
        self.token = token_for(self.membership)
        self.shot = shot_for(self.membership.store)
        self.base_url = base_url

    def create_job(self, prefer: str) -> tuple[int, dict, dict]:
        body = {"kind": "restore", "inputs": {"product_shot": self.shot.pk}, "params": {"strength": 0.5}}
        request = urllib.request.Request(
            f"{self.base_url}/api/v1/jobs/", data=json.dumps(body).encode(), method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", "Prefer": prefer},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), json.loads(error.read() or b"{}")

    def create_job_in_background(self, prefer: str) -> tuple[threading.Thread, list]:
        answers: list = []
        thread = threading.Thread(target=lambda: answers.append(self.create_job(prefer)), daemon=True)
        thread.start()
        wait_until(lambda: waiting.waiting_in_this_process() >= 1, 30, "the first request to start waiting")
        return thread, answers

    def finish_jobs(self) -> None:
        """What the GPU worker and events worker would do: the store's jobs reach a final state."""
        Job.objects.filter(store=self.membership.store).update(state=JobState.CANCELED, error_code="canceled")


@pytest.fixture
def caps(settings):
    settings.PREFER_WAIT_MAX_SECONDS = 30
    settings.PREFER_WAIT_PER_PROCESS = 1
    settings.PREFER_WAIT_PER_STORE = 2
    return settings


def test_a_second_waiter_in_a_busy_process_gets_202_at_once_while_the_first_still_waits(live_server, caps):
    shop = Caller(live_server.url)
    first, first_answer = shop.create_job_in_background("wait=30")

    status, headers, body = shop.create_job("wait=30")
    first_still_waiting = first.is_alive()
    shop.finish_jobs()
    first.join(30)

    assert (status, body["state"]) == (202, "queued")
    assert headers.get("Gasang-Wait-Skipped") == "process-busy" and "Preference-Applied" not in headers
    assert first_still_waiting, "the second answer came while the first request was still waiting"
    (first_status, first_headers, first_body) = first_answer[0]
    assert (first_status, first_body["state"]) == (201, "canceled")  # answered as soon as the job finished
    assert first_headers.get("Preference-Applied") == "wait=30"


def test_one_store_cannot_take_every_waiter_slot_and_other_stores_still_wait(live_server, caps):
    caps.PREFER_WAIT_PER_PROCESS = 5
    caps.PREFER_WAIT_PER_STORE = 1
    busy, other = Caller(live_server.url), Caller(live_server.url)
    first, _ = busy.create_job_in_background("wait=30")

    busy_status, busy_headers, _ = busy.create_job("wait=30")
    other_status, other_headers, _ = other.create_job("wait=1")
    busy.finish_jobs()
    first.join(30)

    assert (busy_status, busy_headers.get("Gasang-Wait-Skipped")) == (202, "store-busy")
    assert (other_status, other_headers.get("Preference-Applied")) == (202, "wait=1")  # waited, job unfinished


def test_a_waiting_request_holds_no_database_connection_while_it_sleeps(live_server, caps):
    shop = Caller(live_server.url)
    first, _ = shop.create_job_in_background("wait=30")

    others = []
    for _ in range(20):  # the server's connections to the test database other than this test's own
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            others.append(cursor.fetchone()[0])
        threading.Event().wait(0.1)
    shop.finish_jobs()
    first.join(30)

    assert 0 in others, f"the waiting request kept a connection open the whole time: {others}"


def test_the_wait_is_capped_and_the_answer_says_how_long_was_allowed(live_server, caps):
    caps.PREFER_WAIT_MAX_SECONDS = 1

    status, headers, body = Caller(live_server.url).create_job("wait=600")

    assert (status, body["state"]) == (202, "queued")
    assert headers.get("Preference-Applied") == "wait=1"


def test_a_single_threaded_server_never_waits(client, caps):
    """Django's test client, like gunicorn's sync workers, says ``wsgi.multithread: False``: a waiter would hold
    the whole process, so the answer comes at once."""
    membership = MembershipFactory()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(membership)}"
    body = {"kind": "restore", "inputs": {"product_shot": shot_for(membership.store).pk}, "params": {"strength": 0.5}}

    response = client.post("/api/v1/jobs/", body, content_type="application/json", HTTP_PREFER="wait=30")

    assert response.status_code == 202 and response.json()["state"] == "queued"
    assert response.headers["Gasang-Wait-Skipped"] == "single-threaded"
    assert "Preference-Applied" not in response.headers
