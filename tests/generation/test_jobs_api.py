"""API customers create, list, inspect and cancel jobs; bad requests get clear 4xx answers."""

from __future__ import annotations

import pytest

from accounts.models import Role
from catalog.models import ModelFace
from core.models import OutboxMessage
from generation.models import Job, JobState
from gpu_worker.spec import TASK_RUN_JOB
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import private_face, public_face, queued_job, shot_for

pytestmark = pytest.mark.django_db
JSON = "application/json"


def create(client, body, **headers):
    return client.post("/api/v1/jobs/", body, content_type=JSON, **headers)


def pipeline_body(owner, face=None):
    face = face or public_face()
    return {
        "kind": "pipeline",
        "inputs": {"face": face.pk, "product_shot": shot_for(owner.store).pk},
        "params": {"restore_strength": 0.4},
    }


def test_created_job_is_queued_with_a_self_contained_spec_in_the_outbox(client, owner):
    response = create(client, pipeline_body(owner))

    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.state == JobState.QUEUED and response.json()["state"] == "queued"
    message = OutboxMessage.objects.get(task=TASK_RUN_JOB)
    assert message.payload["job_id"] == str(job.pk)
    assert message.payload["inputs"] == {
        "source": "gallery/faces/g.png",
        "target": f"stores/{owner.store.pk}/shots/look.jpg",
    }
    assert message.payload["params"]["restore_strength"] == 0.4


def test_idempotency_key_returns_the_same_job_and_refuses_a_different_body(client, owner):
    body = pipeline_body(owner)
    first = create(client, body, HTTP_IDEMPOTENCY_KEY="order-42")
    again = create(client, body, HTTP_IDEMPOTENCY_KEY="order-42")
    changed = create(client, {**body, "params": {"restore_strength": 0.9}}, HTTP_IDEMPOTENCY_KEY="order-42")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert changed.status_code == 409 and "Idempotency-Key" in changed.json()["detail"]
    assert Job.objects.count() == 1


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda b, o: {**b, "kind": "teleport"}, "kind"),
        (lambda b, o: {**b, "inputs": {"face": b["inputs"]["face"]}}, "inputs.product_shot"),
        (
            lambda b, o: {**b, "inputs": {**b["inputs"], "product_shot": shot_for(MembershipFactory().store).pk}},
            "inputs.product_shot",
        ),
        (
            lambda b, o: {**b, "inputs": {**b["inputs"], "face": public_face(ModelFace.Curation.PENDING).pk}},
            "inputs.face",
        ),
        (
            lambda b, o: {**b, "inputs": {**b["inputs"], "face": private_face(MembershipFactory().store).pk}},
            "inputs.face",
        ),
        (lambda b, o: {**b, "params": {"restore_strength": 3}}, "params.restore_strength"),
        (lambda b, o: {**b, "params": {"colour": "red"}}, "params"),
        (lambda b, o: {**b, "inputs": {**b["inputs"], "face": "abc"}}, "inputs.face"),
    ],
    ids=[
        "unknown kind",
        "missing input",
        "other store's shot",
        "unpublished gallery face",
        "other store's face",
        "strength out of range",
        "unknown param",
        "non-numeric id",
    ],
)
def test_bad_job_requests_get_400_naming_the_problem(client, owner, mutate, field):
    response = create(client, mutate(pipeline_body(owner), owner))

    assert response.status_code == 400, response.content
    assert field in response.json()["errors"] and response.json()["detail"]
    assert not Job.objects.exists() and not OutboxMessage.objects.exists()


def test_own_private_face_is_usable(client, owner):
    response = create(client, pipeline_body(owner, face=private_face(owner.store)))

    assert response.status_code == 201


def test_cancel_a_queued_job_and_cancelling_again_changes_nothing(client, owner):
    job_id = create(client, pipeline_body(owner)).json()["id"]

    first = client.post(f"/api/v1/jobs/{job_id}/cancel/")
    second = client.post(f"/api/v1/jobs/{job_id}/cancel/")

    assert first.json()["state"] == second.json()["state"] == "canceled"
    assert first.json()["error"]["code"] == "canceled"


def test_list_filters_by_state_and_kind_with_cursor_pages(client, owner):
    for _ in range(3):
        queued_job(owner.store, kind="restore")
    queued_job(owner.store, kind="swap", state=JobState.FAILED)

    failed = client.get("/api/v1/jobs/?state=failed").json()["results"]
    restores = client.get("/api/v1/jobs/?kind=restore&page_size=2").json()
    rest = client.get(restores["next"]).json()

    assert [j["kind"] for j in failed] == ["swap"]
    assert len(restores["results"]) == 2 and len(rest["results"]) == 1 and rest["next"] is None


def test_viewer_cannot_create_jobs(client):
    viewer = MembershipFactory(role=Role.VIEWER, store=MembershipFactory().store)
    client.force_login(viewer.user)

    response = create(client, pipeline_body(viewer))

    assert response.status_code == 403


def test_batch_creates_one_pipeline_job_per_shot(client, owner):
    shots = [shot_for(owner.store).pk for _ in range(3)]
    face = public_face()

    response = client.post("/api/v1/batches/", {"face": face.pk, "product_shots": shots}, content_type=JSON)

    assert response.status_code == 201, response.content
    batch = response.json()
    assert batch["counts"]["total"] == 3 and batch["counts"]["queued"] == 3 and batch["progress"] == 0
    assert Job.objects.filter(batch_id=batch["id"], kind="pipeline").count() == 3


def test_batch_with_a_foreign_shot_creates_nothing(client, owner):
    shots = [shot_for(owner.store).pk, shot_for(MembershipFactory().store).pk]

    response = client.post("/api/v1/batches/", {"face": public_face().pk, "product_shots": shots}, content_type=JSON)

    assert response.status_code == 400 and not Job.objects.exists()


def test_prefer_wait_returns_202_when_the_job_is_not_done_in_time(client, owner):
    response = create(client, pipeline_body(owner), HTTP_PREFER="wait=1")

    assert response.status_code == 202 and response.json()["state"] == "queued"


def test_a_finished_job_reads_the_same_as_its_documented_fields_say(client, owner):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework import serializers

    from generation.serializers import JobSerializer

    batch_id = client.post(
        "/api/v1/batches/", {"face": public_face().pk, "product_shots": [shot_for(owner.store).pk]}, content_type=JSON
    ).json()["id"]
    job = Job.objects.get(batch_id=batch_id)
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(
        state=JobState.FAILED, progress=40, attempts=3, started_at=now - timedelta(seconds=7), finished_at=now,
        error_code="no_face", error_message="No face found in the product shot.",
        outputs={"image": f"stores/{owner.store.pk}/jobs/{job.pk}/result.png"}, metrics={"run_s": 1.5},
    )

    shown = client.get(f"/api/v1/jobs/{job.pk}/").json()
    field_by_field = serializers.Serializer.to_representation(JobSerializer(), Job.objects.get(pk=job.pk))

    assert list(shown) == list(JobSerializer().fields) == list(field_by_field)
    assert shown["outputs"]["image"]["key"] in shown["outputs"]["image"]["url"]
    assert shown == field_by_field
    assert shown["error"] == {"code": "no_face", "message": "No face found in the product shot."}
    assert shown["batch"] == batch_id and shown["finished_at"].endswith("+09:00")
