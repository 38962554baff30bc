"""Schemathesis drives every operation of /api/schema/ with generated requests: none may get a server error.

The schema is the contract; schemathesis reads it and sends valid and invalid requests (boundary values, wrong
types, unknown enum values, NUL characters, unsupported methods...) through Django's WSGI application in this
process, as an API-token caller and as an owner's dashboard session. The only check is ``not_a_server_error``: a
4xx is a fine answer to a bad request, a 5xx never is. Bounded for the suite: a fixed seed, derandomized Hypothesis
and a few examples per operation (about a minute in all on two cores). Raise FUZZ_MAX_EXAMPLES locally to dig
deeper, e.g. ``FUZZ_MAX_EXAMPLES=200 pytest tests/test_api_fuzz.py``.

Needs PostgreSQL: NUL characters and integer overflows are what PostgreSQL refuses and SQLite accepts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error

from tests.accounts.factories import MembershipFactory, token_for

pytestmark = [pytest.mark.django_db, pytest.mark.services, pytest.mark.slow]

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "8"))
SEED = 20261202
# Operations left out, and why. Checkout and the billing portal call Stripe (tests/billing drives them against the
# fake Stripe server); everything else is fuzzed.
EXCLUDED_PATHS = ("/api/v1/billing/checkout/", "/api/v1/billing/portal/")


@contextmanager
def loaded_schema(settings, tmp_path, *, coverage: bool) -> Iterator:
    """/api/schema/ of this process's WSGI application, as schemathesis drives it.

    ``coverage``: also run schemathesis' coverage phase (every boundary value, wrong type and unexpected method
    the schema implies: thorough, and most of the requests); without it only the bounded fuzzing phase runs.
    """
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": tmp_path / "media", "base_url": "/media/"}},
    }
    config = schemathesis.config.SchemathesisConfig.from_dict({
        "seed": SEED,
        "generation": {"deterministic": True, "max-examples": MAX_EXAMPLES, "with-security-parameters": False},
        "phases": {"stateful": {"enabled": False}, "coverage": {"enabled": coverage}},
    })
    # The test transaction's connection must survive each request (Django's test client does the same).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config).exclude(
            path=list(EXCLUDED_PATHS)
        )
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(settings, tmp_path):
    with loaded_schema(settings, tmp_path, coverage=True) as schema:
        yield schema


@pytest.fixture
def api_schema_fuzzing_only(settings, tmp_path):
    with loaded_schema(settings, tmp_path, coverage=False) as schema:
        yield schema


@dataclass(frozen=True)
class Caller:
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def token_caller() -> Caller:
    """An owner's API token with every scope (a token acts as an editor at most)."""
    return Caller(headers={"Authorization": f"Bearer {token_for(MembershipFactory())}"})


@pytest.fixture
def session_caller(client) -> Caller:
    """An owner's dashboard session, with a CSRF token so that writes get through too."""
    from django.conf import settings

    client.force_login(MembershipFactory().user)
    csrf = secrets.token_hex(16)  # 32 characters: Django accepts an unmasked secret in the header and cookie
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Caller(headers={"X-CSRFToken": csrf},
                  cookies={settings.SESSION_COOKIE_NAME: session, settings.CSRF_COOKIE_NAME: csrf})


def call_and_check(case, caller: Caller) -> None:
    if "wait" in (case.headers or {}).get("Prefer", ""):
        del case.headers["Prefer"]  # Prefer: wait=N would hold the suite up to N seconds per accepted job
    savepoint = transaction.savepoint()  # each request starts from the same data; a failed one cannot poison the next
    try:
        response = case.call(headers=caller.headers, cookies=caller.cookies)
    finally:
        transaction.savepoint_rollback(savepoint)
    case.validate_response(response, checks=[not_a_server_error], headers=caller.headers)


schema = schemathesis.pytest.from_fixture("api_schema")
schema_fuzzing_only = schemathesis.pytest.from_fixture("api_schema_fuzzing_only")
FUZZ_SETTINGS = hypothesis_settings(
    deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_token_callers_never_get_a_server_error(case, token_caller):
    call_and_check(case, token_caller)


@schema_fuzzing_only.parametrize()  # the coverage phase already ran above; this caller reaches owner-only routes
@FUZZ_SETTINGS
def test_dashboard_session_callers_never_get_a_server_error(case, session_caller):
    call_and_check(case, session_caller)
