"""A Korean seller reads natural Korean everywhere: plan names, style tags, seeded preset texts, form messages
and dates in the store's time zone ("2026. 12. 2. 08:30"), while what is stored (tag keys, seed texts) stays
the same for every language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from catalog.models import ModelFace, StylePreset
from tests.accounts.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

KOREAN = "ko-KR,ko;q=0.9"


def login(client, language: str = KOREAN, **store):
    membership = MembershipFactory(**{f"store__{k}": v for k, v in store.items()})
    client.force_login(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return membership


def seeded_presets(store) -> dict[str, StylePreset]:
    from catalog.services import presets_seed_for_store

    return {p.name_en: p for p in presets_seed_for_store(store=store)}


def test_the_free_plan_reads_muryo_yogeumje_not_free_yogeumje(client):
    login(client)
    html = client.get(reverse("settings-billing")).content.decode()

    assert '<h2 id="plan-title">무료 요금제</h2>' in html
    assert "Free" not in html


def test_the_plan_heading_says_plan_once_even_when_the_name_has_it(client):
    from billing.services import billing_account_for

    membership = login(client)
    plan = billing_account_for(store=membership.store).plan
    plan.name = "스타터 요금제"
    plan.save()

    html = client.get(reverse("settings-billing")).content.decode()
    assert '<h2 id="plan-title">스타터 요금제</h2>' in html


def test_english_keeps_the_english_plan_name(client):
    login(client, "en")
    assert '<h2 id="plan-title">Free plan</h2>' in client.get(reverse("settings-billing")).content.decode()


def test_presets_show_korean_tags_and_descriptions(client):
    membership = login(client)
    seeded_presets(membership.store)

    html = client.get(reverse("presets")).content.decode()

    assert '<span class="tag">우아한</span>' in html and '<span class="tag">청량한</span>' in html
    assert "기품 있고 세련된, 성숙한 룩." in html
    assert '<span class="tag">elegant</span>' not in html and "Poised, refined" not in html


def test_english_presets_page_keeps_the_english_tags(client):
    membership = login(client, "en")
    seeded_presets(membership.store)
    html = client.get(reverse("presets")).content.decode()
    assert '<span class="tag">elegant</span>' in html and "Poised, refined, mature look." in html


def test_gallery_filter_lists_tags_in_korean_and_filters_by_the_stored_key(client):
    login(client)
    ModelFace.objects.create(store=None, image="gallery/faces/a.png", curation="published", tags=["elegant"],
                             name="하나")
    ModelFace.objects.create(store=None, image="gallery/faces/b.png", curation="published", tags=["fresh"],
                             name="두리")

    html = client.get(reverse("gallery")).content.decode()
    select = html[html.index('id="tag"'):]
    options = re.findall(r'<option value="(\w+)" ?>([^<]+)</option>', select[:select.index("</select>")])
    assert options == [("elegant", "우아한"), ("fresh", "청량한")]

    filtered = client.get(reverse("gallery") + "?tag=fresh").content.decode()
    assert "두리" in filtered and "하나" not in filtered
    assert '<option value="fresh" selected>청량한</option>' in filtered


def test_the_preset_form_shows_the_korean_description_and_keeps_tags_as_keys(client):
    membership = login(client)
    preset = seeded_presets(membership.store)["Elegant"]

    form = client.get(reverse("preset-edit", args=[preset.pk])).content.decode()
    assert "기품 있고 세련된, 성숙한 룩.</textarea>" in form and "Poised" not in form
    assert 'name="face_tags" value="우아한"' in form

    # Saved as shown (Korean description, tags typed in Korean): stored as the seed text and the English keys,
    # so the preset still reads in English for an English-speaking colleague.
    response = client.post(reverse("preset-edit", args=[preset.pk]), {
        "name": preset.name, "name_en": preset.name_en, "description": "기품 있고 세련된, 성숙한 룩.",
        "face_tags": "우아한, 청량한", "makeup_strength": "0.6", "restore_strength": "0.5"})
    assert response.status_code == 302
    preset.refresh_from_db()
    assert preset.description == "Poised, refined, mature look."
    assert preset.params["face_tags"] == ["elegant", "fresh"]

    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert '<span class="tag">fresh</span>' in client.get(reverse("presets")).content.decode()


def test_empty_forms_say_what_is_missing_in_korean(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = KOREAN
    html = client.post(reverse("signup"), {"email": "", "password": "", "store_name": "", "locale": "ko"}) \
        .content.decode()
    assert "이메일 주소를 입력해 주세요." in html and "비밀번호를 정해 주세요." in html
    assert "스토어 이름을 입력해 주세요." in html and "필수 항목" not in html

    membership = login(client)
    html = client.post(reverse("settings-tokens"), {"name": ""}).content.decode()
    assert "토큰 이름을 입력해 주세요" in html and "권한을 하나 이상 선택해 주세요." in html
    assert "필수 항목" not in html
    assert membership  # the owner's pages answered in Korean


def test_a_wrong_password_is_refused_without_broken_particles(client):
    user = UserFactory(email="seller@example.com")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = KOREAN

    html = client.post(reverse("login"), {"username": user.email, "password": "wrong-password"}).content.decode()

    assert "이메일 주소 또는 비밀번호가 맞지 않습니다." in html
    assert "와/과" not in html and "은/는" not in html


def test_a_job_at_2330_utc_is_the_next_day_in_seoul_on_the_jobs_page_and_the_billing_chart(client):
    from tests.billing.subscribing import run_job

    membership = login(client, time_zone="Asia/Seoul")
    with time_machine.travel(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), tick=False):
        run_job(membership)
        jobs = client.get(reverse("jobs")).content.decode()
        billing = client.get(reverse("settings-billing")).content.decode()

    assert "2026. 12. 2. 08:30" in jobs and "2026-12-2" not in jobs
    assert re.findall(r'class="usage-day">([^<]+)<', billing) == ["12월 2일"]
    assert "2026. 12. 1. 00:00" in billing  # the free month began at midnight on Dec 1 in Seoul
    assert "2026-12-1" not in billing and "2027-1-1" not in billing


def test_an_english_store_page_keeps_english_dates(client):
    from tests.billing.subscribing import run_job

    membership = login(client, "en", time_zone="Asia/Seoul")
    with time_machine.travel(datetime(2026, 12, 1, 23, 30, tzinfo=UTC), tick=False):
        run_job(membership)
        billing = client.get(reverse("settings-billing")).content.decode()
    assert re.findall(r'class="usage-day">([^<]+)<', billing) == ["12/2"]


def test_a_curator_edits_tags_in_korean_and_they_are_stored_as_keys(client):
    staff = MembershipFactory(user__is_staff=True)
    client.force_login(staff.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = KOREAN
    face = ModelFace.objects.create(store=None, image="gallery/faces/p.png", curation="pending", tags=["elegant"],
                                   name="검수 얼굴", created_by=staff.user)

    page = client.get(reverse("curation")).content.decode()
    assert f'id="tags-{face.pk}"' in page and 'value="우아한"' in page and 'placeholder="우아한, 청량한"' in page

    client.post(reverse("curation-tags", args=[face.pk]), {"tags": "우아한, 시크한, 빈티지", "next": "/"})
    face.refresh_from_db()
    assert face.tags == ["elegant", "chic", "빈티지"]  # known labels become keys; a new tag stays as typed
