"""The job and batch pages say how close each result's face is to the model, and flag the ones to check."""

from __future__ import annotations

import pytest
from django.urls import reverse

from generation.models import Batch, Job, JobState
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import public_face, shot_for

pytestmark = pytest.mark.django_db


def login(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9"
    return membership


def finished_job(store, batch=None, *, distance: float, flagged: bool) -> Job:
    face = batch.face if batch else public_face()
    shot = shot_for(store)
    return Job.objects.create(
        store=store, batch=batch, kind="pipeline", state=JobState.SUCCEEDED,
        inputs={"face": face.pk, "product_shot": shot.pk}, outputs={"image": f"stores/{store.pk}/jobs/x/result.png"},
        metrics={"consistency": {"distance": distance, "threshold": 0.6, "retried": False, "flagged": flagged}},
    )


def test_a_flagged_job_shows_its_distance_and_a_badge_in_korean_and_english(client):
    membership = login(client)
    job = finished_job(membership.store, distance=0.7312, flagged=True)
    url = reverse("job-detail", args=[job.pk])

    korean = client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "모델 얼굴과의 거리" in korean and "0.731" in korean
    assert "확인 필요: 얼굴이 모델과 다를 수 있습니다" in korean
    assert "Face distance to the model" in english and "flagged above 0.600" in english
    assert "Flagged: the face may not match the model" in english


def test_a_job_that_matches_has_no_badge_and_an_unmeasured_one_shows_nothing(client):
    membership = login(client)
    close = finished_job(membership.store, distance=0.31, flagged=False)
    unmeasured = Job.objects.create(store=membership.store, kind="restore", state=JobState.SUCCEEDED)

    close_html = client.get(reverse("job-detail", args=[close.pk])).content.decode()
    unmeasured_html = client.get(reverse("job-detail", args=[unmeasured.pk])).content.decode()

    assert "0.310" in close_html and "flag-badge" not in close_html
    assert "모델 얼굴과의 거리" not in unmeasured_html


def test_the_batch_page_summarises_consistency_and_counts_the_flagged_results(client):
    membership = login(client)
    batch = Batch.objects.create(store=membership.store, face=public_face())
    for distance, flagged in ((0.3, False), (0.5, False), (0.9, True)):
        finished_job(membership.store, batch, distance=distance, flagged=flagged)

    korean = client.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    english = client.get(reverse("batch-detail", args=[batch.pk]) + "?fragment=1",
                         HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "평균 얼굴 거리" in korean and "0.567" in korean and "0.600" in korean and "0.900" in korean
    assert "결과 1개 확인 필요: 얼굴이 모델과 다를 수 있습니다." in korean
    assert "Spread (largest − smallest)" in english
    assert "1 result flagged: the face may not match the model." in english


def test_a_batch_of_one_shows_its_distance_not_a_spread_of_one(client):
    membership = login(client)
    batch = Batch.objects.create(store=membership.store, face=public_face())
    finished_job(membership.store, batch, distance=0.427, flagged=False)

    korean = client.get(reverse("batch-detail", args=[batch.pk])).content.decode()

    assert "모델 얼굴과의 거리" in korean and "0.427" in korean
    assert "편차" not in korean and "평균 얼굴 거리" not in korean  # one result has no spread or mean to speak of
