"""The content-credential check page: a Gasang output signed by the operator's certificate reads as valid and says
what was done, by which engine and in which job; an edited, re-signed or stripped copy says so."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from core import objectstore
from generation.models import Job, JobState
from gpu_worker import content_credentials
from gpu_worker.spec import SOURCE_TYPE_COMPOSITE
from tests.accounts.factories import MembershipFactory
from tests.c2pa_pki import edit_pixels, make_pki
from tests.generation.factories import public_face
from tests.generation.photos import astronaut, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("c2pa"), "operator")


@pytest.fixture
def trusted(pki, settings, tmp_path):
    anchors = tmp_path / "trust.pem"
    anchors.write_text(pki["ca"])
    settings.C2PA_TRUST_ANCHORS_FILE = str(anchors)
    return pki


def signed_output(pki, job_id: str = "8c8d27ea-8500-43f4-9b1c-1c83517dff3e") -> bytes:
    config = content_credentials.signer_from_env({content_credentials.CERT_ENV: pki["cert"],
                                                 content_credentials.KEY_ENV: pki["key"]})
    small = png_bytes(astronaut()[::4, ::4].copy())
    return content_credentials.sign(small, "image/png", kind="pipeline", job_id=job_id,
                                    agent="swap:classical-2.0 → restore:classical-1.0",
                                    source_type=SOURCE_TYPE_COMPOSITE, ingredient=small, ingredient_mime="image/png",
                                    config=config)


def check(client, data: bytes, name: str = "result.png") -> str:
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse("verify"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="ko").content.decode()


@pytest.fixture
def seller(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    return membership


def test_a_gasang_output_reads_as_valid_with_what_was_done_by_which_engine_in_which_job(client, seller, trusted):
    page = check(client, signed_output(trusted))
    assert "유효한 가상 콘텐츠 자격 증명입니다" in page
    assert "얼굴을 AI로 만든 얼굴로 바꾼 사진" in page and "AI 생성물을 합성한 사진" in page
    assert "swap:classical-2.0" in page and "8c8d27ea-8500-43f4-9b1c-1c83517dff3e" in page


def test_an_edited_a_stripped_and_a_stranger_signed_copy_each_say_so(client, seller, trusted, tmp_path):
    edited = edit_pixels(signed_output(trusted), "image/png")
    assert "서명 이후 이미지나 자격 증명이 바뀌었습니다" in check(client, edited)

    stripped = io.BytesIO()
    Image.open(io.BytesIO(signed_output(trusted))).save(stripped, format="PNG")  # a re-save drops the manifest
    assert "콘텐츠 자격 증명이 없습니다" in check(client, stripped.getvalue())

    stranger = make_pki(tmp_path, "stranger")
    assert "신뢰하는 인증서로 서명된 것이 아닙니다" in check(client, signed_output(stranger))

    assert "PNG, JPEG, WEBP" in check(client, b"plain text, not an image", "notes.txt")


def test_a_job_of_the_store_is_checked_from_its_card_and_another_stores_job_is_not(client, seller, trusted):
    store = seller.store
    job = Job.objects.create(store=store, kind="pipeline", state=JobState.SUCCEEDED, inputs={"face": public_face().pk})
    key = objectstore.put_bytes(f"stores/{store.pk}/jobs/{job.pk}/result.png", signed_output(trusted, str(job.pk)))
    job.outputs = {"image": key}
    job.save(update_fields=["outputs"])

    page = client.get(reverse("verify"), {"job": str(job.pk)}, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "유효한 가상 콘텐츠 자격 증명입니다" in page
    assert reverse("job-detail", args=[job.pk]) in page  # the credential names this store's job: linked

    other = Job.objects.create(store=MembershipFactory().store, kind="pipeline", state=JobState.SUCCEEDED,
                               inputs={}, outputs={"image": key})
    page = client.get(reverse("verify"), {"job": str(other.pk)}, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "이 스토어에는 그 번호의 끝난 작업이 없습니다" in page and "유효한" not in page


def test_the_api_checks_a_jobs_result_for_its_customers(client, trusted):
    from tests.accounts.factories import token_for

    membership = MembershipFactory()
    store = membership.store
    job = Job.objects.create(store=store, kind="pipeline", state=JobState.SUCCEEDED, inputs={"face": public_face().pk})
    key = objectstore.put_bytes(f"stores/{store.pk}/jobs/{job.pk}/result.png", signed_output(trusted, str(job.pk)))
    job.outputs = {"image": key}
    job.save(update_fields=["outputs"])
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(membership, scopes=('read',))}"}

    answer = client.get(f"/api/v1/jobs/{job.pk}/credential/", **auth)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["outcome"] == "trusted" and body["action"] == "c2pa.edited" and body["job_id"] == str(job.pk)
    assert body["source_type"] == "composite" and "swap:classical-2.0" in body["agent"]
    queued = Job.objects.create(store=store, kind="pipeline", inputs={})
    missing = client.get(f"/api/v1/jobs/{queued.pk}/credential/", **auth)
    assert missing.status_code == 404 and "no result" in missing.json()["detail"]


def test_the_api_checks_an_uploaded_image_and_refuses_what_is_not_one(client, trusted, tmp_path):
    from tests.accounts.factories import token_for

    membership = MembershipFactory()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(membership, scopes=('read', 'write'))}"}

    def check_file(data: bytes, name: str = "from-the-shop.png", **headers):
        upload = io.BytesIO(data)
        upload.name = name
        return client.post("/api/v1/credentials/verify/", {"file": upload}, **{**auth, **headers})

    answer = check_file(signed_output(trusted))
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["outcome"] == "trusted" and body["job_id"] == "8c8d27ea-8500-43f4-9b1c-1c83517dff3e"
    assert body["action"] == "c2pa.edited" and "swap:classical-2.0" in body["agent"]
    assert check_file(edit_pixels(signed_output(trusted), "image/png")).json()["outcome"] == "altered"
    assert check_file(signed_output(make_pki(tmp_path, "stranger"))).json()["outcome"] == "untrusted"

    refused = check_file(b"plain text, not an image", "notes.txt")
    assert refused.status_code == 415 and "PNG, JPEG and WEBP" in refused.json()["detail"]
    empty = client.post("/api/v1/credentials/verify/", {}, **auth)
    assert empty.status_code == 400 and empty.json()["errors"]["file"]
    read_only = {"HTTP_AUTHORIZATION": f"Bearer {token_for(membership, scopes=('read',))}"}
    assert check_file(signed_output(trusted), **read_only).status_code == 403
    assert client.post("/api/v1/credentials/verify/", {}).status_code in (401, 403)  # not signed in


# ---- the public check: anyone, no login ---------------------------------------------------------------------------


def check_publicly(client, data: bytes, name: str = "from-the-shop.png", address: str = "203.0.113.9", **extra):
    upload = io.BytesIO(data)
    upload.name = name
    return client.post(reverse("public-verify"), {"file": upload}, HTTP_ACCEPT_LANGUAGE="ko", REMOTE_ADDR=address,
                       **extra)


def test_a_shopper_without_an_account_checks_an_image_and_sees_only_what_the_credential_says(client, trusted):
    login_page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert reverse("public-verify") in login_page  # found without an account

    answer = check_publicly(client, signed_output(trusted))

    assert answer.status_code == 200
    page = answer.content.decode()
    assert "유효한 가상 콘텐츠 자격 증명입니다" in page and "얼굴을 AI로 만든 얼굴로 바꾼 사진" in page
    assert "8c8d27ea-8500-43f4-9b1c-1c83517dff3e" in page and "/jobs/" not in page  # the id as written, no link
    assert "저장하지 않습니다" in page
    assert "서명 이후" in check_publicly(client, edit_pixels(signed_output(trusted), "image/png")).content.decode()
    refused = check_publicly(client, b"plain text, not an image", "notes.txt")
    assert refused.status_code == 415 and "PNG, JPEG, WEBP" in refused.content.decode()
    assert check_publicly(client, b"", "empty.png").status_code == 400


def test_the_public_check_is_limited_per_address_and_refuses_an_oversized_body_unread(client, trusted, settings):
    import time_machine

    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**rates, "public_check": "2/hour"}}
    image = signed_output(trusted)
    with time_machine.travel("2030-05-01T03:00:15+00:00", tick=False):
        answers = [check_publicly(client, image, address="198.51.100.20").status_code for _ in range(3)]
        over = check_publicly(client, image, address="198.51.100.20")
        neighbour = check_publicly(client, image, address="198.51.100.21")

    assert answers == [200, 200, 429] and over.status_code == 429 and neighbour.status_code == 200
    assert over["Retry-After"] == str(3600 - 15)
    assert "확인한 이미지가 너무 많습니다" in over.content.decode()
    assert client.get(reverse("public-verify"), REMOTE_ADDR="198.51.100.20").status_code == 200  # the page still opens

    oversized = check_publicly(client, image, address="198.51.100.22", CONTENT_LENGTH=str(200 * 1024 * 1024))
    assert oversized.status_code == 413 and "20MB" in oversized.content.decode().replace(" MB", "MB")
