"""Direct uploads expire: a presigned upload used again after confirm never changes the shot and its file is
deleted once the URL has expired; shots never confirmed are deleted with their upload. Real S3 API (moto server);
the clock is moved past the URL's expiry for the clean-up."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from catalog.models import ProductShot
from catalog.services import UPLOAD_GRACE
from core import objectstore
from tests.catalog import sample_images
from tests.catalog.test_direct_upload import begin, keys, post_to_s3, s3, s3_bucket  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def clean_up_after_expiry(shot: ProductShot, extra: timedelta = timedelta(seconds=1)) -> None:
    with time_machine.travel(shot.upload_expires_at + UPLOAD_GRACE + extra, tick=False):
        call_command("expire_uploads")


def test_uploading_again_after_confirm_never_changes_the_shot_and_the_stray_file_is_deleted(
    editor_client, s3, s3_bucket  # noqa: F811
):
    began = begin(editor_client, photo := sample_images.jpeg_from_phone((64, 32)))
    assert post_to_s3(began["upload"], photo) in (200, 201, 204)
    assert editor_client.post(f"/api/v1/product-shots/{began['shot']['id']}/confirm/").status_code == 200
    shot = ProductShot.objects.get(pk=began["shot"]["id"])
    image = objectstore.get_bytes(shot.image)

    other = sample_images.photo()
    assert post_to_s3(began["upload"], other) in (200, 201, 204)  # the URL is still valid: S3 takes it
    again = editor_client.post(f"/api/v1/product-shots/{shot.pk}/confirm/")
    stray = [key for key in keys(s3, s3_bucket) if key != shot.image]
    call_command("expire_uploads")  # the URL has not expired: it could be used again anyway
    kept = keys(s3, s3_bucket)
    clean_up_after_expiry(shot)

    shot.refresh_from_db()
    assert again.status_code == 400 and "already confirmed" in again.json()["detail"]
    assert objectstore.get_bytes(shot.image) == image and shot.status == ProductShot.Status.READY
    assert len(stray) == 1 and stray[0].startswith(f"stores/{shot.store_id}/uploads/")
    assert kept == sorted([shot.image, stray[0]])
    assert keys(s3, s3_bucket) == [shot.image]


def test_a_shot_never_confirmed_is_deleted_with_its_upload_after_the_url_expired(
    editor_client, s3, s3_bucket  # noqa: F811
):
    began = begin(editor_client, photo := sample_images.photo())
    assert post_to_s3(began["upload"], photo) in (200, 201, 204)
    shot = ProductShot.objects.get(pk=began["shot"]["id"])
    clean_up_after_expiry(shot, extra=-timedelta(seconds=1))  # within the grace period: kept
    during_grace = editor_client.get(f"/api/v1/product-shots/{shot.pk}/").status_code

    clean_up_after_expiry(shot)

    assert during_grace == 200
    assert editor_client.get(f"/api/v1/product-shots/{shot.pk}/").status_code == 404
    assert keys(s3, s3_bucket) == []


def test_a_file_uploaded_after_a_rejected_confirm_is_deleted_after_the_url_expired(
    editor_client, s3, s3_bucket  # noqa: F811
):
    began = begin(editor_client, sample_images.SVG)
    shot = ProductShot.objects.get(pk=began["shot"]["id"])
    assert post_to_s3(began["upload"], sample_images.SVG) in (200, 201, 204)
    assert editor_client.post(f"/api/v1/product-shots/{shot.pk}/confirm/").status_code == 415  # shot deleted
    assert post_to_s3(began["upload"], sample_images.SVG) in (200, 201, 204)

    clean_up_after_expiry(shot)

    assert keys(s3, s3_bucket) == []
