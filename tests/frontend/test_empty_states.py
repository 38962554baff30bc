"""A new seller on an empty store never dead-ends: every empty page says, in Korean, what is missing and links to
the page that fills it; a viewer reads the same sentence without an upload link (issue #17)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from accounts.models import Role
from generation.models import Job
from tests.accounts.factories import MembershipFactory
from tests.catalog.factories import ModelFaceFactory, PublicFaceFactory, StylePresetFactory
from tests.generation.factories import shot_for

pytestmark = pytest.mark.django_db

UPLOAD_PAGES = ("face-upload", "batch-new", "preset-create")  # (the shots page is in the nav: viewers read it)


def login(client, role=Role.OWNER, membership=None):
    """Sign in a member of a brand-new store (nothing uploaded, no jobs); the browser asks for Korean."""
    membership = membership or MembershipFactory(role=role)
    client.force_login(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9"
    return membership


class _Element(HTMLParser):
    """The text and link targets inside the element with a given id (the page's nav is left out)."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.depth, self.found = element_id, 0, False
        self.text: list[str] = []
        self.links: list[str] = []
        self.buttons = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth == 0 and attrs.get("id") == self.element_id:
            self.found, self.depth = True, 1
            return
        if self.depth:
            if tag not in ("br", "img", "input", "meta", "link", "hr"):
                self.depth += 1
            if tag == "a":
                self.links.append(attrs.get("href", ""))
            if tag == "button":
                self.buttons += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def element(html: str, element_id: str) -> _Element:
    parsed = _Element(element_id)
    parsed.feed(html)
    assert parsed.found, f'no id="{element_id}" on the page'
    parsed.text = " ".join(" ".join(parsed.text).split())
    return parsed


def page(client, name: str, query: str = "") -> str:
    response = client.get(reverse(name) + query)
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def no_upload_links(html: str) -> bool:
    return not any(f'href="{reverse(name)}' in html for name in UPLOAD_PAGES) and 'class="dropzone"' not in html


# ---- home: the first steps ----------------------------------------------------------------------


def test_a_new_store_home_lists_the_three_first_steps_in_order_each_linking_to_its_page(client):
    login(client)
    html = page(client, "home")

    steps = [element(html, f"step-{step}") for step in ("face", "shot", "job")]

    assert "세 단계로 시작하세요" in html
    assert [s.text.split(" — ")[0] for s in steps] == ["모델 얼굴 올리기", "상품 사진 올리기", "작업 시작"]
    assert [s.links[0] for s in steps] == [reverse("face-upload"), reverse("shots"), reverse("batch-new")]
    assert 'class="done"' not in html and "(완료)" not in html


def test_the_first_steps_tick_off_as_the_store_fills_and_go_away_when_all_are_done(client):
    membership = login(client)
    store = membership.store

    ModelFaceFactory(store=store)
    face_done = page(client, "home")
    shot_for(store)
    shot_done = page(client, "home")
    Job.objects.create(store=store, kind="pipeline")
    all_done = page(client, "home")

    assert '<li class="done" id="step-face">' in face_done and '<li class="" id="step-shot">' in face_done
    assert '<li class="done" id="step-shot">' in shot_done and '<li class="" id="step-job">' in shot_done
    assert 'id="first-steps"' not in all_done and "세 단계로 시작하세요" not in all_done


def test_a_published_gallery_face_is_offered_instead_of_an_upload_until_the_store_has_a_face(client):
    login(client)
    PublicFaceFactory()

    step = element(page(client, "home"), "step-face")

    assert "갤러리의 얼굴을 스토어 모델로 골라도 됩니다" in step.text
    assert step.links == [reverse("face-upload"), reverse("gallery")]


def test_a_viewer_sees_the_first_steps_without_links_to_pages_they_cannot_use(client):
    login(client, Role.VIEWER)
    html = page(client, "home")

    steps = element(html, "first-steps")

    assert "모델 얼굴 올리기" in steps.text and "보기 전용 역할" in steps.text
    assert steps.links == [] and no_upload_links(html)


# ---- gallery and candidates ---------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["", "?scope=all", "?scope=public", "?scope=store"])
def test_an_empty_gallery_says_no_faces_yet_and_links_to_the_face_upload(client, scope):
    login(client)

    empty = element(page(client, "gallery", scope), "gallery-empty")

    assert "아직 얼굴이 없습니다" in empty.text and "사진을 올려 주세요" in empty.text
    assert empty.links == [reverse("face-upload")]


@pytest.mark.parametrize("scope", ["", "?scope=public", "?scope=store"])
def test_a_viewer_reads_the_empty_gallery_without_an_upload_link(client, scope):
    login(client, Role.VIEWER)
    html = page(client, "gallery", scope)

    empty = element(html, "gallery-empty")

    assert "아직 얼굴이 없습니다" in empty.text and "소유자나 편집자" in empty.text
    assert empty.links == [] and no_upload_links(html)


def test_a_tag_that_matches_no_face_links_back_to_all_faces(client):
    login(client)
    PublicFaceFactory(tags=["elegant"])

    empty = element(page(client, "gallery", "?scope=public&tag=sporty"), "gallery-empty")

    assert "이 태그가 붙은 얼굴이 없습니다" in empty.text
    assert empty.links == [reverse("gallery") + "?scope=public"]


def test_without_presets_the_gallery_links_to_a_new_preset_instead_of_a_generate_button(client):
    login(client)
    html = page(client, "gallery")

    empty = element(html, "generate-empty")

    assert "아직 스타일 프리셋이 없습니다" in empty.text and empty.links == [reverse("preset-create")]
    assert f'action="{reverse("candidates-generate")}"' not in html


def test_with_too_few_faces_to_blend_the_gallery_asks_for_uploads_instead_of_a_generate_button(client):
    membership = login(client)
    StylePresetFactory(store=membership.store)
    PublicFaceFactory()

    html = page(client, "gallery")
    empty = element(html, "generate-empty")

    assert "3개 이상" in empty.text and "1개입니다" in empty.text and empty.links == [reverse("face-upload")]
    assert f'action="{reverse("candidates-generate")}"' not in html
    PublicFaceFactory.create_batch(2)
    ready = page(client, "gallery")
    assert f'action="{reverse("candidates-generate")}"' in ready and 'id="generate-empty"' not in ready


def test_the_candidates_page_without_jobs_leads_to_the_generate_form(client):
    login(client)

    empty = element(page(client, "candidates"), "candidates-empty")

    assert "후보가 없습니다" in empty.text and empty.links == [reverse("gallery") + "#gen-title"]


def test_a_viewer_on_the_empty_candidates_page_is_sent_to_the_gallery_not_asked_to_generate(client):
    login(client, Role.VIEWER)

    empty = element(page(client, "candidates"), "candidates-empty")

    assert empty.text.startswith("후보가 없습니다") and "만들어 보세요" not in empty.text
    assert empty.links == [reverse("gallery")]


# ---- presets, shots, jobs -----------------------------------------------------------------------


def test_no_presets_links_to_a_new_preset_and_a_preset_without_faces_links_to_the_upload(client):
    membership = login(client)
    empty = element(page(client, "presets"), "presets-empty")
    StylePresetFactory(store=membership.store, params={"face_tags": ["elegant"]})
    html = page(client, "presets")

    assert "아직 프리셋이 없습니다" in empty.text and empty.links == [reverse("preset-create")]
    assert "이 태그가 붙은 갤러리 얼굴이 아직 없습니다" in html
    assert f'href="{reverse("face-upload")}"' in html.split('class="thumbs"')[1].split("</div>")[0]


def test_a_viewer_reads_empty_presets_without_create_or_upload_links(client):
    membership = login(client, Role.VIEWER)
    assert "아직 프리셋이 없습니다" in element(page(client, "presets"), "presets-empty").text
    StylePresetFactory(store=membership.store)

    html = page(client, "presets")

    assert "이 태그가 붙은 갤러리 얼굴이 아직 없습니다" in html and no_upload_links(html)


def test_no_product_shots_says_so_under_the_upload_box(client):
    login(client)
    html = page(client, "shots")

    assert "아직 상품 사진이 없습니다" in html and 'class="dropzone"' in html


def test_the_empty_jobs_page_leads_to_starting_a_job(client):
    login(client)
    html = page(client, "jobs")

    batches = element(html, "batches-empty")

    assert "아직 일괄 작업이 없습니다" in batches.text and batches.links == [reverse("batch-new")]
    assert "아직 작업이 없습니다" in html


def test_a_viewer_reads_the_empty_jobs_page_without_start_links(client):
    login(client, Role.VIEWER)
    html = page(client, "jobs")

    assert "아직 일괄 작업이 없습니다" in element(html, "batches-empty").text and no_upload_links(html)


# ---- starting a batch, the shot page, second generation ------------------------------------------


def test_a_new_batch_on_an_empty_store_names_both_missing_things_with_links_and_no_start_button(client):
    login(client)
    html = page(client, "batch-new")

    missing = element(html, "batch-missing")

    assert "아직 모델 얼굴이 없습니다" in missing.text and "아직 상품 사진이 없습니다" in missing.text
    assert missing.links == [reverse("face-upload"), reverse("shots")]
    assert "<form method=\"post\" class=\"card\"" not in html and ">시작</button>" not in html


def test_a_new_batch_with_shots_but_no_face_asks_only_for_the_face(client):
    membership = login(client)
    shot_for(membership.store)

    missing = element(page(client, "batch-new"), "batch-missing")

    assert "아직 모델 얼굴이 없습니다" in missing.text and "상품 사진이 준비되었습니다" in missing.text
    assert missing.links == [reverse("face-upload")]


def test_a_new_batch_with_a_face_but_no_shots_asks_only_for_shots(client):
    membership = login(client)
    ModelFaceFactory(store=membership.store)

    missing = element(page(client, "batch-new"), "batch-missing")

    assert "모델 얼굴이 준비되었습니다" in missing.text and "아직 상품 사진이 없습니다" in missing.text
    assert missing.links == [reverse("shots")]


def test_a_shot_without_model_faces_links_an_editor_to_the_face_upload_and_a_viewer_to_the_gallery(client):
    membership = login(client)
    shot = shot_for(membership.store)
    editor_view = element(page_of(client, shot), "no-model-faces")
    viewer = MembershipFactory(store=membership.store, role=Role.VIEWER)
    login(client, membership=viewer)
    viewer_view = element(page_of(client, shot), "no-model-faces")

    assert "아직 바꿔 넣을 모델 얼굴이 없습니다" in editor_view.text and editor_view.links == [reverse("face-upload")]
    assert viewer_view.links == [reverse("gallery")]


def page_of(client, shot) -> str:
    response = client.get(reverse("shot-detail", args=[shot.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_second_generation_without_gallery_faces_says_both_parent_photos_are_uploaded_here(client):
    login(client)

    note = element(page(client, "second-generation"), "no-gallery-parents")

    assert "부모로 고를 갤러리 얼굴이 없습니다" in note.text and "두 부모의 사진을 모두 올려" in note.text


def test_second_generation_with_gallery_faces_has_no_such_note(client):
    login(client)
    PublicFaceFactory()

    assert 'id="no-gallery-parents"' not in page(client, "second-generation")


# ---- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), [
    ("settings-tokens", "아직 토큰이 없습니다"),
    ("settings-webhooks", "엔드포인트가 없습니다"),
    ("settings-billing", "최근 30일 동안 사용한 크레딧이 없습니다"),
])
def test_empty_settings_pages_say_what_to_do_next(client, name, text):
    login(client)

    assert text in page(client, name)


def test_a_viewer_on_settings_is_told_why_there_is_nothing_to_change(client):
    login(client, Role.VIEWER)
    html = page(client, "settings")

    assert "보기 전용 역할" in html and "소유자에게 요청" in html and no_upload_links(html)
