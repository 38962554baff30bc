"""Large shots go straight from the browser to S3 (presigned POST); Gasang checks and cleans them on confirm.

Runs against a real S3-API server (moto in server mode, tests/s3_server.py).
"""

import io
import uuid
from dataclasses import replace

import pytest
import requests
from django.core.files.storage import storages
from django.test import override_settings
from PIL import Image

from catalog.models import ProductShot
from config.env import ENV
from core import objectstore
from core.models import OutboxMessage
from core.objectstore import storage_backend
from tests.catalog import sample_images
from tests.s3_server import running_s3_server

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3():
    with running_s3_server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3, settings):
    bucket = f"gasang-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    env = replace(ENV, storage_backend="s3", s3_endpoint_url=s3.endpoint_url, s3_bucket=bucket,
                  s3_access_key_id=s3.access_key, s3_secret_access_key=s3.secret_key)
    with override_settings(STORAGES={**settings.STORAGES, "default": storage_backend(env, media_root=None)}):
        storages._storages.pop("default", None)
        yield bucket
    storages._storages.pop("default", None)


def keys(s3, bucket) -> list[str]:
    return sorted(o["Key"] for o in s3.client().list_objects_v2(Bucket=bucket).get("Contents", []))


def begin(client, data: bytes, content_type: str = "image/jpeg"):
    response = client.post("/api/v1/product-shots/uploads/", {
        "filename": "look.jpg", "content_type": content_type, "size": len(data)}, content_type="application/json")
    assert response.status_code == 201, response.json()
    return response.json()


def post_to_s3(upload: dict, data: bytes, content_type: str = "image/jpeg") -> int:
    files = {"file": ("look.jpg", data, content_type)}
    return requests.post(upload["url"], data=upload["fields"], files=files, timeout=10).status_code


def test_begin_upload_to_s3_then_confirm_gives_a_clean_ready_shot(editor_client, editor, s3, s3_bucket):
    began = begin(editor_client, photo := sample_images.jpeg_from_phone((64, 32)))
    shot = ProductShot.objects.get(pk=began["shot"]["id"])
    assert began["shot"]["status"] == "awaiting_upload" and began["shot"]["image_url"] is None
    assert shot.upload_key.startswith(f"stores/{editor.store.pk}/uploads/")

    assert post_to_s3(began["upload"], photo) in (200, 201, 204)
    confirmed = editor_client.post(f"/api/v1/product-shots/{shot.pk}/confirm/")

    assert confirmed.status_code == 200, confirmed.json()
    body = confirmed.json()
    shot.refresh_from_db()
    image = Image.open(io.BytesIO(objectstore.get_bytes(shot.image)))
    assert body["status"] == "ready" and body["faces_state"] == "pending"
    assert image.size == (32, 64) and not image.getexif()
    assert keys(s3, s3_bucket) == [shot.image]  # the raw upload is gone
    assert "X-Amz-Signature=" in body["image_url"]
    assert OutboxMessage.objects.filter(payload__shot_id=str(shot.pk)).exists()
    again = editor_client.post(f"/api/v1/product-shots/{shot.pk}/confirm/")
    assert again.status_code == 400 and "already confirmed" in again.json()["detail"]


def test_confirming_a_bad_direct_upload_deletes_it(editor_client, s3, s3_bucket):
    began = begin(editor_client, sample_images.SVG)
    assert post_to_s3(began["upload"], sample_images.SVG) in (200, 201, 204)
    assert len(keys(s3, s3_bucket)) == 1

    confirmed = editor_client.post(f"/api/v1/product-shots/{began['shot']['id']}/confirm/")

    assert confirmed.status_code == 415 and "SVG drawings are not accepted" in confirmed.json()["detail"]
    assert keys(s3, s3_bucket) == [] and not ProductShot.objects.exists()


def test_confirm_before_uploading_says_what_to_do(editor_client, s3_bucket):
    began = begin(editor_client, sample_images.photo())

    confirmed = editor_client.post(f"/api/v1/product-shots/{began['shot']['id']}/confirm/")

    assert confirmed.status_code == 400 and "Nothing has been uploaded" in confirmed.json()["detail"]


@pytest.mark.parametrize("payload, field", [
    ({"filename": "a.svg", "content_type": "image/svg+xml", "size": 10}, "content_type"),
    ({"filename": "a.jpg", "content_type": "image/jpeg", "size": 21 * 1024 * 1024}, "size"),
    ({"filename": "a.jpg", "content_type": "image/jpeg", "size": 0}, "size"),
])
def test_begin_refuses_what_could_never_be_accepted(editor_client, s3_bucket, payload, field):
    response = editor_client.post("/api/v1/product-shots/uploads/", payload, content_type="application/json")

    assert response.status_code == 400 and field in response.json()["errors"]
    assert not ProductShot.objects.exists()
