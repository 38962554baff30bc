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
    plan = billing_account_for(membership.store).plan
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
    preset = next(p for p in presets_seed_for_store(membership.store) if p.name_en == "Elegant")
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
