"""A seller's upload becomes a finished, labelled image in object storage, through real processes.

PostgreSQL, Redis, an S3-API server on loopback, a real gpu_worker process (classical engines),
the events worker and the outbox relay.
"""

from __future__ import annotations

import datetime
import io
import json
import urllib.request

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog import services as catalog_services
from catalog.models import ModelFace, ProductShot
from core import objectstore
from generation.models import Job, JobState
from gpu_worker import content_credentials
from gpu_worker.provenance import read_xmp
from gpu_worker.spec import SOURCE_TYPE_COMPOSITE
from tests.accounts.factories import MembershipFactory
from tests.c2pa_pki import stack_pki
from tests.generation.photos import astronaut, grace_hopper, jpeg_bytes
from tests.stack import wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


CONSENT_AT = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)


def published_gallery_face(image: np.ndarray) -> ModelFace:
    key = objectstore.put_bytes("gallery/faces/e2e-grace.jpg", jpeg_bytes(image))
    return ModelFace.objects.create(
        store=None, image=key, name="Grace", curation=ModelFace.Curation.PUBLISHED, tags=["우아한"],
        source=ModelFace.Source.UPLOADED, consent_given_by="Estate of Grace Hopper (test)",
        consent_purpose="virtual model for store photos", consent_given_at=CONSENT_AT,
    )


def embedding(image: np.ndarray) -> np.ndarray:
    from gpu_worker.face.detect import analyze
    from gpu_worker.face.embed import embedding as face_embedding

    face = max(analyze(image), key=lambda f: f.size)
    return face_embedding(image, face)


def test_upload_then_pipeline_job_produces_a_labelled_result_of_the_chosen_face(client, stack):
    owner = MembershipFactory()
    client.force_login(owner.user)
    shot_pixels = astronaut()
    face_pixels = grace_hopper()
    face = published_gallery_face(face_pixels)

    upload = client.post(
        "/api/v1/product-shots/", {"file": SimpleUploadedFile("look.jpg", jpeg_bytes(shot_pixels), "image/jpeg")}
    )
    assert upload.status_code == 201, upload.content
    shot_id = upload.json()["id"]
    shot = wait_until(
        lambda: ProductShot.objects.filter(pk=shot_id, faces_state="ready").first(),
        90,
        "face detection on the product shot",
    )
    assert len(shot.faces) == 1 and len(shot.faces[0]["box"]) == 4

    created = client.post(
        "/api/v1/jobs/",
        {"kind": "pipeline", "inputs": {"face": face.pk, "product_shot": shot_id}},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    job_id = created.json()["id"]
    job = wait_until(
        lambda: Job.objects.filter(pk=job_id).exclude(state__in=["queued", "running"]).first(),
        180,
        "the pipeline job to finish",
    )

    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message)
    assert job.metrics["engine"].startswith("swap:") and job.metrics["queue_wait_s"] >= 0
    result_png = objectstore.get_bytes(job.outputs["image"])
    xmp = read_xmp(result_png)
    assert SOURCE_TYPE_COMPOSITE in xmp and job_id in xmp
    credential = content_credentials.read(result_png, "image/png", trust_anchors=stack_pki()["ca"])
    assert credential.state == "Trusted", credential.failures  # signed C2PA manifest (#18)
    assert credential.actions[-1]["action"] == "c2pa.edited" and credential.job["job_id"] == job_id
    assert credential.actions[-1]["digitalSourceType"] == SOURCE_TYPE_COMPOSITE
    (consent,) = credential.consents  # the gallery face's consent: that it exists, when, who attested — not who
    assert consent["role"] == "source" and consent["attested_by"] == "gallery"
    assert consent["attested_at"] == CONSENT_AT.isoformat() and len(consent["record"]) == 64
    assert "Grace Hopper" not in json.dumps(credential.manifest)
    result = np.asarray(Image.open(io.BytesIO(result_png)).convert("RGB"))
    stored_shot = np.asarray(Image.open(io.BytesIO(objectstore.get_bytes(shot.image))).convert("RGB"))
    assert result.shape == stored_shot.shape
    chosen = embedding(face_pixels)
    assert np.linalg.norm(embedding(result) - chosen) < np.linalg.norm(embedding(stored_shot) - chosen)

    detail = client.get(f"/api/v1/jobs/{job_id}/").json()
    url = detail["outputs"]["image"]["url"]
    assert "X-Amz-Expires=" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == result_png


def test_an_uploaded_face_is_prepared_once_and_its_swap_uses_the_prepared_asset(client, stack, settings, tmp_path):
    anchors = tmp_path / "trust.pem"  # the web tier trusts the stack's operator certificate, as the embedded run does
    anchors.write_text(stack_pki()["ca"])
    settings.C2PA_TRUST_ANCHORS_FILE = str(anchors)
    owner = MembershipFactory()
    client.force_login(owner.user)
    # This store publishes JPEGs on its shop: the result comes as a signed JPEG.
    catalog_services.store_options_update(store=owner.store, visible_ai_label=False, output_format="jpeg")
    consent = {"consent_given_by": "Grace (model release #12)", "consent_purpose": "Virtual model for our catalogue"}
    uploaded = client.post(
        "/api/v1/faces/",
        {"file": SimpleUploadedFile("grace.jpg", jpeg_bytes(grace_hopper()), "image/jpeg"), "name": "Grace", **consent},
    )
    assert uploaded.status_code == 201, uploaded.content
    face_id = uploaded.json()["id"]
    face = wait_until(
        lambda: ModelFace.objects.filter(pk=face_id).exclude(asset_state="pending").first(),
        120,
        "the GPU worker to prepare the face asset",
    )
    assert face.asset_state == "ready", face.asset_error
    shown = client.get(f"/api/v1/faces/{face_id}/").json()["asset"]
    assert shown["state"] == "ready" and shown["summary"]["face_px"] >= 80
    assert objectstore.get_bytes(face.asset_key)  # stored next to the face

    shot = client.post(
        "/api/v1/product-shots/", {"file": SimpleUploadedFile("look.jpg", jpeg_bytes(astronaut()), "image/jpeg")}
    ).json()
    wait_until(lambda: ProductShot.objects.filter(pk=shot["id"], faces_state="ready").first(), 90, "face detection")
    created = client.post(
        "/api/v1/jobs/", {"kind": "swap", "inputs": {"face": face_id, "product_shot": shot["id"]}},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    job = wait_until(
        lambda: Job.objects.filter(pk=created.json()["id"]).exclude(state__in=["queued", "running"]).first(),
        180,
        "the swap job to finish",
    )
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message)
    swap_stage = job.metrics["stages"][0]
    assert swap_stage["asset"]["prepared_in_job"] is False  # the worker used the stored asset
    consistency = client.get(f"/api/v1/jobs/{job.pk}/").json()["consistency"]
    assert consistency["distance"] == swap_stage["consistency"]["distance"] < consistency["threshold"]
    assert job.outputs["image"].endswith("/result.jpg")
    result = objectstore.get_bytes(job.outputs["image"])
    assert content_credentials.image_mime(result) == "image/jpeg"
    credential = content_credentials.read(result, "image/jpeg", trust_anchors=stack_pki()["ca"])
    assert credential.state == "Trusted", credential.failures
    assert credential.job["job_id"] == str(job.pk) and credential.actions[-1]["action"] == "c2pa.edited"
    checked = client.get(f"/api/v1/jobs/{job.pk}/credential/").json()
    assert checked["outcome"] == "trusted" and checked["job_id"] == str(job.pk)
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download["Content-Type"] == "image/jpeg" and 'filename="look-gasang.jpg"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == result
