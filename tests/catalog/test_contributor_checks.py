"""Faces that cannot shape new faces are checked up front: a failed preparation (no face, face too small) or a
contributor problem (glasses, turned, ...) keeps a face out of generation, a seller who names one is told which
and why, the gallery shows every face's check, and a failed job names the gallery face at fault."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from catalog import selectors
from catalog.models import ModelFace
from core import events
from generation.models import Job, JobState
from tests.accounts.factories import MembershipFactory

pytestmark = pytest.mark.django_db
JSON = "application/json"


def face(store, name: str, **fields) -> ModelFace:
    fields.setdefault("asset_state", ModelFace.AssetState.READY)
    return ModelFace.objects.create(store=store, name=name, image=f"faces/{name}.png", tags=["elegant"], **fields)


@pytest.fixture
def faces():
    """A store with three good faces and the faulty ones a seller uploads."""
    membership = MembershipFactory()
    store = membership.store
    good = [face(store, f"good-{n}", asset_summary={"contributor_problems": []}) for n in range(3)]
    faulty = {
        "no_face": face(store, "빈 사진", asset_state=ModelFace.AssetState.FAILED,
                        asset_error="no_face: no face was found"),
        "too_small": face(store, "멀리서", asset_state=ModelFace.AssetState.FAILED,
                          asset_error="face_too_small: the face is 84 px wide, under the 100 px minimum"),
        "glasses": face(store, "안경", asset_summary={"contributor_problems": ["glasses"], "warnings": ["glasses"]}),
        "turned": face(store, "Side", asset_summary={"contributor_problems": ["turned"]}),
    }
    pending = face(store, "new", asset_state=ModelFace.AssetState.PENDING)
    return membership, good, faulty, pending


def test_faulty_faces_are_never_picked_as_contributors(faces):
    membership, good, faulty, pending = faces

    picked = set(selectors.contributor_faces(store=membership.store, tags=["elegant"]))

    assert picked == {*good, pending}  # a face still being checked is not refused
    assert set(selectors.usable_faces(store=membership.store)) >= set(faulty.values())  # still swap models


@pytest.mark.parametrize(("which", "english", "korean"), [
    ("no_face", "‘빈 사진’ cannot be used to blend new faces: no face found.",
     "‘빈 사진’ 얼굴은 새 얼굴을 섞는 데 쓸 수 없어요: 얼굴을 찾지 못함."),
    ("too_small", "‘멀리서’ cannot be used to blend new faces: face too small (84 px).",
     "‘멀리서’ 얼굴은 새 얼굴을 섞는 데 쓸 수 없어요: 얼굴이 너무 작음 (84 px)."),
    ("glasses", "‘안경’ can be a swap model but not a face to blend new faces from: glasses.",
     "‘안경’ 얼굴은 스왑 모델로는 쓸 수 있지만 새 얼굴을 섞는 데는 쓰지 않아요: 안경."),
])
def test_naming_a_faulty_face_is_refused_with_its_name_and_reason(client, faces, which, english, korean):
    membership, good, faulty, _ = faces
    client.force_login(membership.user)
    body = {"kind": "generate_face", "inputs": {"faces": [good[0].pk, good[1].pk, faulty[which].pk]}}

    refused_en = client.post("/api/v1/jobs/", body, content_type=JSON, HTTP_ACCEPT_LANGUAGE="en")
    refused_ko = client.post("/api/v1/jobs/", body, content_type=JSON, HTTP_ACCEPT_LANGUAGE="ko")

    assert refused_en.status_code == 400, refused_en.content
    assert refused_en.json()["errors"]["inputs.faces"] == [english]
    assert refused_ko.json()["errors"]["inputs.faces"] == [korean]
    assert not Job.objects.exists()


def test_a_preset_listing_a_faulty_face_is_refused_too(client, faces):
    from catalog.models import StylePreset

    membership, good, faulty, _ = faces
    client.force_login(membership.user)
    preset = StylePreset.objects.create(store=membership.store, name="안경 포함",
                                        params={"face_ids": [good[0].pk, good[1].pk, faulty["turned"].pk]})

    refused = client.post("/api/v1/jobs/", {"kind": "generate_face", "inputs": {"preset": preset.pk}},
                          content_type=JSON, HTTP_ACCEPT_LANGUAGE="en")

    assert refused.status_code == 400
    assert refused.json()["errors"]["inputs.preset.face_ids"] == [
        "‘Side’ can be a swap model but not a face to blend new faces from: head turned."]


def test_generating_from_tags_skips_the_faulty_faces(client, faces):
    from catalog.models import StylePreset

    membership, good, _, pending = faces
    pending.delete()
    client.force_login(membership.user)
    preset = StylePreset.objects.create(store=membership.store, name="우아한", params={"face_tags": ["elegant"]})

    response = client.post(reverse("candidates-generate"), {"preset": preset.pk, "count": 2})

    assert response.status_code == 302 and "jobs=" in response.url
    job = Job.objects.filter(kind="generate_face").first()
    assert sorted(job.input_keys["contributors"]) == sorted(f.image for f in good)


def test_the_gallery_shows_each_faces_check(client, faces):
    membership, _, _, _ = faces
    client.force_login(membership.user)

    korean = client.get(reverse("gallery") + "?scope=store", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    english = client.get(reverse("gallery") + "?scope=store", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "Checking the face…" in english and "Ready" in english
    assert "Refused: no face found" in english and "Refused: face too small (84 px)" in english
    assert "Can be a swap model, not used to blend new faces: glasses" in english
    assert "거절됨: 얼굴을 찾지 못함" in korean and "얼굴 확인 중…" in korean
    assert "스왑 모델로는 쓸 수 있지만 새 얼굴을 섞는 데는 쓰지 않아요: 안경" in korean


def test_a_failed_generation_names_the_gallery_face_at_fault(client, faces):
    membership, good, _, _ = faces
    client.force_login(membership.user)
    created = client.post("/api/v1/jobs/", {"kind": "generate_face",
                                            "inputs": {"faces": [f.pk for f in good]}}, content_type=JSON)
    job = Job.objects.get(pk=created.json()["id"])

    events.event_apply({"event_id": f"{job.pk}:1:failed", "type": "failed", "subject": str(job.pk), "attempt": 1,
                        "at": time.time(),
                        "error": {"code": "no_face", "message": "no face in face_1", "input": "face_1"}})
    job.refresh_from_db()
    korean = client.get(reverse("job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    english = client.get(reverse("job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    api = client.get(f"/api/v1/jobs/{job.pk}/").json()

    assert job.state == JobState.FAILED and job.error_input == "face_1"
    assert api["error"] == {"code": "no_face", "message": "no face in face_1", "input": "face_1"}
    assert "The gallery face ‘good-1’ blended into the new face could not be used: no face was found." in english
    assert "섞은 갤러리 얼굴(‘good-1’)을 쓸 수 없었어요: 얼굴을 찾지 못했어요." in korean
    assert "your photo" not in english


def test_a_contributor_the_engine_left_out_is_named_on_the_candidate(client, faces):
    membership, good, _, _ = faces
    client.force_login(membership.user)
    four = [*good, face(membership.store, "good-3", asset_summary={"contributor_problems": []})]
    created = client.post("/api/v1/jobs/", {"kind": "generate_face", "inputs": {"faces": [f.pk for f in four]}},
                          content_type=JSON)
    job = Job.objects.get(pk=created.json()["id"])

    events.event_apply({"event_id": f"{job.pk}:1:succeeded", "type": "succeeded", "subject": str(job.pk),
                        "attempt": 1, "at": time.time(), "outputs": {"image": "stores/x/jobs/y/result.png"},
                        "metrics": {"skipped": [{"input": "face_3", "code": "no_face", "message": "no face"}]}})
    html = client.get(reverse("candidates") + f"?jobs={job.pk}", HTTP_ACCEPT_LANGUAGE="ko").content.decode()

    assert "섞는 데서 뺀 얼굴: ‘good-3’: 얼굴을 찾지 못했어요" in html
