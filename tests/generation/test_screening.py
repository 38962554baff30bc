"""A generated candidate is never a real person: when its job succeeds it is screened against every face the store
and the public gallery hold, a near-copy cannot be kept, and a kept face carries its screening.

The descriptors are real: dlib's, of two test portraits (Grace Hopper as the store's uploaded face, the astronaut
Eileen Collins as a published gallery face). The succeeded events go through the events worker's own handler
(``core.events.event_apply``) on PostgreSQL.
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from catalog.models import ModelFace
from core import events, objectstore
from generation import candidates
from generation.models import Job, JobState
from generation.screening import NOT_A_REAL_PERSON_MARGIN, candidates_spread
from tests.accounts.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def descriptors() -> dict[str, np.ndarray]:
    from gpu_worker.face.detect import analyze
    from gpu_worker.face.embed import embedding
    from tests.gpu_worker.face_photos import astronaut, grace_hopper

    found = {}
    for name, photo in (("grace", grace_hopper), ("eileen", astronaut)):
        image = photo()
        found[name] = np.asarray(embedding(image, max(analyze(image), key=lambda f: f.size)), dtype=np.float64)
    return found


def offset(vector: np.ndarray, distance: float, seed: int) -> list[float]:
    """``vector`` moved ``distance`` away in a fixed random direction."""
    direction = np.random.default_rng(seed).normal(size=vector.shape)
    return [float(v) for v in vector + distance * direction / np.linalg.norm(direction)]


def face_with(store, name: str, descriptor, **fields) -> ModelFace:
    summary = {"embedding": [float(v) for v in descriptor]} if descriptor is not None else {}
    return ModelFace.objects.create(store=store, name=name, image=f"faces/{uuid.uuid4().hex}.png",
                                    asset_state=ModelFace.AssetState.READY, asset_summary=summary, **fields)


@pytest.fixture
def gallery(descriptors):
    """A store with its uploaded Grace, a published public Eileen, and another store's face (never compared)."""
    membership = MembershipFactory()
    grace = face_with(membership.store, "Grace", descriptors["grace"], source=ModelFace.Source.UPLOADED,
                      consent_given_by="Grace", consent_purpose="store model", consent_given_at="2026-01-01T00:00Z")
    eileen = face_with(None, "Eileen", descriptors["eileen"], curation=ModelFace.Curation.PUBLISHED)
    face_with(MembershipFactory().store, "Someone else's", offset(descriptors["grace"], 0.9, seed=1))
    face_with(membership.store, "Still preparing", None)
    return membership, grace, eileen


def engine_screening(passed: bool = True, **fields) -> dict:
    return {"margin": 0.6, "nearest_contributor": {"input": "face_1", "distance": 0.8}, "max_weight": 0.4,
            "weight_limit": 0.5, "passed": passed, **fields}


def succeeded_candidate(store, embedding, screening=None, seed: int = 0) -> Job:
    """A generate_face job finished by the worker's succeeded event (the job's result image is stored)."""
    job = Job.objects.create(store=store, kind="generate_face", state=JobState.RUNNING, params={"seed": seed},
                             inputs={"faces": [1, 2, 3]})
    key = objectstore.put_bytes(f"stores/{store.pk}/jobs/{job.pk}/result.png", b"\x89PNG candidate")
    metrics = {"engine": "generate:classical", "screening": screening or engine_screening(), "skipped": []}
    if embedding is not None:
        metrics["embedding"] = embedding
    outcome = events.event_apply({
        "event_id": f"{job.pk}:1:succeeded", "type": "succeeded", "subject": str(job.pk), "attempt": 1,
        "at": time.time(), "outputs": {"image": key}, "metrics": metrics,
    })
    assert outcome == "applied"
    return Job.objects.get(pk=job.pk)


def test_a_near_copy_of_a_store_face_is_refused_and_cannot_be_kept(client, gallery, descriptors):
    membership, grace, _ = gallery
    job = succeeded_candidate(membership.store, offset(descriptors["grace"], 0.04, seed=2))

    screening = job.metrics["screening"]
    assert screening["passed"] is False and screening["reason"] == "near_existing_face"
    assert screening["nearest_face"]["id"] == grace.pk and screening["nearest_face"]["name"] == "Grace"
    assert screening["nearest_face"]["distance"] == pytest.approx(0.04, abs=1e-3)
    assert screening["gallery_margin"] == NOT_A_REAL_PERSON_MARGIN and screening["engine_passed"] is True
    assert screening["faces_checked"] == 2  # Grace and Eileen: not the other store's, not the unprepared face

    with translation.override("ko"), pytest.raises(ValidationError) as refused:
        candidates.candidate_keep(store=membership.store, job_id=job.pk, kept_by=membership.user)
    assert refused.value.messages == [
        "이 후보는 이미 있는 얼굴(‘Grace’)과 너무 닮아서 쓸 수 없어요. 다른 후보를 보관하거나 새로 만들어 주세요."]
    with translation.override("en"), pytest.raises(ValidationError) as refused_en:
        candidates.candidate_keep(store=membership.store, job_id=job.pk, kept_by=membership.user)
    assert "looks too much like a face you already have (‘Grace’)" in refused_en.value.messages[0]
    assert not ModelFace.objects.filter(generated_by_job=job.pk).exists()


def test_the_candidate_grid_shows_the_refusal_and_offers_no_keep(client, gallery, descriptors):
    membership, _, _ = gallery
    client.force_login(membership.user)
    near = succeeded_candidate(membership.store, offset(descriptors["eileen"], 0.03, seed=3), seed=0)
    far = succeeded_candidate(membership.store, offset(descriptors["grace"], 0.9, seed=4), seed=1)
    url = reverse("candidates") + f"?jobs={near.pk},{far.pk}"

    korean = client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "이미 있는 얼굴(‘Eileen’)과 너무 닮아서 쓸 수 없어요" in korean and "거절됨" in korean
    assert f'id="keep-{near.pk}"' not in korean and f'id="keep-{far.pk}"' in korean
    assert f'id="discard-{near.pk}"' in korean  # a refused candidate can still be thrown away
    nearest = far.metrics["screening"]["nearest_face"]["distance"]
    assert f"Nearest real face {nearest:.2f} (margin 0.60)" in english
    spread = candidates_spread([near, far])
    assert spread["count"] == 2 and spread["min"] == spread["mean"] > 0.7
    assert f"smallest {spread['min']:.2f}, average {spread['mean']:.2f} over 2 candidates" in english

    refused = client.post(reverse("candidate-keep", args=[near.pk]), follow=True,
                          HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "너무 닮아서 쓸 수 없어요" in refused and not ModelFace.objects.filter(generated_by_job=near.pk).exists()


def test_a_far_candidate_is_kept_with_its_screening_shown_to_the_curator(client, gallery, descriptors):
    membership, grace, _ = gallery
    job = succeeded_candidate(membership.store, offset(descriptors["grace"], 0.9, seed=5))
    assert job.metrics["screening"]["passed"] is True and job.metrics["screening"]["reason"] == ""

    face = candidates.candidate_keep(store=membership.store, job_id=job.pk, kept_by=membership.user)

    assert face.screening == job.metrics["screening"]
    assert face.screening["nearest_face"]["id"] == grace.pk and face.screening["nearest_face"]["distance"] > 0.7
    client.force_login(membership.user)
    listed = client.get(f"/api/v1/faces/{face.pk}/").json()
    assert listed["screening"]["passed"] is True and listed["screening"]["gallery_margin"] == NOT_A_REAL_PERSON_MARGIN

    ModelFace.objects.filter(pk=face.pk).update(curation=ModelFace.Curation.PENDING)
    client.force_login(UserFactory(is_staff=True))
    page = client.get(reverse("curation"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    distance = f"{face.screening['nearest_face']['distance']:.2f}"
    assert f"nearest real face ‘Grace’ {distance} (margin 0.60)" in page and "passed" in page


@pytest.mark.parametrize(("engine", "reason"), [
    (engine_screening(passed=False, nearest_contributor={"input": "face_0", "distance": 0.41}), "near_contributor"),
    (engine_screening(passed=False, max_weight=0.8), "dominated_by_contributor"),
])
def test_the_engines_contributor_screening_still_refuses(gallery, descriptors, engine, reason):
    membership, _, _ = gallery
    job = succeeded_candidate(membership.store, offset(descriptors["grace"], 0.9, seed=6), screening=engine)

    assert job.metrics["screening"]["passed"] is False and job.metrics["screening"]["reason"] == reason
    with pytest.raises(ValidationError):
        candidates.candidate_keep(store=membership.store, job_id=job.pk, kept_by=membership.user)


def test_a_candidate_without_a_descriptor_is_not_measured_and_refused(gallery):
    membership, _, _ = gallery
    job = succeeded_candidate(membership.store, None)

    assert job.metrics["screening"]["reason"] == "not_measured" and job.metrics["screening"]["passed"] is False
    with translation.override("ko"), pytest.raises(ValidationError) as refused:
        candidates.candidate_keep(store=membership.store, job_id=job.pk, kept_by=membership.user)
    assert "확인하지 못해서" in refused.value.messages[0]


def test_other_job_kinds_are_not_screened():
    store = MembershipFactory().store
    job = Job.objects.create(store=store, kind="restore", state=JobState.RUNNING)
    events.event_apply({"event_id": f"{job.pk}:1:succeeded", "type": "succeeded", "subject": str(job.pk),
                        "attempt": 1, "at": time.time(), "outputs": {"image": "k"}, "metrics": {"run_s": 1}})

    assert "screening" not in Job.objects.get(pk=job.pk).metrics
