"""Second generation from two parent photos uploaded on its page (or through the API), each with a recorded
consent: who confirmed it, how the parent is called, for what, and when. The result says in plain words which
parent the child resembles more, with the numbers behind it."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core import events, objectstore
from core.models import OutboxMessage
from generation.models import Job, JobState, ParentPhoto
from tests.accounts.factories import MembershipFactory
from tests.generation.photos import astronaut, grace_hopper, jpeg_bytes

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture(scope="module")
def photos() -> dict[str, bytes]:
    return {"mother": jpeg_bytes(grace_hopper()), "father": jpeg_bytes(astronaut())}


def upload(data: bytes, name: str = "parent.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, "image/jpeg")


@pytest.fixture
def owner(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


# ---- API -----------------------------------------------------------------------------------------


def test_a_parent_photo_upload_records_who_agreed_for_what_and_when(client, owner, photos):
    before = timezone.now()
    response = client.post("/api/v1/parent-photos/", {
        "file": upload(photos["mother"]), "relation": "mother", "consent_given_by": "김민지",
        "consent_purpose": "아이 얼굴 미리보기"})

    assert response.status_code == 201, response.content
    photo = ParentPhoto.objects.get(pk=response.json()["id"])
    assert (photo.store, photo.relation, photo.consent_given_by, photo.consent_purpose) == (
        owner.store, "mother", "김민지", "아이 얼굴 미리보기")
    assert before <= photo.consent_given_at <= timezone.now() and photo.created_by == owner.user
    assert photo.image.startswith(f"stores/{owner.store.pk}/parents/") and objectstore.exists(photo.image)
    assert not owner.store.faces.exists()  # never a gallery face
    assert response.json()["consent_given_by"] == "김민지" and response.json()["image_url"]


@pytest.mark.parametrize("missing", ["consent_given_by", "consent_purpose"])
def test_a_parent_photo_without_consent_is_refused_naming_the_field(client, owner, photos, missing):
    body = {"file": upload(photos["mother"]), "relation": "mother", "consent_given_by": "김민지",
            "consent_purpose": "아이 얼굴"}
    body[missing] = ""

    response = client.post("/api/v1/parent-photos/", body, HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 400 and list(response.json()["errors"]) == [missing]
    assert not ParentPhoto.objects.exists()


def test_a_job_from_two_uploaded_parents_uses_their_photos_as_inputs(client, owner, photos):
    ids = []
    for relation in ("mother", "father"):
        created = client.post("/api/v1/parent-photos/", {
            "file": upload(photos[relation]), "relation": relation, "consent_given_by": "김민지",
            "consent_purpose": "아이 얼굴"})
        ids.append(created.json()["id"])

    response = client.post("/api/v1/jobs/", {
        "kind": "second_generation", "inputs": {"parent_a_photo": ids[0], "parent_b_photo": ids[1]},
        "params": {"sex": "girl", "age_band": "7-12", "weight_a": 0.7}}, content_type=JSON)

    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    images = dict(ParentPhoto.objects.filter(pk__in=ids).values_list("pk", "image"))
    assert job.input_keys == {"parent_a": images[ids[0]], "parent_b": images[ids[1]]}
    assert job.params == {"sex": "girl", "age_band": "7-12", "weight_a": 0.7}
    payload = OutboxMessage.objects.get().payload
    assert payload["inputs"] == job.input_keys
    # Their consent travels into the output's content credential: that it exists, when, who attested — not who.
    consents = [(c["role"], c["attested_by"]) for c in payload["consents"]]
    assert consents == [("parent_a", "store"), ("parent_b", "store")]
    assert all(len(c["record"]) == 64 and c["attested_at"] for c in payload["consents"])
    assert "김민지" not in str(payload["consents"]) and "아이 얼굴" not in str(payload["consents"])


def test_a_job_refuses_another_stores_photo_a_missing_parent_and_a_bad_age_band(client, owner, photos):
    other = ParentPhoto.objects.create(store=MembershipFactory().store, image="stores/x/parents/p.jpg",
                                       consent_given_by="x", consent_purpose="x", consent_given_at=timezone.now())

    foreign = client.post("/api/v1/jobs/", {"kind": "second_generation",
                                            "inputs": {"parent_a_photo": other.pk, "parent_b_photo": other.pk}},
                          content_type=JSON)
    alone = client.post("/api/v1/jobs/", {"kind": "second_generation", "inputs": {"parent_a_photo": other.pk}},
                        content_type=JSON)
    age = client.post("/api/v1/jobs/", {"kind": "second_generation", "inputs": {}, "params": {"age_band": "20"}},
                      content_type=JSON)

    assert foreign.status_code == 400 and "inputs.parent_b" in foreign.json()["errors"]  # same photo twice
    assert alone.status_code == 400 and "inputs.parent_b" in alone.json()["errors"]
    assert age.status_code == 400 and "params.age_band" in age.json()["errors"]


# ---- dashboard -----------------------------------------------------------------------------------


def page_body(photos, **changes) -> dict:
    body = {"parent_a_photo": upload(photos["mother"], "mum.jpg"), "parent_a_relation": "mother",
            "parent_a_consent_by": "김민지", "consent_a": "on",
            "parent_b_photo": upload(photos["father"], "dad.jpg"), "parent_b_relation": "father",
            "parent_b_consent_by": "이준호", "consent_b": "on",
            "consent_purpose": "우리 가게 아이 모델 사진", "sex": "boy", "age_band": "3-6", "weight_a": "0.3"}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def test_the_page_needs_each_parents_consent(client, owner, photos):
    without_b = client.post(reverse("second-generation"), page_body(photos, consent_b=None),
                            HTTP_ACCEPT_LANGUAGE="ko")
    nobody = client.post(reverse("second-generation"), page_body(photos, parent_a_consent_by=""),
                         HTTP_ACCEPT_LANGUAGE="en")

    assert without_b.status_code == 200 and not Job.objects.exists() and not ParentPhoto.objects.exists()
    assert list(without_b.context["form"].errors) == ["consent_b"]
    assert "동의 없이는 사진을 사용할 수 없습니다" in without_b.content.decode()
    assert list(nobody.context["form"].errors) == ["parent_a_consent_by"]
    assert "Say who confirmed that this parent agreed" in nobody.content.decode()


def test_the_page_uploads_both_parents_with_their_consent_and_queues_the_job(client, owner, photos):
    response = client.post(reverse("second-generation"), page_body(photos))

    assert response.status_code == 302, response.content[:3000]
    job = Job.objects.get()
    mother, father = (ParentPhoto.objects.get(pk=job.inputs[f"{role}_photo"]) for role in ("parent_a", "parent_b"))
    assert (mother.relation, mother.consent_given_by, father.relation, father.consent_given_by) == (
        "mother", "김민지", "father", "이준호")
    assert mother.consent_purpose == father.consent_purpose == "우리 가게 아이 모델 사진"
    assert mother.consent_given_at and father.consent_given_at
    assert job.input_keys == {"parent_a": mother.image, "parent_b": father.image}
    assert job.params == {"sex": "boy", "age_band": "3-6", "weight_a": 0.3}
    assert objectstore.get_bytes(mother.image)[:2] == b"\xff\xd8"  # the cleaned JPEG, stored privately


def test_a_refused_upload_leaves_no_record(client, owner, photos):
    response = client.post(reverse("second-generation"), page_body(
        photos, parent_b_photo=SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg")))

    assert response.status_code == 200 and "parent_b_photo" in response.context["form"].errors
    assert not ParentPhoto.objects.exists() and not Job.objects.exists()


# ---- the result in plain words -------------------------------------------------------------------


def finished(client, photos, distances: dict, **changes) -> str:
    client.post(reverse("second-generation"), page_body(photos, **changes))
    job = Job.objects.latest("created_at")
    Job.objects.filter(pk=job.pk).update(state=JobState.SUCCEEDED, outputs={"image": "stores/x/result.png"},
                                         metrics={"stages": [{"distances": distances}]})
    return reverse("job-detail", args=[job.pk])


@pytest.mark.parametrize(("distances", "korean", "english"), [
    ({"parent_a": 0.52, "parent_b": 0.71}, "엄마를 더 닮았어요", "Takes more after the mother."),
    ({"parent_a": 0.74, "parent_b": 0.55}, "아빠를 더 닮았어요", "Takes more after the father."),
    ({"parent_a": 0.61, "parent_b": 0.63}, "두 분을 고루 닮았어요", "Takes after both parents about equally."),
])
def test_the_result_says_which_parent_the_child_resembles(client, owner, photos, distances, korean, english):
    url = finished(client, photos, distances)

    ko = client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    en = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert korean in ko and english in en
    assert "엄마와의 거리" in ko and "아빠와의 거리" in ko and f"{distances['parent_a']:.2f}" in ko
    assert "Distance to the mother" in en and f"{distances['parent_b']:.2f}" in en
    assert "feature distance" not in en.lower()


def test_parents_called_parent_are_told_apart_by_order(client, owner, photos):
    url = finished(client, photos, {"parent_a": 0.70, "parent_b": 0.50}, parent_a_relation="parent",
                   parent_b_relation="parent")

    assert "두 번째 부모를 더 닮았어요" in client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "Takes more after the second parent." in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_parent_photo_without_a_face_is_named(client, owner, photos):
    client.post(reverse("second-generation"), page_body(photos))
    job = Job.objects.get()
    events.event_apply({"event_id": f"{job.pk}:1:failed", "type": "failed", "subject": str(job.pk), "attempt": 1,
                        "at": time.time(), "error": {"code": "no_face", "message": "no face", "input": "parent_a"}})

    html = client.get(reverse("job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "첫 번째 부모 사진에서 얼굴을 찾지 못했어요" in html
