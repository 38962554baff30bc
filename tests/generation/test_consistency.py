"""Sellers see how close each result's face is to their model, per job and over a batch, and which ones to check."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from generation.models import Job, JobState
from generation.serializers import JobSerializer
from tests.generation.factories import public_face, shot_for

pytestmark = pytest.mark.django_db
JSON = "application/json"


def measured(distance: float, *, flagged: bool = False, retried: bool = False) -> dict:
    """The worker's succeeded metrics with the swap engine's measurement."""
    return {"engine": "swap:classical", "run_s": 1.2,
            "consistency": {"distance": distance, "threshold": 0.6, "retried": retried, "flagged": flagged}}


def finish(job: Job, metrics: dict) -> None:
    Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED, progress=100, metrics=metrics,
                                         outputs={"image": f"stores/{job.store_id}/jobs/{job.pk}/result.png"})


def new_batch(client, owner, shots: int) -> dict:
    body = {"face": public_face().pk, "product_shots": [shot_for(owner.store).pk for _ in range(shots)]}
    response = client.post("/api/v1/batches/", body, content_type=JSON)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_job_shows_its_consistency_from_the_workers_metrics(client, owner):
    batch = new_batch(client, owner, 1)
    job = Job.objects.get(batch_id=batch["id"])
    before = client.get(f"/api/v1/jobs/{job.pk}/").json()

    finish(job, measured(0.71, flagged=True, retried=True))
    shown = client.get(f"/api/v1/jobs/{job.pk}/").json()
    listed = client.get("/api/v1/jobs/").json()["results"][0]

    assert before["consistency"] is None
    assert shown["consistency"] == {"distance": 0.71, "threshold": 0.6, "retried": True, "flagged": True}
    assert listed["consistency"] == shown["consistency"] and shown["metrics"]["consistency"]["distance"] == 0.71
    field_by_field = serializers.Serializer.to_representation(JobSerializer(), Job.objects.get(pk=job.pk))
    assert shown == field_by_field and list(shown) == list(JobSerializer().fields)


@pytest.mark.parametrize("metrics", [{}, {"consistency": "n/a"}, {"consistency": {"distance": None}},
                                     {"consistency": {"distance": True}}])
def test_a_job_without_a_usable_measurement_has_no_consistency(client, owner, metrics):
    job = Job.objects.get(batch_id=new_batch(client, owner, 1)["id"])
    finish(job, metrics)

    assert client.get(f"/api/v1/jobs/{job.pk}/").json()["consistency"] is None


def test_a_batch_summarises_its_results_consistency(client, owner):
    batch = new_batch(client, owner, 4)
    jobs = list(Job.objects.filter(batch_id=batch["id"]).order_by("created_at"))
    empty = client.get(f"/api/v1/batches/{batch['id']}/").json()["consistency"]

    finish(jobs[0], measured(0.30))
    finish(jobs[1], measured(0.50, retried=True))
    finish(jobs[2], measured(0.90, flagged=True))  # jobs[3] is still running: not counted
    summary = client.get(f"/api/v1/batches/{batch['id']}/").json()["consistency"]
    listed = client.get("/api/v1/batches/").json()["results"][0]["consistency"]

    assert empty == {"count": 0, "mean": None, "spread": None, "max": None, "flagged": 0}
    assert summary == {"count": 3, "mean": 0.5667, "spread": 0.6, "max": 0.9, "flagged": 1}
    assert listed == summary
