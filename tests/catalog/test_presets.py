"""A store keeps its looks as style presets: five are there from day one, editors add their own."""

import pytest

from accounts.services import user_signup
from catalog.models import StylePreset
from tests.catalog.factories import ModelFaceFactory, PublicFaceFactory, StylePresetFactory

pytestmark = pytest.mark.django_db


def test_a_new_store_starts_with_the_five_korean_looks():
    store = user_signup(email="seller@example.com", password="correct-horse-battery", store_name="봄날 옷가게")

    presets = {p.name: p for p in StylePreset.objects.filter(store=store)}

    assert {name: p.name_en for name, p in presets.items()} == {
        "우아한": "Elegant", "청초한": "Innocent", "단아한": "Graceful", "퇴폐적인": "Edgy", "청량한": "Fresh",
    }
    assert presets["우아한"].params["face_tags"] == ["elegant"]
    assert all(0 <= p.params["restore_strength"] <= 1 for p in presets.values())


def test_editor_creates_renames_tunes_and_deletes_a_preset(editor_client, editor):
    face = ModelFaceFactory(store=editor.store)
    created = editor_client.post("/api/v1/presets/", {
        "name": "시크한", "name_en": "Chic",
        "params": {"face_ids": [face.pk], "makeup_strength": 0.7, "latent_directions": {"smile": -0.5}},
    }, content_type="application/json")
    preset_id = created.json()["id"]

    renamed = editor_client.patch(f"/api/v1/presets/{preset_id}/", {"name": "도시적인", "params": {
        "restore_strength": 0.9}}, content_type="application/json")
    listed = editor_client.get("/api/v1/presets/").json()["results"]
    deleted = editor_client.delete(f"/api/v1/presets/{preset_id}/")

    assert created.status_code == 201 and created.json()["params"]["makeup_strength"] == 0.7
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "도시적인" and renamed.json()["params"] == {"restore_strength": 0.9}
    assert [p["name"] for p in listed] == ["도시적인"]
    assert deleted.status_code == 204 and not StylePreset.objects.filter(pk=preset_id).exists()


def test_a_duplicate_preset_name_is_refused_with_a_clear_message(editor_client, editor):
    StylePresetFactory(store=editor.store, name="우아한")
    other = StylePresetFactory(store=editor.store, name="청량한")

    created = editor_client.post("/api/v1/presets/", {"name": "우아한"}, content_type="application/json")
    renamed = editor_client.patch(f"/api/v1/presets/{other.pk}/", {"name": "우아한"}, content_type="application/json")

    for response in (created, renamed):
        assert response.status_code == 400
        assert response.json()["detail"] == "A preset named “우아한” already exists in this store."
        assert "name" in response.json()["errors"]


def test_another_store_may_use_the_same_preset_name(editor_client):
    StylePresetFactory(name="우아한")  # a different store

    response = editor_client.post("/api/v1/presets/", {"name": "우아한"}, content_type="application/json")

    assert response.status_code == 201


@pytest.mark.parametrize("params, message", [
    ({"makeup_strength": 1.5}, "makeup_strength must be a number from 0 to 1."),
    ({"speed": "fast"}, "Unknown parameter(s): speed."),
    ({"face_ids": ["three"]}, "face_ids must be a list of face ids."),
])
def test_bad_preset_params_are_refused(editor_client, params, message):
    response = editor_client.post("/api/v1/presets/", {"name": "x", "params": params}, content_type="application/json")

    assert response.status_code == 400 and response.json()["detail"].startswith(message)


def test_a_preset_may_only_point_at_faces_the_store_can_use(editor_client):
    foreign = ModelFaceFactory()  # another store's private face
    unpublished = PublicFaceFactory(curation="approved")
    published = PublicFaceFactory()

    refused = [editor_client.post("/api/v1/presets/", {"name": f"p{face.pk}", "params": {"makeup_face_id": face.pk}},
                                  content_type="application/json") for face in (foreign, unpublished)]
    accepted = editor_client.post("/api/v1/presets/", {"name": "gallery", "params": {"face_ids": [published.pk]}},
                                  content_type="application/json")

    assert [r.status_code for r in refused] == [400, 400]
    assert "not one of your faces or a published gallery face" in refused[0].json()["detail"]
    assert accepted.status_code == 201


def test_a_viewer_reads_presets_but_cannot_create_them(viewer_client, editor):
    StylePresetFactory(store=editor.store)

    listed = viewer_client.get("/api/v1/presets/")
    created = viewer_client.post("/api/v1/presets/", {"name": "mine"}, content_type="application/json")

    assert listed.status_code == 200 and len(listed.json()["results"]) == 1
    assert created.status_code == 403 and "viewer" in created.json()["detail"]


def test_stores_created_before_presets_existed_get_them_from_the_data_migration():
    import importlib

    from django.apps import apps

    from catalog.services import PRESET_SEEDS
    from tests.accounts.factories import StoreFactory

    migration = importlib.import_module("catalog.migrations.0002_seed_presets_for_existing_stores")
    store = StoreFactory()  # made without the store-created hook, like a store from before this release

    migration.seed(apps, None)
    migration.seed(apps, None)  # idempotent

    seeded = list(StylePreset.objects.filter(store=store).values("name", "name_en", "description", "params"))
    assert seeded == [{k: seed[k] for k in ("name", "name_en", "description", "params")} for seed in PRESET_SEEDS]
