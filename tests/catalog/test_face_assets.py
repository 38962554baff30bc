"""Every face entering a gallery is analysed once by the GPU fleet; its jobs then use the stored analysis."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from catalog import faces
from catalog.face_assets import face_asset_key
from catalog.models import ModelFace
from core import events, objectstore
from core.models import OutboxMessage
from gpu_worker.spec import FACE_ASSET_VERSION, QUEUE_GPU, TASK_PREPARE_FACE_ASSET, TASK_RUN_JOB
from tests.catalog import sample_images
from tests.catalog.factories import ModelFaceFactory, ProductShotFactory, PublicFaceFactory

pytestmark = pytest.mark.django_db

CONSENT = {"consent_given_by": "김지수 (Kim Ji-su)", "consent_purpose": "Virtual model for our spring catalogue"}
SUMMARY = {"box": [12, 20, 96, 96], "yaw": 4.5, "landmarks": 478}


def upload_face(client) -> dict:
    photo = SimpleUploadedFile("jisu.jpg", sample_images.jpeg_from_phone(), content_type="image/jpeg")
    response = client.post("/api/v1/faces/", {"file": photo, "name": "Ji-su", **CONSENT})
    assert response.status_code == 201, response.json()
    return response.json()


def asset_requests(face: ModelFace) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(task=TASK_PREPARE_FACE_ASSET, payload__face_id=str(face.pk)))


def worker_answer(face: ModelFace, *, asset: dict | None = None, error: dict | None = None, run: int = 1) -> dict:
    """The ``face_asset_prepared`` event gpu_worker.tasks.prepare_face_asset publishes."""
    fields = {"error": error} if error else {"asset": asset or {
        "key": face.asset_key, "version": FACE_ASSET_VERSION, "summary": SUMMARY}}
    return {"event_id": f"{face.pk}:{run}:face_asset_prepared", "type": "face_asset_prepared",
            "subject": str(face.pk), "attempt": run, "at": 1_796_000_000.0, **fields}


def swap_job_inputs(client, face_id: int, store) -> dict:
    shot = ProductShotFactory(store=store)
    response = client.post("/api/v1/jobs/", {"kind": "swap", "inputs": {"face": face_id, "product_shot": shot.pk}},
                           content_type="application/json")
    assert response.status_code == 201, response.json()
    return OutboxMessage.objects.get(task=TASK_RUN_JOB, payload__job_id=response.json()["id"]).payload["inputs"]


def test_an_uploaded_face_is_queued_for_its_asset_with_the_upload(editor_client, editor):
    body = upload_face(editor_client)

    face = ModelFace.objects.get(pk=body["id"])
    [message] = asset_requests(face)
    expected_key = f"faces/{editor.store.pk}/{face.pk}/asset-v{FACE_ASSET_VERSION}.npz"
    assert message.queue == QUEUE_GPU
    assert message.payload == {"face_id": str(face.pk), "image": face.image, "asset_key": expected_key}
    assert face.asset_key == expected_key and face.asset_state == "pending"
    assert body["asset"] == {"state": "pending", "version": None, "error": "", "summary": {}}


def test_a_prepared_asset_makes_the_face_ready_and_its_next_swap_job_carries_the_asset(editor_client, editor):
    face = ModelFace.objects.get(pk=upload_face(editor_client)["id"])
    while_pending = swap_job_inputs(editor_client, face.pk, editor.store)

    outcome = events.event_apply(worker_answer(face))
    again = events.event_apply(worker_answer(face))  # a redelivery changes nothing
    shown = editor_client.get(f"/api/v1/faces/{face.pk}/").json()["asset"]
    once_ready = swap_job_inputs(editor_client, face.pk, editor.store)

    assert (outcome, again) == ("applied", "duplicate")
    assert shown == {"state": "ready", "version": FACE_ASSET_VERSION, "error": "", "summary": SUMMARY}
    assert set(while_pending) == {"source", "target"}  # a pending face does not hold the job up
    assert once_ready["source_asset"] == face.asset_key and once_ready["source"] == face.image


def test_a_failed_asset_shows_the_reason_and_jobs_still_run_on_the_photo(editor_client, editor):
    face = ModelFace.objects.get(pk=upload_face(editor_client)["id"])

    events.event_apply(worker_answer(face, error={"code": "no_face", "message": "No face was found in the photo."}))

    shown = editor_client.get(f"/api/v1/faces/{face.pk}/").json()["asset"]
    assert shown["state"] == "failed" and shown["version"] is None
    assert shown["error"] == "no_face: No face was found in the photo."
    assert set(swap_job_inputs(editor_client, face.pk, editor.store)) == {"source", "target"}


def test_stale_answers_are_ignored(editor_client):
    face = ModelFace.objects.get(pk=upload_face(editor_client)["id"])
    events.event_apply(worker_answer(face, run=1))

    older_format = worker_answer(face, run=2, asset={"key": face_asset_key(face, 0), "version": 0, "summary": {}})
    late_failure = worker_answer(face, run=3, error={"code": "internal_error", "message": "a lost run"})
    unknown_face = {**worker_answer(face, run=4), "subject": "999999999"}

    outcomes = [events.event_apply(e) for e in (older_format, late_failure, unknown_face)]

    face.refresh_from_db()
    assert [o.split(":")[0] for o in outcomes] == ["ignored"] * 3
    assert (face.asset_state, face.asset_version, face.asset_summary) == ("ready", FACE_ASSET_VERSION, SUMMARY)


def test_a_job_ignores_an_asset_of_another_format(editor_client, editor):
    face = ModelFace.objects.get(pk=upload_face(editor_client)["id"])
    ModelFace.objects.filter(pk=face.pk).update(asset_state="ready", asset_version=FACE_ASSET_VERSION + 1)

    assert "source_asset" not in swap_job_inputs(editor_client, face.pk, editor.store)


def test_a_kept_candidate_and_a_published_public_copy_are_queued_too(editor, media_root):
    from tests.accounts.factories import UserFactory

    job_id = uuid.uuid4()
    output = objectstore.put_bytes(f"stores/{editor.store.pk}/jobs/{job_id}/result.png", sample_images.photo("PNG"))
    kept = faces.face_keep_generated(store=editor.store, job_id=job_id, image_key=output, created_by=editor.user)
    curator = UserFactory(is_staff=True)
    submitted = faces.face_submit_to_gallery(face=kept)
    faces.face_curate(face=submitted, action="approve", curator=curator)
    faces.face_curate(face=submitted, action="publish", curator=curator)
    public = ModelFace.objects.get(store__isnull=True)

    assert [m.payload["image"] for m in asset_requests(kept)] == [kept.image]
    assert [m.payload["asset_key"] for m in asset_requests(public)] == [
        f"faces/public/{public.pk}/asset-v{FACE_ASSET_VERSION}.npz"]


def test_a_face_added_in_the_admin_is_queued(client):
    from tests.accounts.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    photo = SimpleUploadedFile("grace.jpg", sample_images.jpeg_from_phone(), content_type="image/jpeg")

    response = client.post("/admin/catalog/modelface/add/", {"photo": photo, "name": "Grace", "tags": '["elegant"]',
                                                             **CONSENT})

    assert response.status_code == 302, response.content.decode()[:2000]
    public = ModelFace.objects.get(store__isnull=True)
    assert len(asset_requests(public)) == 1 and public.asset_key.startswith("faces/public/")


def test_the_command_queues_faces_without_a_usable_asset_or_all_of_them():
    ready = ModelFaceFactory(
        asset_state="ready", asset_version=FACE_ASSET_VERSION, asset_key=f"faces/1/1/asset-v{FACE_ASSET_VERSION}.npz"
    )
    older = ModelFaceFactory(asset_state="ready", asset_version=FACE_ASSET_VERSION - 1, asset_key="k")
    failed, never_asked = ModelFaceFactory(asset_state="failed"), PublicFaceFactory()

    call_command("prepare_face_assets", "--missing")
    missing = {int(m.payload["face_id"]) for m in OutboxMessage.objects.filter(task=TASK_PREPARE_FACE_ASSET)}
    OutboxMessage.objects.all().delete()
    call_command("prepare_face_assets", "--all")
    everything = {int(m.payload["face_id"]) for m in OutboxMessage.objects.filter(task=TASK_PREPARE_FACE_ASSET)}

    assert missing == {older.pk, failed.pk, never_asked.pk}
    assert everything == {ready.pk, older.pk, failed.pk, never_asked.pk}
    expected_key = f"faces/public/{never_asked.pk}/asset-v{FACE_ASSET_VERSION}.npz"
    assert ModelFace.objects.get(pk=never_asked.pk).asset_key == expected_key


def test_deleting_a_face_deletes_its_asset(editor_client, django_capture_on_commit_callbacks):
    face = ModelFace.objects.get(pk=upload_face(editor_client)["id"])
    objectstore.put_bytes(face.asset_key, b"asset bytes")

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.delete(f"/api/v1/faces/{face.pk}/")

    assert response.status_code == 204
    assert not objectstore.exists(face.asset_key) and not objectstore.exists(face.image)


def test_staff_prepare_selected_faces_again_from_the_admin(client):
    from tests.accounts.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    ready = PublicFaceFactory(asset_state="ready", asset_version=FACE_ASSET_VERSION, asset_key="k")

    response = client.post("/admin/catalog/modelface/", {"action": "prepare_assets", "_selected_action": [ready.pk]},
                           follow=True)

    ready.refresh_from_db()
    assert response.status_code == 200 and "Queued 1 face asset request(s)." in response.content.decode()
    assert ready.asset_state == "pending" and len(asset_requests(ready)) == 1
