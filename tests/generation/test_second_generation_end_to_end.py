"""Through real processes (PostgreSQL, Redis, the S3-API server, a gpu_worker with the classical engines, the events
worker, the relay): two parent photos uploaded with their consent records become a child portrait, and its page
says in plain words which parent the child resembles more."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from generation.models import Job, JobState, ParentPhoto
from tests.accounts.factories import MembershipFactory
from tests.generation.photos import astronaut, grace_hopper, jpeg_bytes
from tests.stack import wait_until

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_uploaded_parents_with_consent_make_a_child_whose_resemblance_is_told_in_words(client, stack):
    owner = MembershipFactory()
    client.force_login(owner.user)
    body = {"parent_a_photo": SimpleUploadedFile("mum.jpg", jpeg_bytes(grace_hopper()), "image/jpeg"),
            "parent_a_relation": "mother", "parent_a_consent_by": "김민지", "consent_a": "on",
            "parent_b_photo": SimpleUploadedFile("dad.jpg", jpeg_bytes(astronaut()), "image/jpeg"),
            "parent_b_relation": "father", "parent_b_consent_by": "김민지", "consent_b": "on",
            "consent_purpose": "우리 가게 아이 모델 사진", "sex": "girl", "age_band": "3-6", "weight_a": "0.8"}

    response = client.post(reverse("second-generation"), body)

    assert response.status_code == 302, response.content[:3000]
    job = wait_until(lambda: Job.objects.filter(kind="second_generation").exclude(
        state__in=["queued", "running"]).first(), 300, "the second_generation job to finish")
    assert job.state == JobState.SUCCEEDED, (job.error_code, job.error_message, job.error_input)
    assert ParentPhoto.objects.filter(store=owner.store).count() == 2
    page = client.get(reverse("job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "엄마와의 거리" in page and "아빠와의 거리" in page
    assert any(words in page for words in ("엄마를 더 닮았어요", "아빠를 더 닮았어요", "두 분을 고루 닮았어요"))
