"""An operator bulk-imports licensed faces and a store's product shots from a folder (manage.py commands)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.catalog.sample_images import photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "minji.jpg").write_bytes(photo("JPEG", (96, 96)))
    (tmp_path / "seoyeon.png").write_bytes(photo("PNG", (96, 96)))
    (tmp_path / "readme.txt").write_text("not a photo, and not a photo suffix: ignored")
    (tmp_path / "broken.jpg").write_bytes(b"this is not a jpeg")
    return tmp_path


def run(*args) -> tuple[str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_faces_publishes_licensed_faces_with_their_consent_and_skips_them_the_second_time(folder):
    from catalog.models import ModelFace
    from tests.accounts.factories import UserFactory

    curator = UserFactory(email="ops@gasang.example", is_staff=True)
    out, err = run("import_faces", str(folder), "--consent", "Model release 2026-11, signed by each person",
                   "--tags", "Elegant, fresh", "--publish-as", "ops@gasang.example")

    assert "faces: 2 imported, 0 already there, 1 refused" in out
    assert "refused broken.jpg:" in err
    faces = ModelFace.objects.order_by("name")
    assert [f.name for f in faces] == ["minji", "seoyeon"]
    for face in faces:
        assert face.store is None and face.curation == ModelFace.Curation.PUBLISHED
        assert face.consent_given_by == "Model release 2026-11, signed by each person"
        assert face.consent_purpose and face.consent_given_at is not None
        assert face.curated_by == curator and face.curated_at is not None  # the audit trail
        assert face.tags == ["elegant", "fresh"]

    out, _err = run("import_faces", str(folder), "--consent", "Model release 2026-11")
    assert "0 imported, 2 already there" in out
    assert ModelFace.objects.count() == 2


def test_import_faces_without_publishing_waits_for_curation_and_store_faces_stay_private(folder):
    from catalog.models import ModelFace
    from tests.accounts.factories import StoreFactory

    run("import_faces", str(folder), "--consent", "Release on file")
    assert set(ModelFace.objects.values_list("curation", flat=True)) == {ModelFace.Curation.PENDING}

    store = StoreFactory()
    run("import_faces", str(folder), "--consent", "Release on file", "--store", store.slug)
    assert ModelFace.objects.filter(store=store, curation=ModelFace.Curation.PRIVATE).count() == 2


def test_import_faces_refuses_a_missing_consent_folder_or_curator(folder, tmp_path):
    with pytest.raises(CommandError, match="consent"):
        run("import_faces", str(folder), "--consent", "  ")
    with pytest.raises(CommandError, match="is not a folder"):
        run("import_faces", str(tmp_path / "nowhere"), "--consent", "Release on file")
    with pytest.raises(CommandError, match="no staff user"):
        run("import_faces", str(folder), "--consent", "Release on file", "--publish-as", "nobody@example.com")
    with pytest.raises(CommandError, match="no store"):
        run("import_faces", str(folder), "--consent", "Release on file", "--store", "no-such-store")


def test_import_shots_adds_the_store_product_shots_once_each_with_face_detection_queued(folder):
    from catalog.models import ProductShot
    from core.models import OutboxMessage
    from tests.accounts.factories import StoreFactory

    store = StoreFactory()
    out, err = run("import_shots", str(folder), "--store", store.slug)
    assert "product shots: 2 imported, 0 already there, 1 refused" in out and "refused broken.jpg" in err
    shots = ProductShot.objects.filter(store=store).order_by("original_filename")
    assert [s.original_filename for s in shots] == ["minji.jpg", "seoyeon.png"]
    assert all(s.faces_state == ProductShot.FacesState.PENDING for s in shots)
    assert OutboxMessage.objects.filter(task__contains="detect_faces").count() == 2

    out, _err = run("import_shots", str(folder), "--store", store.slug)
    assert "0 imported, 2 already there" in out
