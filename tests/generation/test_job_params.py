"""Job parameters are checked at POST /api/v1/jobs/ against the definition the GPU worker uses (gpu_worker/spec.py);
second_generation needs the same per-parent consent as the dashboard, and two different parents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from catalog.models import ModelFace
from core import objectstore
from core.models import OutboxMessage
from generation.models import Job
from gpu_worker.spec import JOB_PARAMS, MAX_CONTRIBUTORS
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import private_face, public_face, shot_for

pytestmark = pytest.mark.django_db
JSON = "application/json"
README = Path(__file__).resolve().parents[2] / "README.md"


def create(client, body):
    return client.post("/api/v1/jobs/", body, content_type=JSON)


def generate_body(owner, **params):
    faces = [private_face(owner.store, key=f"stores/{owner.store.pk}/faces/{n}.png").pk for n in range(3)]
    return {"kind": "generate_face", "inputs": {"faces": faces}, "params": params}


def swap_body(owner, **params):
    return {"kind": "swap", "inputs": {"face": public_face().pk, "product_shot": shot_for(owner.store).pk},
            "params": params}


def second_generation_body(owner, consent=None, same_parent=False):
    parent_a = private_face(owner.store, key=f"stores/{owner.store.pk}/faces/a.png")
    parent_b = parent_a if same_parent else private_face(owner.store, key=f"stores/{owner.store.pk}/faces/b.png")
    body = {"kind": "second_generation", "inputs": {"parent_a": parent_a.pk, "parent_b": parent_b.pk}}
    if consent is not None:
        body["consent"] = consent
    return body


def assert_refused(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert field in body["errors"] and body["detail"] and body["code"] == "invalid", body
    assert not Job.objects.exists() and not OutboxMessage.objects.exists()


@pytest.mark.parametrize(
    "make_body, field",
    [
        (lambda o: generate_body(o, seed="x"), "params.seed"),
        (lambda o: generate_body(o, seed=-1), "params.seed"),
        (lambda o: generate_body(o, seed=10**30), "params.seed"),
        (lambda o: generate_body(o, seed=True), "params.seed"),
        (lambda o: generate_body(o, weights="nope"), "params.weights"),
        (lambda o: generate_body(o, weights=[1, "a", 1]), "params.weights"),
        (lambda o: generate_body(o, weights=[0, 0, 0]), "params.weights"),
        (lambda o: generate_body(o, weights=[1, 1]), "params.weights"),
        (lambda o: generate_body(o, weights=[1, 1, 1, 1]), "params.weights"),  # 4 weights for 3 faces
        (lambda o: swap_body(o, face_index=10**30), "params.face_index"),
        (lambda o: swap_body(o, face_index=1.5), "params.face_index"),
        (lambda o: swap_body(o, face="similar"), "params.face"),
        (lambda o: swap_body(o, face="largest", face_index=0), "params.face"),
        (lambda o: {**second_generation_body(o, {"parent_a": True, "parent_b": True}), "params": {"sex": "x"}},
         "params.sex"),
    ],
)
def test_parameters_only_the_worker_refused_before_are_refused_at_the_api(client, owner, make_body, field):
    assert_refused(create(client, make_body(owner)), field)


def test_the_message_gives_the_documented_range(client, owner):
    response = create(client, swap_body(owner, face_index=10**30))

    assert response.json()["errors"]["params.face_index"] == ["Must be a whole number from 0 to 99."]


def test_valid_parameters_are_accepted_and_sent_to_the_worker_unchanged(client, owner):
    response = create(client, generate_body(owner, seed=7, weights=[1, 2, 0.5]))

    assert response.status_code == 201, response.content
    assert OutboxMessage.objects.get().payload["params"] == {"seed": 7, "weights": [1, 2, 0.5]}


def test_a_preset_gives_the_new_face_its_style_colour_and_makeup_look(client, owner):
    from catalog.models import StylePreset

    faces = [private_face(owner.store, key=f"stores/{owner.store.pk}/faces/{n}.png").pk for n in range(3)]
    look = private_face(owner.store, key=f"stores/{owner.store.pk}/faces/look.png")
    preset = StylePreset.objects.create(store=owner.store, name="퇴폐적인", params={
        "face_ids": faces, "face_tags": ["edgy"], "makeup_face_id": look.pk, "makeup_strength": 0.8})

    response = create(client, {"kind": "generate_face", "inputs": {"preset": preset.pk}, "params": {"seed": 2}})

    assert response.status_code == 201, response.content
    spec = OutboxMessage.objects.get().payload
    assert spec["params"] == {"seed": 2, "backdrop": "edgy", "makeup_strength": 0.8}
    assert spec["inputs"]["reference"] == look.image and len(spec["inputs"]["contributors"]) == 3


def test_more_contributor_faces_than_the_engine_blends_are_refused(client, owner):
    faces = [private_face(owner.store).pk for _ in range(MAX_CONTRIBUTORS + 1)]

    assert_refused(create(client, {"kind": "generate_face", "inputs": {"faces": faces}}), "inputs.faces")


def test_second_generation_without_consent_names_each_missing_parent(client, owner):
    none = create(client, second_generation_body(owner))
    only_a = create(client, second_generation_body(owner, {"parent_a": True}))

    assert_refused(none, "consent.parent_a")
    assert "consent.parent_b" in none.json()["errors"]
    assert_refused(only_a, "consent.parent_b")
    assert "consent.parent_a" not in only_a.json()["errors"]


def test_second_generation_with_consent_from_both_parents_is_queued(client, owner):
    response = create(client, second_generation_body(owner, {"parent_a": True, "parent_b": True}))

    assert response.status_code == 201, response.content
    assert set(OutboxMessage.objects.get().payload["inputs"]) == {"parent_a", "parent_b"}


def test_second_generation_refuses_the_same_face_as_both_parents(client, owner):
    response = create(client, second_generation_body(owner, {"parent_a": True, "parent_b": True}, same_parent=True))

    assert_refused(response, "inputs.parent_b")


def test_dashboard_second_generation_passes_the_ticked_consent(client):
    from django.urls import reverse

    membership = MembershipFactory()
    client.force_login(membership.user)
    body = second_generation_body(membership)["inputs"]  # gallery faces, the page's alternative to uploads
    for face in ModelFace.objects.filter(pk__in=body.values()):
        objectstore.put_bytes(face.image, b"parent photo")
    body.update(parent_a_consent_by="김민지", parent_b_consent_by="김민지", consent_purpose="아이 얼굴 만들기",
                parent_a_relation="mother", parent_b_relation="father", age_band="3-6", weight_a="0.5")

    refused = client.post(reverse("second-generation"), {**body, "consent_a": "on"})
    assert refused.status_code == 200 and not Job.objects.exists()

    accepted = client.post(reverse("second-generation"), {**body, "consent_a": "on", "consent_b": "on"})
    assert accepted.status_code == 302, accepted.content[:2000]
    job = Job.objects.get()
    assert job.kind == "second_generation" and set(job.inputs) == {"parent_a_photo", "parent_b_photo"}


def test_readme_documents_every_parameter_with_its_range():
    text = README.read_text()
    for kind, params in JOB_PARAMS.items():
        for name, param in params.items():
            row = re.search(rf"^\| `{kind}` \| `{name}` \|(.*)$", text, re.MULTILINE)
            assert row, f"README lacks the row for {kind}.{name}"
            if param.type in ("integer", "number"):
                assert f"{param.minimum}–{param.maximum}" in row.group(1), row.group(0)
            if param.default is not None:
                assert f"`{param.default}`" in row.group(1), row.group(0)
