"""Sellers upload faces of people who agreed, with the consent recorded, and see each photo's check; staff approve
and publish a submitted face in one step.

The page's script posts one file at a time and reads JSON (``Accept: application/json``); a plain form post (no
script) sends every file at once and gets the page back. The browser test runs the real GPU worker.
"""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.time_zones import zone_of
from catalog import faces
from catalog.models import ModelFace
from core import events
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.catalog import sample_images
from tests.catalog.factories import PublicFaceFactory
from tests.generation.photos import grace_hopper, jpeg_bytes

JSON = {"HTTP_ACCEPT": "application/json"}
FRAMEWORK_REQUIRED = "이 필드는 필수 항목입니다"


# The KST/UTC date split: 23:30 UTC on the last day of a month is already the 1st in Seoul, the store's zone. The
# consent date's "today" and "not in the future" must follow the store's calendar, whatever the machine's clock says.
SPLIT = datetime.datetime(2026, 11, 30, 23, 30, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def pinned_clock(request, time_machine):
    if request.node.get_closest_marker("browser") is None:  # the browser test runs with the workers' real clock
        time_machine.move_to(SPLIT)


@pytest.fixture
def local_storage(settings, tmp_path):
    """Objects in a throwaway folder (the browser test uses the S3-API server of the worker stack instead)."""
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path / "media", "base_url": "/media/"}}}


def login(client, role=Role.EDITOR):
    membership = MembershipFactory(role=role)
    client.force_login(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9"
    return membership


def photo(name="jisu.jpg", data=None):
    return SimpleUploadedFile(name, data if data is not None else sample_images.jpeg_from_phone(),
                              content_type="image/jpeg")


def consent(**fields):
    return {"consent_given_by": "김지수", "consent_purpose": "봄 시즌 상품 사진의 가상 모델",
            "consent_given_on": timezone.localdate().isoformat(), "consent_confirmed": "on", "tags": "elegant",
            **fields}


@pytest.mark.django_db
def test_editor_opens_the_upload_page_from_the_empty_gallery(client, local_storage):
    login(client)

    gallery = client.get(reverse("gallery")).content.decode()
    page = client.get(reverse("face-upload"))

    assert f'href="{reverse("face-upload")}"' in gallery and "얼굴 업로드" in gallery
    assert "동의한 사람의 사진을 올려 주세요" in gallery  # the empty state says what to do first (nothing to blend yet)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="face-files"' in html and "multiple" in html
    assert "동의한 날짜" in html and f'value="{timezone.localdate().isoformat()}"' in html  # today by default


@pytest.mark.django_db
def test_missing_consent_is_refused_field_by_field_in_korean(client, local_storage):
    login(client)

    response = client.post(reverse("face-upload"), {"file": photo(), "consent_given_on": ""}, **JSON)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"consent_given_by", "consent_purpose", "consent_given_on", "consent_confirmed"}
    assert errors["consent_given_by"] == ["사진 속 인물 중 동의한 사람의 이름을 적어 주세요."]
    assert errors["consent_purpose"] == ["얼굴을 어떤 용도로 쓰는 데 동의했는지 적어 주세요."]
    assert errors["consent_given_on"] == ["동의를 받은 날짜를 입력해 주세요."]
    assert errors["consent_confirmed"][0].startswith("인물이 동의했음을 확인하려면 체크해 주세요.")
    assert FRAMEWORK_REQUIRED not in response.content.decode("unicode_escape")
    assert not ModelFace.objects.exists()


@pytest.mark.django_db
def test_a_consent_date_in_the_future_is_refused(client, local_storage):
    login(client)
    tomorrow = timezone.localdate() + datetime.timedelta(days=2)

    response = client.post(reverse("face-upload"), {"file": photo(), **consent(consent_given_on=tomorrow)}, **JSON)

    assert response.status_code == 400
    assert response.json()["errors"]["consent_given_on"] == [
        "동의 날짜는 미래일 수 없습니다. 실제로 동의한 날짜를 입력해 주세요."]
    assert not ModelFace.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name, data, said", [
    ("notes.jpg", b"just some notes, not a photo", "JPEG, PNG, WEBP 사진만"),
    ("empty.jpg", b"", "빈 파일입니다(0바이트)"),
])
def test_a_bad_file_gets_its_own_error_in_words(client, local_storage, name, data, said):
    login(client)

    response = client.post(reverse("face-upload"), {"file": photo(name, data), **consent()}, **JSON)

    assert response.status_code == 400
    assert said in response.json()["detail"], response.json()
    assert not ModelFace.objects.exists()


@pytest.mark.django_db
def test_a_good_photo_becomes_a_private_face_with_its_consent_and_is_checked(client, local_storage):
    membership = login(client)
    agreed_on = timezone.localdate() - datetime.timedelta(days=10)

    response = client.post(reverse("face-upload"), {"file": photo(), **consent(consent_given_on=agreed_on,
                                                                                name="지수")}, **JSON)

    assert response.status_code == 201, response.content
    face = ModelFace.objects.get(pk=response.json()["id"])
    assert face.store == membership.store and face.curation == ModelFace.Curation.PRIVATE
    assert face.source == ModelFace.Source.UPLOADED and face.created_by == membership.user
    assert (face.consent_given_by, face.consent_purpose) == ("김지수", "봄 시즌 상품 사진의 가상 모델")
    store_midnight = datetime.datetime.combine(agreed_on, datetime.time.min, zone_of(membership.store.time_zone))
    assert face.consent_given_at == store_midnight and face.name == "지수" and face.tags == ["elegant"]
    assert response.json()["state"] == "checking" and response.json()["text"] == "얼굴 확인 중…"

    # The GPU fleet finds no face: the page's poll says so, in words.
    events.event_apply({"event_id": f"{face.pk}:1:face_asset_prepared", "type": "face_asset_prepared",
                        "subject": str(face.pk), "attempt": 1, "at": 1_796_000_000.0,
                        "error": {"code": "no_face", "message": "no face found in the source image"}})
    check = client.get(response.json()["check_url"]).json()
    assert check["state"] == "refused" and "얼굴을 찾지 못함" in check["text"]


@pytest.mark.django_db
def test_without_script_every_chosen_file_is_uploaded_and_listed(client, local_storage):
    login(client)

    response = client.post(reverse("face-upload"), {
        "file": [photo("jisu.jpg"), photo("notes.txt", b"not a photo")], **consent()})

    html = response.content.decode()
    assert response.status_code == 200 and ModelFace.objects.count() == 1
    assert "jisu.jpg" in html and "얼굴 확인 중…" in html
    assert ModelFace.objects.get().name == "jisu"  # no name given: the file's
    assert "notes.txt" in html and "실패: JPEG, PNG, WEBP 사진만" in html


@pytest.mark.django_db
def test_a_viewer_can_neither_open_the_page_nor_upload(client, local_storage):
    login(client, Role.VIEWER)

    assert client.get(reverse("face-upload")).status_code == 403
    assert client.post(reverse("face-upload"), {"file": photo(), **consent()}, **JSON).status_code == 403
    assert 'href="/gallery/faces/new/"' not in client.get(reverse("gallery")).content.decode()
    assert not ModelFace.objects.exists()


@pytest.mark.django_db
def test_staff_approve_and_publish_a_submitted_face_in_one_step(client, local_storage):
    seller = login(client)
    face_id = client.post(reverse("face-upload"), {"file": photo(), **consent()}, **JSON).json()["id"]
    faces.face_submit_to_gallery(face=ModelFace.objects.get(pk=face_id))
    gallery_pending = PublicFaceFactory(curation=ModelFace.Curation.PENDING)
    curator = UserFactory(is_staff=True)
    client.force_login(curator)

    queue = client.get(reverse("curation")).content.decode()
    response = client.post(reverse("curation-bulk"), {"action": "approve_publish",
                                                      "face": [face_id, gallery_pending.pk]}, follow=True)

    assert "승인 후 공개" in queue
    assert "얼굴 2개를 처리했습니다" in response.content.decode()
    submitted, gallery_pending = ModelFace.objects.get(pk=face_id), ModelFace.objects.get(pk=gallery_pending.pk)
    for face in (submitted, gallery_pending):
        assert face.curation == ModelFace.Curation.PUBLISHED and face.curated_by == curator
        assert timezone.now() - face.curated_at < datetime.timedelta(minutes=1)
    public_copy = ModelFace.objects.get(store=None, consent_given_by="김지수")  # the store keeps its own face
    assert public_copy.curation == ModelFace.Curation.PUBLISHED and public_copy.curated_by == curator
    assert seller.store.faces.get().pk == face_id


@pytest.mark.django_db
def test_approve_and_publish_refuses_a_face_already_approved(local_storage):
    face = PublicFaceFactory(curation=ModelFace.Curation.APPROVED)
    curator = UserFactory(is_staff=True)

    done, refused = faces.faces_curate(faces=[face], action="approve_publish", curator=curator)

    face.refresh_from_db()
    assert (done, len(refused)) == (0, 1) and face.curation == ModelFace.Curation.APPROVED and face.curated_by is None


# ---- in a real browser, with the GPU worker --------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_seller_uploads_a_face_and_a_faceless_photo_with_consent(page, shoot, stack, tmp_path):
    from tests.frontend.test_browser import sign_up

    good, faceless = tmp_path / "grace.jpg", tmp_path / "sky.jpg"
    good.write_bytes(jpeg_bytes(grace_hopper()))
    sky = np.zeros((480, 640, 3), dtype=np.uint8)
    sky[:] = (120, 170, 230)
    sky[320:] = (70, 120, 60)  # a horizon: a landscape without anybody in it
    faceless.write_bytes(jpeg_bytes(sky))
    sign_up(page, shoot, "faces@example.com")

    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="모델").click()
    page.locator("main").get_by_role("link", name="얼굴 업로드").first.click()
    page.wait_for_url("**/gallery/faces/new/")
    shoot(page, "face-upload-empty")

    # Files chosen before the consent is filled in are refused, and the page says which field is missing.
    page.set_input_files("#face-files", str(good))
    page.locator(".upload-item.failed", has_text="위의 동의 항목을 채운 뒤").wait_for()
    page.locator(".field.invalid .error", has_text="사진 속 인물 중 동의한 사람의 이름을 적어 주세요.").wait_for()
    shoot(page, "face-upload-consent-missing")
    assert ModelFace.objects.count() == 0

    page.get_by_label("동의한 사람").fill("그레이스 호퍼")
    page.get_by_label("동의한 사용 목적").fill("우리 스토어 상품 사진의 가상 모델")
    page.get_by_label("이 사람이 위의 목적으로").check()
    page.set_input_files("#face-files", [str(good), str(faceless)])
    rows = page.locator(".upload-item")
    rows.nth(2).wait_for()
    ready = page.locator(".upload-item[data-state=ready]", has_text="grace.jpg")
    refused = page.locator(".upload-item[data-state=refused]", has_text="sky.jpg")
    ready.wait_for(timeout=120_000)
    refused.wait_for(timeout=120_000)
    assert "갤러리에 추가되었습니다" in ready.inner_text()
    assert "얼굴을 찾지 못함" in refused.inner_text(), refused.inner_text()
    shoot(page, "face-upload-checked")

    page.get_by_role("link", name="갤러리로 돌아가기").click()
    page.wait_for_url("**/gallery/")
    page.goto("/gallery/?scope=store")
    assert page.locator(".faces .tile").count() == 2  # the refused one stays, marked, for the seller to delete
    page.locator(".tile", has_text="준비됨").wait_for()
    page.locator(".tile .flag-badge", has_text="얼굴을 찾지 못함").wait_for()
    shoot(page, "gallery-uploaded-faces")
    face = ModelFace.objects.get(asset_state=ModelFace.AssetState.READY)
    assert face.consent_given_by == "그레이스 호퍼" and face.curation == ModelFace.Curation.PRIVATE


@pytest.mark.django_db
def test_the_service_refuses_a_consent_from_the_future(local_storage):
    from django.core.exceptions import ValidationError

    store = MembershipFactory().store

    with pytest.raises(ValidationError) as refused:
        faces.face_upload(store=store, created_by=None, file=photo(), consent_given_by="김지수",
                          consent_purpose="가상 모델", consent_given_at=timezone.now() + datetime.timedelta(days=1))

    assert set(refused.value.message_dict) == {"consent_given_at"} and not ModelFace.objects.exists()
