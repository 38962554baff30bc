"""A seller uploads product shots; Gasang keeps a clean copy (rotated, metadata gone) and looks for faces."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog import services
from catalog.images import MAX_UPLOAD_BYTES, ImageRejected
from catalog.models import ProductShot
from core import objectstore
from core.models import OutboxMessage
from gpu_worker.spec import QUEUE_GPU, TASK_DETECT_FACES
from tests.catalog import sample_images
from tests.catalog.conftest import stored_files
from tests.catalog.factories import ProductShotFactory

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name: str = "dress.jpg", content_type: str = "image/jpeg"):
    return client.post("/api/v1/product-shots/", {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def test_a_phone_photo_is_rotated_upright_stripped_of_metadata_and_queued_for_face_detection(editor_client, editor):
    response = upload(editor_client, sample_images.jpeg_from_phone((64, 32)))

    assert response.status_code == 201, response.json()
    body = response.json()
    shot = ProductShot.objects.get(pk=body["id"])
    stored = objectstore.get_bytes(shot.image)
    image = Image.open(io.BytesIO(stored))
    assert shot.store == editor.store and shot.image.startswith(f"stores/{editor.store.pk}/shots/")
    assert shot.image.endswith(".jpg") and image.format == "JPEG"
    assert (body["width"], body["height"]) == (32, 64) == image.size  # orientation 6 applied: now portrait
    red, blue = image.convert("RGB").getpixel((16, 5)), image.convert("RGB").getpixel((16, 58))
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]  # the left (red) half is now on top
    assert not image.getexif() and "exif" not in image.info and "comment" not in image.info
    assert b"Exif" not in stored and b"PhoneMaker" not in stored and b"shot at home" not in stored
    assert body["faces_state"] == "pending" and body["faces"] == []
    assert body["image_url"].endswith(shot.image) and body["size_bytes"] == len(stored)
    message = OutboxMessage.objects.get(task=TASK_DETECT_FACES)
    assert message.queue == QUEUE_GPU and message.payload == {"shot_id": str(shot.pk), "image": shot.image}


@pytest.mark.parametrize("fmt, data, ext", [
    ("PNG", sample_images.png_with_text(), "png"),
    ("WEBP", sample_images.photo("WEBP"), "webp"),
])
def test_png_and_webp_are_accepted_and_keep_their_format(editor_client, fmt, data, ext):
    response = upload(editor_client, data, name=f"look.{ext}", content_type=f"image/{ext}")

    assert response.status_code == 201, response.json()
    shot = ProductShot.objects.get()
    stored = objectstore.get_bytes(shot.image)
    assert shot.image.endswith(f".{ext}") and Image.open(io.BytesIO(stored)).format == fmt
    assert shot.content_type == f"image/{ext}"
    assert b"Jane Doe" not in stored


def test_the_format_comes_from_the_content_not_the_name(editor_client):
    response = upload(editor_client, sample_images.photo("PNG"), name="really-a-png.jpg")

    assert response.status_code == 201 and response.json()["content_type"] == "image/png"


BAD_UPLOADS = {
    "zero-byte": (b"", 400, "empty_file", "The file is empty"),
    "truncated jpeg": (sample_images.truncated_jpeg(), 400, "corrupt_image", "damaged or incomplete"),
    "svg": (sample_images.SVG, 415, "unsupported_format", "SVG drawings are not accepted"),
    "pdf": (sample_images.PDF, 415, "unsupported_format", "PDF document"),
    "heic": (sample_images.HEIC, 415, "unsupported_format", "HEIC/HEIF photos are not supported"),
    "png bomb": (sample_images.png_bomb(10_000, 10_000), 400, "too_many_pixels", "10000×10000 pixels"),
    "garbage named .jpg": (sample_images.GARBAGE, 415, "unsupported_format", "not a JPEG, PNG or WEBP image"),
    "gif": (sample_images.photo("GIF"), 415, "unsupported_format", "GIF images are not supported"),
}


@pytest.mark.parametrize("data, status, code, message", BAD_UPLOADS.values(), ids=BAD_UPLOADS.keys())
def test_bad_uploads_are_refused_with_a_clear_message_and_nothing_is_stored(
    editor_client, media_root, data, status, code, message
):
    response = upload(editor_client, data)

    assert response.status_code == status, response.json()
    assert response.json()["code"] == code and message in response.json()["detail"]
    assert not ProductShot.objects.exists() and not OutboxMessage.objects.exists()
    assert stored_files(media_root) == []


def test_a_file_over_20_mb_is_refused_before_it_is_parsed(editor_client, media_root):
    response = upload(editor_client, b"\xff\xd8\xff" + b"\0" * MAX_UPLOAD_BYTES)

    assert response.status_code == 413
    assert response.json() == {"detail": response.json()["detail"], "code": "too_large"}
    assert "the limit is 20 MB" in response.json()["detail"]
    assert not ProductShot.objects.exists() and stored_files(media_root) == []


def test_the_service_trusts_a_declared_size_over_20_mb_without_reading_the_file(editor):
    class HugeUpload:
        name, size = "huge.jpg", MAX_UPLOAD_BYTES + 1

        def read(self, *args):
            raise AssertionError("the file must not be read")

    with pytest.raises(ImageRejected) as rejected:
        services.product_shot_upload(store=editor.store, uploaded_by=editor.user, file=HugeUpload())

    assert rejected.value.code == "too_large"


def test_a_multipart_upload_without_a_file_says_so(editor_client):
    response = editor_client.post("/api/v1/product-shots/", {})

    assert response.status_code == 400 and response.json()["errors"]["file"]


def test_a_viewer_sees_shots_but_cannot_upload(viewer_client, editor):
    ProductShotFactory(store=editor.store)

    assert len(viewer_client.get("/api/v1/product-shots/").json()["results"]) == 1
    assert upload(viewer_client, sample_images.photo()).status_code == 403


def test_deleting_a_shot_removes_its_image(editor_client, media_root, django_capture_on_commit_callbacks):
    shot_id = upload(editor_client, sample_images.photo()).json()["id"]
    assert len(stored_files(media_root)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.delete(f"/api/v1/product-shots/{shot_id}/")

    assert response.status_code == 204 and stored_files(media_root) == []


def test_direct_upload_needs_s3_storage(editor_client):
    response = editor_client.post("/api/v1/product-shots/uploads/", {
        "filename": "dress.jpg", "content_type": "image/jpeg", "size": 1000}, content_type="application/json")

    assert response.status_code == 400
    assert "Direct uploads need S3 storage" in response.json()["detail"] and not ProductShot.objects.exists()
