"""Fixtures for the job path. Django and config modules are imported inside fixtures: this conftest
loads before tests/conftest.py has provisioned the services that settings read."""

from __future__ import annotations

import uuid

import pytest

from tests.s3_server import running_s3_server

STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


@pytest.fixture
def owner(client):
    """A store owner whose API token the test client sends (files may override it, e.g. with a session login)."""
    from tests.accounts.factories import MembershipFactory, token_for

    membership = MembershipFactory()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(membership)}"
    return membership


@pytest.fixture(scope="session")
def s3_server():
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server):
    """A fresh bucket, and Django's default storage pointed at it for the test."""
    from dataclasses import replace

    from django.core.files.storage import storages
    from django.test import override_settings

    from config.env import ENV
    from core.objectstore import storage_backend

    bucket = f"gasang-{uuid.uuid4().hex[:8]}"
    s3_server.client().create_bucket(Bucket=bucket)
    env = replace(
        ENV,
        storage_backend="s3",
        s3_endpoint_url=s3_server.endpoint_url,
        s3_bucket=bucket,
        s3_access_key_id=s3_server.access_key,
        s3_secret_access_key=s3_server.secret_key,
    )
    with override_settings(STORAGES={"default": storage_backend(env, media_root=None), "staticfiles": STATIC}):
        storages._storages.pop("default", None)
        yield bucket
    storages._storages.pop("default", None)


@pytest.fixture
def stack(s3_server, s3_bucket, tmp_path, services):
    if not services.redis_url or not services.database_url:
        pytest.skip("the worker stack needs PostgreSQL and Redis")
    from tests.stack import Stack, stack_env

    running = Stack(env=stack_env(s3_server, s3_bucket), log_dir=tmp_path)
    for name in ("gpu", "events", "webhooks", "relay"):
        running.start(name)
    yield running
    running.stop()
    for name in ("gpu", "events", "webhooks", "relay"):
        print(f"----- {name} log -----\n{running.log(name)[-4000:]}")
    assert_every_result_is_signed()


def assert_every_result_is_signed() -> None:
    """Every result the workers wrote in the test carries a valid content credential of the stack's signer, for
    its own job (issue 18: 100 % of outputs). Results a test discarded are gone from storage and not counted."""
    from core import objectstore
    from generation.models import Job, JobState
    from gpu_worker import content_credentials
    from tests.c2pa_pki import stack_pki

    unsigned = []
    for job in Job.objects.filter(state=JobState.SUCCEEDED, outputs_discarded_at__isnull=True):
        for key in (job.outputs or {}).values():
            data = objectstore.get_bytes(key)
            found = content_credentials.read(data, content_credentials.image_mime(data),
                                             trust_anchors=stack_pki()["ca"])
            if found is None or found.state != "Trusted" or found.job.get("job_id") != str(job.pk):
                unsigned.append((job.kind, key, found and found.state, found and found.failures))
    assert not unsigned, f"results without a valid content credential: {unsigned}"
