"""Through real processes (PostgreSQL, Redis, the S3-API server, a gpu_worker with the classical engines, the events
worker, the relay): a generated face a seller kept is a face the store holds, so generating the very same face
again gives a near-copy of it, and that candidate is refused.

The classical generator is deterministic (same contributors, same seed → the same image), which makes the second
candidate a near-copy of the kept face by construction; the kept face's descriptor comes from the worker's own
preparation of its asset.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from catalog.models import ModelFace
from core import objectstore
from generation.models import Job, JobState
from tests.accounts.factories import MembershipFactory
from tests.generation.photos import jpeg_bytes
from tests.stack import wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
JSON = "application/json"


def contributors() -> list[np.ndarray]:
    """Three different men (dlib distances between them > 0.6), as the generate engine's own tests use."""
    from gpu_worker.face.imageio import read_image
    from tests.gpu_worker.face_photos import bald_crop, shared_photo

    return [read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg")), bald_crop(19), bald_crop(9)]


def public_faces(images: list[np.ndarray]) -> list[int]:
    ids = []
    for n, image in enumerate(images):
        key = objectstore.put_bytes(f"gallery/faces/e2e-contributor-{n}.jpg", jpeg_bytes(image))
        ids.append(ModelFace.objects.create(store=None, image=key, name=f"Contributor {n}",
                                            curation=ModelFace.Curation.PUBLISHED).pk)
    return ids


def generated(client, faces: list[int]) -> Job:
    created = client.post("/api/v1/jobs/", {"kind": "generate_face", "inputs": {"faces": faces},
                                            "params": {"seed": 3}}, content_type=JSON)
    assert created.status_code == 201, created.content
    return wait_until(lambda: Job.objects.filter(pk=created.json()["id"]).exclude(
        state__in=["queued", "running"]).first(), 300, "the generate_face job to finish")


def test_generating_a_kept_face_again_is_refused_as_a_near_copy(client, stack):
    owner = MembershipFactory()
    client.force_login(owner.user)
    faces = public_faces(contributors())

    first = generated(client, faces)
    assert first.state == JobState.SUCCEEDED, (first.error_code, first.error_message, first.error_input)
    screening = first.metrics["screening"]
    assert len(first.metrics["embedding"]) == 128
    assert screening["passed"] is True, screening

    kept = client.post(reverse("candidate-keep", args=[first.pk]), follow=True)
    assert kept.status_code == 200
    face = ModelFace.objects.get(store=owner.store, generated_by_job=first.pk)
    assert face.screening == screening
    assert client.get(f"/api/v1/faces/{face.pk}/").json()["screening"]["passed"] is True
    face = wait_until(lambda: ModelFace.objects.filter(pk=face.pk).exclude(asset_state="pending").first(), 180,
                      "the GPU worker to prepare the kept face's asset")
    assert face.asset_state == "ready", face.asset_error
    assert len(face.asset_summary["embedding"]) == 128

    again = generated(client, faces)
    assert again.state == JobState.SUCCEEDED, (again.error_code, again.error_message)
    refused = again.metrics["screening"]
    assert refused["passed"] is False and refused["reason"] == "near_existing_face", refused
    assert refused["nearest_face"]["id"] == face.pk and refused["nearest_face"]["distance"] < 0.1

    response = client.post(reverse("candidate-keep", args=[again.pk]), follow=True, HTTP_ACCEPT_LANGUAGE="ko")
    assert "너무 닮아서 쓸 수 없어요" in response.content.decode()
    assert not ModelFace.objects.filter(generated_by_job=again.pk).exists()
