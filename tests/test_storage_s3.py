"""Results and uploads live in S3-compatible storage: private objects, handed out only as expiring presigned URLs."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings

from config.env import ENV
from core.objectstore import storage_backend
from tests.s3_server import running_s3_server


@pytest.fixture(scope="module")
def s3():
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_storage(s3):
    bucket = f"gasang-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    env = replace(ENV, storage_backend="s3", s3_endpoint_url=s3.endpoint_url, s3_bucket=bucket,
                  s3_access_key_id=s3.access_key, s3_secret_access_key=s3.secret_key, s3_presign_seconds=2)
    config = storage_backend(env, media_root=None)
    with override_settings(STORAGES={"default": config, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}):
        storages._storages.pop("default", None)
        yield storages["default"], bucket
    storages._storages.pop("default", None)


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_upload_read_back_and_objects_are_private(s3_storage, s3):
    storage, bucket = s3_storage
    payload = b"\x89PNG fake product shot bytes"

    name = storage.save("stores/1/shots/a.png", ContentFile(payload))

    assert storage.open(name).read() == payload
    head = s3.client().head_object(Bucket=bucket, Key=name)
    assert head["ContentLength"] == len(payload)
    acl = s3.client().get_object_acl(Bucket=bucket, Key=name)
    assert all(g["Grantee"].get("URI", "").endswith("AllUsers") is False for g in acl["Grants"])
    unsigned_status, _ = http_get(f"{s3.endpoint_url}/{bucket}/{name}")
    assert unsigned_status == 403


def test_saving_the_same_name_twice_never_overwrites(s3_storage):
    storage, _ = s3_storage

    first = storage.save("stores/1/shots/same.png", ContentFile(b"one"))
    second = storage.save("stores/1/shots/same.png", ContentFile(b"two"))

    assert first != second and storage.open(first).read() == b"one"


def test_presigned_get_works_and_carries_a_short_expiry(s3_storage):
    """The URL is signed (SigV4) for exactly the configured lifetime.

    moto's server does not enforce X-Amz-Expires (AWS S3 and MinIO do), so the expiry is
    checked from the signed parameters rather than by waiting for a 403.
    """
    storage, _ = s3_storage
    name = storage.save("stores/1/results/r.png", ContentFile(b"result"))

    url = storage.url(name)
    query = parse_qs(urlparse(url).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    status, body = http_get(url)
    tampered_status, _ = http_get(url.replace("r.png", "other.png"))

    assert (status, body) == (200, b"result")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["2"]
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60
    assert tampered_status in (403, 404)
