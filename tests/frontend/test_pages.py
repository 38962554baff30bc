"""Every dashboard page renders for the roles that may see it, and refuses the others (like the API)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import ApiToken, Role
from catalog.models import ModelFace
from generation.models import Batch, Job, JobState
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.generation.factories import public_face, shot_for

pytestmark = pytest.mark.django_db

READ_PAGES = ["home", "presets", "shots", "gallery", "jobs", "second-generation", "settings"]
EDITOR_PAGES = ["batch-new", "settings-tokens", "settings-webhooks", "preset-create"]
OWNER_PAGES = ["settings-members", "settings-store", "settings-billing"]


def login(client, role=Role.OWNER):
    """Sign in a member of a new store; the client asks for Korean like a Korean seller's browser."""
    membership = MembershipFactory(role=role)
    client.force_login(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9"
    return membership


@pytest.mark.parametrize("name", READ_PAGES + EDITOR_PAGES + OWNER_PAGES)
def test_owner_sees_every_page_in_korean(client, name):
    login(client)
    response = client.get(reverse(name))
    assert response.status_code == 200, response.content[:500]
    html = response.content.decode()
    assert '<html lang="ko">' in html and "설정" in html  # the Settings tab, translated


@pytest.mark.parametrize("name", READ_PAGES)
def test_viewer_reads_without_write_buttons(client, name):
    login(client, Role.VIEWER)
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert 'class="dropzone"' not in response.content.decode()


@pytest.mark.parametrize("name", EDITOR_PAGES + OWNER_PAGES)
def test_viewer_is_refused_settings_that_need_more(client, name):
    login(client, Role.VIEWER)
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", OWNER_PAGES)
def test_editor_is_refused_owner_pages(client, name):
    login(client, Role.EDITOR)
    assert client.get(reverse(name)).status_code == 403


def test_viewer_post_is_refused_like_the_api(client):
    membership = login(client, Role.VIEWER)
    face = public_face()
    response = client.post(reverse("store-model-set"), {"face": face.pk})
    assert response.status_code == 403
    assert not hasattr(membership.store, "options") or membership.store.options.model_face is None


def test_korean_is_the_default_without_any_language_hint(client, settings):
    settings.LANGUAGE_CODE = "ko"  # the product default (base settings); the test settings default to English
    membership = MembershipFactory()
    client.force_login(membership.user)
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="ko">' in html and "최근 작업" in html


def test_english_is_switchable(client):
    login(client)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html and "Settings" in html and "설정" not in html


def test_empty_lists_say_what_to_do_next(client):
    login(client)
    assert "Upload photos of your clothes" in client.get(reverse("shots"), HTTP_ACCEPT_LANGUAGE="en").content.decode() \
        or "업로드" in client.get(reverse("shots")).content.decode()


def test_token_created_on_the_page_is_shown_once_and_works(client):
    membership = login(client)
    response = client.post(reverse("settings-tokens"), {"name": "sync", "scopes": ["read"]}, follow=True)
    html = response.content.decode()
    token = ApiToken.objects.get(store=membership.store)
    assert token.prefix in html and 'id="new-token"' in html
    plaintext = html.split('id="new-token" readonly value="')[1].split('"')[0]
    client.logout()
    api = client.get("/api/v1/store/", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.status_code == 200 and api.json()["id"] == membership.store.pk
    client.force_login(membership.user)
    assert plaintext not in client.get(reverse("settings-tokens")).content.decode()


def test_shot_page_draws_face_boxes_left_to_right(client):
    membership = login(client)
    shot = shot_for(membership.store)
    shot.width, shot.height = 200, 100
    shot.faces = [{"box": [120, 10, 40, 40], "score": 0.9}, {"box": [20, 10, 40, 40], "score": 0.9}]
    shot.save()
    html = client.get(reverse("shot-detail", args=[shot.pk])).content.decode()
    assert html.index("left:10.00%") < html.index("left:60.00%")
    assert 'name="face_index" value="0"' in html and 'name="face_index" value="1"' in html


def test_failed_job_says_why_in_plain_words(client):
    membership = login(client)
    job = Job.objects.create(store=membership.store, kind="pipeline", state=JobState.FAILED,
                             error_code="no_face", error_message="no face found")
    html = client.get(reverse("job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "얼굴" in html or "No face was found" in html


def test_batch_fragment_stops_polling_when_finished(client):
    membership = login(client)
    face = public_face()
    batch = Batch.objects.create(store=membership.store, face=face)
    shot = shot_for(membership.store)
    job = Job.objects.create(store=membership.store, batch=batch, kind="pipeline",
                             inputs={"face": face.pk, "product_shot": shot.pk})
    url = reverse("batch-detail", args=[batch.pk]) + "?fragment=1"
    assert "data-poll=" in client.get(url).content.decode()
    job.state, job.outputs = JobState.SUCCEEDED, {"image": "stores/x/jobs/y/result.png"}
    job.save()
    html = client.get(url).content.decode()
    assert "data-poll=" not in html and "compare-range" in html and "download-zip" in html


def test_other_stores_objects_are_404(client):
    login(client)
    other = MembershipFactory()
    shot = shot_for(other.store)
    job = Job.objects.create(store=other.store, kind="restore")
    assert client.get(reverse("shot-detail", args=[shot.pk])).status_code == 404
    assert client.get(reverse("job-detail", args=[job.pk])).status_code == 404


def test_curation_is_staff_only_and_records_the_curator(client):
    login(client)
    face = public_face(curation=ModelFace.Curation.PENDING)
    assert client.get(reverse("curation")).status_code == 403
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("curation")).status_code == 200
    client.post(reverse("curation-bulk"), {"action": "approve", "face": [face.pk]})
    face.refresh_from_db()
    assert face.curation == "approved" and face.curated_by == staff
    html = client.get(reverse("curation") + "?queue=approved").content.decode()
    assert staff.email in html


def test_out_of_credits_says_what_happened_and_what_to_do(client):
    from billing.services import billing_account_for

    membership = login(client)
    plan = billing_account_for(store=membership.store).plan
    plan.monthly_credits = 0
    plan.save()
    face, shot = public_face(), shot_for(membership.store)
    response = client.post(reverse("batch-new"), {"face": face.pk, "product_shots": [shot.pk]})
    assert response.status_code == 200
    assert "크레딧" in response.content.decode() and not Job.objects.filter(store=membership.store).exists()


def test_billing_page_shows_plan_credits_and_usage_chart(client):
    from frontend.views_settings import usage_chart

    login(client)
    html = client.get(reverse("settings-billing")).content.decode()
    assert "남은 크레딧" in html and "20" in html
    chart = usage_chart([{"day": "2026-11-20", "kind": "pipeline", "jobs": 2, "credits": 4},
                         {"day": "2026-11-21", "kind": "swap", "jobs": 1, "credits": 1},
                         {"day": "2026-11-21", "kind": "pipeline", "jobs": 1, "credits": 2}])
    assert [b["total"] for b in chart["bars"]] == [4, 3] and chart["bars"][0]["segments"][0]["width"] == 100


def test_candidates_need_three_faces_and_then_show_progress_until_done(client):
    from catalog.services import presets_seed_for_store

    membership = login(client)
    preset = next(p for p in presets_seed_for_store(store=membership.store) if p.name_en == "Elegant")
    response = client.post(reverse("candidates-generate"), {"preset": preset.pk, "count": 2}, follow=True)
    assert "3개 이상" in response.content.decode() and not Job.objects.exists()

    for n in range(3):
        ModelFace.objects.create(store=None, image=f"gallery/faces/{n}.png", curation="published", tags=["elegant"])
    response = client.post(reverse("candidates-generate"), {"preset": preset.pk, "count": 2})
    assert response.status_code == 302 and "jobs=" in response.url
    jobs = list(Job.objects.filter(store=membership.store, kind="generate_face"))
    assert len(jobs) == 2
    fragment = client.get(response.url + "&fragment=1").content.decode()
    assert "data-poll=" in fragment and fragment.count("<progress") == 2
    Job.objects.filter(pk__in=[j.pk for j in jobs]).update(state=JobState.SUCCEEDED,
                                                           outputs={"image": "stores/x/jobs/y/result.png"})
    fragment = client.get(response.url + "&fragment=1").content.decode()
    assert "data-poll=" not in fragment and fragment.count("<img") == 2


# ---- face candidates: keep or discard ------------------------------------------------------------


def candidate(store, seed: int = 0, preset=None, **fields) -> Job:
    """A finished generate_face job whose result image is really stored."""
    import uuid

    from core import objectstore

    job_id = uuid.uuid4()
    key = objectstore.put_bytes(f"stores/{store.pk}/jobs/{job_id}/result.png", b"\x89PNG candidate " + job_id.bytes)
    defaults = {"state": JobState.SUCCEEDED, "outputs": {"image": key}, "params": {"seed": seed},
                "inputs": {"preset": preset.pk} if preset else {}}
    return Job.objects.create(id=job_id, store=store, kind="generate_face", **{**defaults, **fields})


def elegant_preset(store):
    from catalog.services import presets_seed_for_store

    return next(p for p in presets_seed_for_store(store=store) if p.name_en == "Elegant")


def candidates_url(*jobs) -> str:
    return reverse("candidates") + "?jobs=" + ",".join(str(j.pk) for j in jobs)


def test_keeping_a_candidate_twice_makes_one_face_that_the_gallery_lists(client):
    from core import objectstore

    membership = login(client)
    job = candidate(membership.store, preset=elegant_preset(membership.store))
    grid = client.get(candidates_url(job)).content.decode()
    assert "후보를 스토어 얼굴로 저장하는 기능은 준비 중" not in grid
    assert f'id="keep-{job.pk}"' in grid and "보관<span class=\"sr-only\"> — 후보 1</span>" in grid

    keep = reverse("candidate-keep", args=[job.pk])
    response = client.post(keep, {"next": candidates_url(job)}, follow=True)
    client.post(keep, {"next": candidates_url(job)})  # a double click, or the back button and again

    face = ModelFace.objects.get(store=membership.store)
    assert (face.source, face.curation, face.generated_by_job) == ("generated", "private", job.pk)
    assert face.name == "우아한 1" and face.tags == ["elegant"] and not face.consent_given_at
    assert face.image != job.outputs["image"] and objectstore.get_bytes(face.image) == objectstore.get_bytes(
        job.outputs["image"])
    html = response.content.decode()
    assert "“우아한 1” 얼굴을 갤러리에 보관했습니다" in html and "보관됨 — 갤러리에서 보기" in html
    assert f'id="keep-{job.pk}"' not in html

    objectstore.delete(job.outputs["image"])  # the job's output going away never breaks the face
    assert objectstore.exists(face.image)
    gallery = client.get(reverse("gallery") + "?scope=store").content.decode()
    assert f'id="face-{face.pk}"' in gallery and "우아한 1" in gallery

    second = candidate(membership.store, seed=1, preset=elegant_preset(membership.store))
    client.post(reverse("candidate-keep", args=[second.pk]))
    assert ModelFace.objects.get(generated_by_job=second.pk).name == "우아한 2"


def test_discarding_a_candidate_deletes_its_image_and_hides_the_tile(client, django_capture_on_commit_callbacks):
    from core import objectstore

    membership = login(client)
    keep, drop = candidate(membership.store, seed=0), candidate(membership.store, seed=1)
    key = drop.outputs["image"]
    with django_capture_on_commit_callbacks(execute=True):  # the image is deleted once the discard commits
        response = client.post(reverse("candidate-discard", args=[drop.pk]), {"next": candidates_url(keep, drop)},
                               follow=True)
    html = response.content.decode()
    assert "후보를 버리고 이미지를 삭제했습니다" in html
    assert f'id="candidate-{keep.pk}"' in html and f'id="candidate-{drop.pk}"' not in html
    assert "후보 1" in html and "후보 2" not in html  # the survivor keeps its number
    assert not objectstore.exists(key)
    drop.refresh_from_db()
    assert drop.outputs == {} and drop.is_discarded
    job_page = client.get(reverse("job-detail", args=[drop.pk])).content.decode()
    assert "버린 결과라 이미지가 삭제되었습니다" in job_page
    assert 'class="compare"' not in job_page and "result-download" not in job_page

    refused = client.post(reverse("candidate-keep", args=[drop.pk]), follow=True).content.decode()
    assert "이미 버린 후보라 보관할 수 없습니다" in refused and not ModelFace.objects.exists()


def test_only_the_stores_own_finished_candidates_can_be_kept_or_discarded(client):
    from core import objectstore

    membership = login(client)
    others = candidate(MembershipFactory().store)
    for action in ("candidate-keep", "candidate-discard"):
        response = client.post(reverse(action, args=[others.pk]), follow=True)
        assert response.status_code == 200
        assert "이 스토어의 얼굴 후보가 아닙니다" in response.content.decode()
    assert objectstore.exists(others.outputs["image"]) and not ModelFace.objects.exists()

    running = candidate(membership.store, state=JobState.RUNNING, outputs={})
    pipeline = Job.objects.create(store=membership.store, kind="pipeline", state=JobState.SUCCEEDED,
                                  outputs={"image": "stores/x/jobs/y/result.png"})
    assert "아직 이미지가 완성되지 않은 후보입니다" in client.post(
        reverse("candidate-keep", args=[running.pk]), follow=True).content.decode()
    assert "이 스토어의 얼굴 후보가 아닙니다" in client.post(
        reverse("candidate-discard", args=[pipeline.pk]), follow=True).content.decode()
    kept = candidate(membership.store)
    client.post(reverse("candidate-keep", args=[kept.pk]))
    assert "이미 갤러리에 보관한 후보라 버릴 수 없습니다" in client.post(
        reverse("candidate-discard", args=[kept.pk]), follow=True).content.decode()
    assert objectstore.exists(kept.outputs["image"])


def test_viewer_sees_candidates_but_cannot_keep_or_discard(client):
    from core import objectstore

    membership = login(client, Role.VIEWER)
    job = candidate(membership.store)
    html = client.get(candidates_url(job)).content.decode()
    assert f'id="candidate-{job.pk}"' in html and "candidate-keep" not in html and f'id="keep-{job.pk}"' not in html
    assert client.post(reverse("candidate-keep", args=[job.pk])).status_code == 403
    assert client.post(reverse("candidate-discard", args=[job.pk])).status_code == 403
    assert not ModelFace.objects.exists() and objectstore.exists(job.outputs["image"])


def test_webhook_endpoints_are_managed_through_the_same_services_as_the_api(client):
    from generation.models import WebhookEndpoint

    membership = login(client, Role.EDITOR)
    url = reverse("settings-webhooks")
    refused = client.post(url, {"url": "ftp://shop.example.com/hooks"})
    assert refused.status_code == 200 and not WebhookEndpoint.objects.exists()
    client.post(url, {"url": "https://shop.example.com/hooks", "events": ["job.completed"]})
    endpoint = WebhookEndpoint.objects.get(store=membership.store)
    assert endpoint.events == ["job.completed"] and endpoint.secret.startswith("whsec_")
    old_secret = endpoint.secret
    client.post(reverse("webhook-action", args=[endpoint.pk, "rotate"]))
    client.post(reverse("webhook-action", args=[endpoint.pk, "toggle"]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and not endpoint.is_active
    client.post(reverse("webhook-action", args=[endpoint.pk, "delete"]))
    assert not WebhookEndpoint.objects.exists()


def test_store_options_page_sets_the_visible_ai_label(client):
    from catalog.selectors import store_options, store_visible_label

    membership = login(client)
    membership.store.locale = "en"
    membership.store.save(update_fields=["locale"])
    client.post(reverse("settings-store"), {"name": "Spring", "locale": "en", "visible_ai_label": "on",
                                            "label_text": "ai_image", "label_position": "top-right",
                                            "label_size": "medium"})
    assert store_options(store=membership.store).visible_ai_label is True
    assert store_visible_label(store=membership.store) == {"visible": True, "text": "ai_image",
                                                           "position": "top-right", "size": "medium"}
    client.post(reverse("settings-store"), {"name": "Spring", "locale": "en"})
    assert store_options(store=membership.store).visible_ai_label is False


def test_a_store_chooses_jpeg_results_and_its_next_job_is_sent_for_a_jpeg(client):
    from generation.dispatch import job_spec
    from tests.generation.factories import queued_job

    membership = login(client)
    page = client.get(reverse("settings-store"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "결과 파일 형식" in page and "JPEG" in page
    client.post(reverse("settings-store"), {"name": "봄날", "locale": "ko", "output_format": "jpeg"})
    job = queued_job(membership.store)
    assert job_spec(job, label={"visible": True})["output"] == {"format": "jpeg"}
    response = client.post(reverse("settings-store"), {"name": "봄날", "locale": "ko", "output_format": "gif"})
    assert response.status_code == 200 and "PNG 또는 JPEG 중에서 고르세요" in response.content.decode()
    assert job_spec(job, label={"visible": True})["output"] == {"format": "jpeg"}  # the bad choice changed nothing


def test_a_korean_store_cannot_switch_the_mark_off_and_is_told_why(client):
    from catalog.selectors import store_visible_label

    membership = login(client)
    page = client.get(reverse("settings-store"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "인공지능기본법 제31조 제3항" in page and "작게 (법정 최소 크기)" in page
    client.post(reverse("settings-store"), {"name": "봄날", "locale": "ko", "label_position": "bottom-left"})
    assert store_visible_label(store=membership.store)["visible"] is True
    assert store_visible_label(store=membership.store)["position"] == "bottom-left"
    response = client.post(reverse("settings-store"), {"name": "봄날", "locale": "ko", "label_size": "huge"})
    assert response.status_code == 200 and store_visible_label(store=membership.store)["size"] == "small"
