"""A product shot whose face detection found no face (or failed) never becomes a swap or pipeline job: the service
refuses it, naming the shot by its file name, before anything is created or charged."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from billing.models import LedgerEntry
from catalog.models import ProductShot
from generation import services
from generation.models import Batch, Job
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import public_face, shot_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English (a page request earlier in the run may have left another language on)."""
    with translation.override("en"):
        yield


def shot(store, name: str, faces_state: str = "ready", faces=None) -> ProductShot:
    return ProductShot.objects.create(store=store, image=f"stores/{store.pk}/shots/{name}", original_filename=name,
                                      faces_state=faces_state, faces=faces or [])


def test_batch_create_refuses_a_faceless_shot_naming_it_and_creates_nothing():
    store = MembershipFactory().store
    good, empty = shot_for(store), shot(store, "flat-lay.jpg")
    with pytest.raises(ValidationError) as exc:
        services.batch_create(store=store, face_id=public_face().pk, product_shot_ids=[good.pk, empty.pk])
    messages = exc.value.message_dict["product_shots"]
    assert len(messages) == 1 and "“flat-lay.jpg” has no face to replace" in messages[0]
    assert not Batch.objects.exists() and not Job.objects.exists() and not LedgerEntry.objects.exists()


def test_a_failed_detection_is_refused_too_and_the_message_is_translated():
    store = MembershipFactory().store
    failed = shot(store, "봄 원피스.jpg", faces_state="failed")
    with translation.override("ko"), pytest.raises(ValidationError) as exc:
        services.batch_create(store=store, face_id=public_face().pk, product_shot_ids=[failed.pk])
    assert exc.value.message_dict["product_shots"] == [
        "“봄 원피스.jpg” 사진은 쓸 수 없습니다. 이 상품 사진의 얼굴 인식에 실패했어요. "
        "사진을 삭제하고 다시 올려 주세요."]


@pytest.mark.parametrize("kind", ["pipeline", "swap"])
def test_job_create_refuses_a_faceless_shot_for_a_face_swap(kind):
    store = MembershipFactory().store
    empty = shot(store, "flat-lay.jpg")
    with pytest.raises(ValidationError) as exc:
        services.job_create(store=store, kind=kind, inputs={"face": public_face().pk, "product_shot": empty.pk})
    assert "“flat-lay.jpg” has no face to replace" in exc.value.message_dict["inputs.product_shot"][0]
    assert not Job.objects.exists()


def test_shots_with_a_face_or_still_being_detected_are_accepted():
    store = MembershipFactory().store
    face = public_face()
    detecting = shot(store, "just-uploaded.jpg", faces_state="pending")
    found = shot(store, "look-front.jpg", faces=[{"box": [10, 10, 60, 60], "score": 0.9}])
    batch = services.batch_create(store=store, face_id=face.pk, product_shot_ids=[detecting.pk, found.pk])
    assert batch.jobs.count() == 2


def test_restoring_a_faceless_shot_is_not_a_swap_and_is_accepted():
    store = MembershipFactory().store
    created = services.job_create(store=store, kind="restore", inputs={"product_shot": shot(store, "flat.jpg").pk})
    assert created.created and created.job.kind == "restore"
