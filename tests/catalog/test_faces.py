"""Stores keep their own virtual model faces, pick one as their store model, and browse the public gallery."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog import faces, services
from catalog.models import ModelFace
from tests.catalog import sample_images
from tests.catalog.conftest import stored_files
from tests.catalog.factories import ModelFaceFactory, PublicFaceFactory

pytestmark = pytest.mark.django_db

CONSENT = {"consent_given_by": "김지수 (Kim Ji-su)", "consent_purpose": "Virtual model for our spring catalogue"}


def upload_face(client, **fields):
    photo = SimpleUploadedFile("jisu.jpg", sample_images.jpeg_from_phone(), content_type="image/jpeg")
    return client.post("/api/v1/faces/", {"file": photo, "name": "Ji-su", "tags": "elegant,fresh", **fields})


def test_a_face_uploaded_with_consent_records_who_when_and_for_what(editor_client, editor):
    response = upload_face(editor_client, **CONSENT)

    assert response.status_code == 201, response.json()
    face = ModelFace.objects.get(pk=response.json()["id"])
    assert face.store == editor.store and face.source == "uploaded" and face.curation == "private"
    assert (face.consent_given_by, face.consent_purpose) == (CONSENT["consent_given_by"], CONSENT["consent_purpose"])
    assert timezone.now() - face.consent_given_at < timedelta(minutes=1)
    assert face.tags == ["elegant", "fresh"] and face.created_by == editor.user
    assert face.image.startswith(f"stores/{editor.store.pk}/faces/") and face.image.endswith(".jpg")
    assert response.json()["consent_given_by"] == CONSENT["consent_given_by"]


def test_a_face_without_a_consent_attestation_is_refused(editor_client, media_root):
    response = upload_face(editor_client, consent_given_by="", consent_purpose="  ")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"consent_given_by", "consent_purpose"}
    assert "who gave consent" in response.json()["detail"]
    assert not ModelFace.objects.exists() and stored_files(media_root) == []


def test_a_face_photo_is_checked_like_any_upload(editor_client):
    bad = SimpleUploadedFile("face.jpg", sample_images.PDF, content_type="image/jpeg")

    response = editor_client.post("/api/v1/faces/", {"file": bad, **CONSENT})

    assert response.status_code == 415 and response.json()["code"] == "unsupported_format"


def test_the_store_model_can_be_an_own_face_or_a_published_gallery_face(editor_client, editor):
    own, published = ModelFaceFactory(store=editor.store), PublicFaceFactory()

    empty = editor_client.get("/api/v1/store-model/").json()
    set_own = editor_client.put("/api/v1/store-model/", {"face_id": own.pk}, content_type="application/json")
    set_public = editor_client.put("/api/v1/store-model/", {"face_id": published.pk}, content_type="application/json")
    current = editor_client.get("/api/v1/store-model/").json()
    cleared = editor_client.put("/api/v1/store-model/", {"face_id": None}, content_type="application/json")

    assert empty == {"id": editor.store.pk, "face": None}
    assert set_own.status_code == 200 and set_own.json()["face"]["id"] == own.pk
    assert set_public.status_code == 200 and current["face"]["id"] == published.pk and current["face"]["is_public"]
    assert cleared.json()["face"] is None


@pytest.mark.parametrize("make_face", [
    lambda: ModelFaceFactory(),  # another store's private face
    lambda: PublicFaceFactory(curation="approved"),  # approved but not yet published
    lambda: PublicFaceFactory(curation="rejected"),
])
def test_the_store_model_cannot_be_another_stores_face_or_an_unpublished_one(editor_client, editor, make_face):
    face = make_face()

    response = editor_client.put("/api/v1/store-model/", {"face_id": face.pk}, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"] == "Pick one of your own faces or a published gallery face."
    assert editor_client.get("/api/v1/store-model/").json()["face"] is None


def test_a_viewer_cannot_change_the_store_model(viewer_client, editor):
    face = ModelFaceFactory(store=editor.store)

    response = viewer_client.put("/api/v1/store-model/", {"face_id": face.pk}, content_type="application/json")

    assert response.status_code == 403


def test_the_gallery_lists_published_public_faces_and_the_stores_own_faces_only(editor_client, editor):
    published = PublicFaceFactory(tags=["elegant"])
    published_fresh = PublicFaceFactory(tags=["fresh"])
    hidden = [PublicFaceFactory(curation=state) for state in ("pending", "approved", "rejected")]
    foreign = ModelFaceFactory()
    own = ModelFaceFactory(store=editor.store, tags=["fresh"])

    def ids(query=""):
        return {f["id"] for f in editor_client.get(f"/api/v1/gallery/{query}").json()["results"]}

    assert ids() == {published.pk, published_fresh.pk, own.pk}
    assert ids("?scope=public") == {published.pk, published_fresh.pk}
    assert ids("?scope=store") == {own.pk}
    assert ids("?scope=public&tags=fresh") == {published_fresh.pk}
    for face in [*hidden, foreign]:
        assert editor_client.get(f"/api/v1/gallery/{face.pk}/").status_code == 404
    public = editor_client.get(f"/api/v1/gallery/{published.pk}/").json()
    assert public["is_public"] and "consent_given_by" not in public


def test_deleting_the_store_model_face_clears_the_store_model(editor_client, editor):
    face = ModelFaceFactory(store=editor.store)
    services.store_model_set(store=editor.store, face=face)

    response = editor_client.delete(f"/api/v1/faces/{face.pk}/")

    assert response.status_code == 204
    assert editor_client.get("/api/v1/store-model/").json()["face"] is None


@pytest.mark.parametrize("state, action", [
    ("pending", "publish"), ("approved", "approve"), ("rejected", "publish"), ("published", "reject"),
    ("private", "approve"), ("pending", "delete"),
])
def test_curation_refuses_transitions_the_state_machine_does_not_allow(state, action):
    face = PublicFaceFactory(curation=state)
    curator = ModelFaceFactory().created_by

    with pytest.raises(ValidationError):
        faces.face_curate(face=face, action=action, curator=curator)

    face.refresh_from_db()
    assert face.curation == state


def test_a_store_face_submitted_and_published_joins_the_gallery_for_every_store(editor_client, editor, media_root):
    from tests.accounts.factories import MembershipFactory, UserFactory

    face_id = upload_face(editor_client, **CONSENT).json()["id"]
    submitted = editor_client.post(f"/api/v1/faces/{face_id}/submit/")
    curator = UserFactory(is_staff=True)
    face = ModelFace.objects.get(pk=face_id)
    faces.face_curate(face=face, action="approve", curator=curator)
    faces.face_curate(face=face, action="publish", curator=curator)

    other_store = MembershipFactory()
    editor_client.force_login(other_store.user)
    gallery = editor_client.get("/api/v1/gallery/?scope=public").json()["results"]

    assert submitted.status_code == 200 and submitted.json()["curation"] == "pending"
    assert ModelFace.objects.get(pk=face_id).curation == "published"
    public = ModelFace.objects.get(store__isnull=True)
    assert [f["id"] for f in gallery] == [public.pk] and public.image.startswith("gallery/faces/")
    assert public.consent_given_by == CONSENT["consent_given_by"] and public.curated_by == curator
    assert len(stored_files(media_root)) == 2  # the store keeps its own copy


def test_staff_curate_the_gallery_in_bulk_from_the_admin(client):
    from tests.accounts.factories import UserFactory

    curator = UserFactory(is_staff=True, is_superuser=True)
    pending = [PublicFaceFactory(curation="pending") for _ in range(2)]
    client.force_login(curator)

    def bulk(action, faces):
        return client.post("/admin/catalog/modelface/", {
            "action": action, "_selected_action": [f.pk for f in faces]}, follow=True)

    approved = bulk("approve", pending)
    bulk("publish", pending[:1])
    refused = bulk("publish", pending[:1])  # already published: refused, not changed

    states = {f.pk: f for f in ModelFace.objects.filter(pk__in=[f.pk for f in pending])}
    assert approved.status_code == 200
    assert [states[f.pk].curation for f in pending] == ["published", "approved"]
    assert all(f.curated_by == curator and f.curated_at for f in states.values())
    assert "Cannot publish a face that is published" in refused.content.decode()
    listing = client.get("/admin/catalog/modelface/?curation__exact=approved")
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1


def test_staff_approve_and_publish_a_pending_face_in_one_admin_step(client, media_root):
    from tests.accounts.factories import UserFactory

    curator = UserFactory(is_staff=True, is_superuser=True)
    pending, rejected = PublicFaceFactory(curation="pending"), PublicFaceFactory(curation="rejected")
    client.force_login(curator)

    response = client.post("/admin/catalog/modelface/", {
        "action": "approve_publish", "_selected_action": [pending.pk, rejected.pk]}, follow=True)

    pending.refresh_from_db()
    rejected.refresh_from_db()
    html = response.content.decode()
    assert response.status_code == 200 and "Approved and published 1 face(s)." in html
    assert pending.curation == "published" and pending.curated_by == curator and pending.curated_at
    assert rejected.curation == "rejected" and "Not changed" in html


def test_an_api_upload_records_the_day_the_person_consented(editor_client, editor):
    from zoneinfo import ZoneInfo

    by_day = upload_face(editor_client, **CONSENT, consent_given_at="2026-03-01")
    by_time = upload_face(editor_client, **CONSENT, consent_given_at="2026-03-02T14:30:00+09:00")

    assert by_day.status_code == 201, by_day.json()
    assert by_time.status_code == 201, by_time.json()
    day_face = ModelFace.objects.get(pk=by_day.json()["id"])
    time_face = ModelFace.objects.get(pk=by_time.json()["id"])
    assert editor.store.time_zone == "Asia/Seoul"  # a bare date is that day's midnight in the store's zone
    assert day_face.consent_given_at.astimezone(ZoneInfo("Asia/Seoul")).isoformat() == "2026-03-01T00:00:00+09:00"
    assert time_face.consent_given_at == datetime(2026, 3, 2, 5, 30, tzinfo=UTC)
    assert by_time.json()["consent_given_at"].startswith("2026-03-02T")


@pytest.mark.parametrize("when", [
    (timezone.localdate() + timedelta(days=2)).isoformat(),
    (timezone.now() + timedelta(days=1)).isoformat(),
])
def test_an_api_upload_with_a_consent_date_in_the_future_is_refused(editor_client, media_root, when):
    response = upload_face(editor_client, **CONSENT, consent_given_at=when)

    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == {"consent_given_at"}
    assert "cannot be in the future" in response.json()["detail"]
    assert not ModelFace.objects.exists() and stored_files(media_root) == []


@pytest.mark.parametrize("when", ["last tuesday", "2026-02-30", "01/03/2026"])
def test_an_api_upload_with_an_unreadable_consent_date_says_how_to_write_it(editor_client, media_root, when):
    response = upload_face(editor_client, **CONSENT, consent_given_at=when)

    assert response.status_code == 400, response.json()
    assert set(response.json()["errors"]) == {"consent_given_at"}
    assert "ISO date (2026-03-01)" in response.json()["detail"]
    assert not ModelFace.objects.exists()
