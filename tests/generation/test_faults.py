"""Nothing is lost or done twice when processes die: worker crashes and broker outages.

(`bench/fault_checks.py` repeats the worker kill ten times and restarts PostgreSQL under load.)
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.models import ModelFace
from core import objectstore
from generation.models import Job, JobState
from tests.accounts.factories import MembershipFactory
from tests.generation.photos import astronaut, grace_hopper, jpeg_bytes
from tests.stack import wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def ready_inputs(client):
    owner = MembershipFactory()
    client.force_login(owner.user)
    face_key = objectstore.put_bytes("gallery/faces/fault-grace.jpg", jpeg_bytes(grace_hopper()))
    face = ModelFace.objects.create(store=None, image=face_key, curation=ModelFace.Curation.PUBLISHED)
    upload = client.post(
        "/api/v1/product-shots/", {"file": SimpleUploadedFile("a.jpg", jpeg_bytes(astronaut()), "image/jpeg")}
    )
    assert upload.status_code == 201, upload.content
    return owner, face, upload.json()["id"]


def finished(job_id):
    return Job.objects.filter(pk=job_id).exclude(state__in=[JobState.QUEUED, JobState.RUNNING]).first()


def test_gpu_worker_killed_mid_job_reruns_it_to_exactly_one_output_set(client, stack, s3_server, s3_bucket):
    owner, face, shot_id = ready_inputs(client)
    job_id = client.post(
        "/api/v1/jobs/",
        {"kind": "pipeline", "inputs": {"face": face.pk, "product_shot": shot_id}},
        content_type="application/json",
    ).json()["id"]
    wait_until(
        lambda: Job.objects.filter(pk=job_id, state=JobState.RUNNING).exists(), 90, "the job to start", interval=0.02
    )

    stack.kill("gpu")  # SIGKILL to the worker and its pool child, mid-job
    stack.start("gpu")
    job = wait_until(lambda: finished(job_id), 120, "the job to finish after the crash")

    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message, stack.log("gpu")[-3000:])
    assert job.attempts >= 2
    listed = s3_server.client().list_objects_v2(Bucket=s3_bucket, Prefix=f"stores/{owner.store.pk}/jobs/{job_id}/")
    assert [o["Key"] for o in listed.get("Contents", [])] == [job.outputs["image"]]


def test_cancelling_a_running_job_stops_it_and_frees_the_worker(client, stack):
    owner, face, shot_id = ready_inputs(client)
    body = {"kind": "pipeline", "inputs": {"face": face.pk, "product_shot": shot_id}}
    first = client.post("/api/v1/jobs/", body, content_type="application/json").json()["id"]
    wait_until(
        lambda: Job.objects.filter(pk=first, state=JobState.RUNNING).exists(), 90, "the job to start", interval=0.02
    )

    canceled = client.post(f"/api/v1/jobs/{first}/cancel/").json()
    second = client.post("/api/v1/jobs/", body, content_type="application/json").json()["id"]
    after = wait_until(lambda: finished(second), 120, "the next job to run on the freed worker")

    assert canceled["state"] == "canceled"
    assert after.state == JobState.SUCCEEDED
    assert Job.objects.get(pk=first).state == JobState.CANCELED and Job.objects.get(pk=first).outputs == {}
