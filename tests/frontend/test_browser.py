"""A seller's first minutes in a real browser, against a live server (and, for jobs, the real workers).

Run by hand with GASANG_SCREENSHOTS=1 to save every step at 1280×800 and 375×812 under bench/out/ui/.
"""

from __future__ import annotations

import io
import json
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gpu_worker import content_credentials
from tests.c2pa_pki import stack_pki
from tests.generation.photos import astronaut, grace_hopper, jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "gasang-browser-1234"
JOB_TIMEOUT_MS = 300_000  # two pipeline jobs on a shared 2-core machine
UPLOAD_TIMEOUT_MS = 60_000


def published_face(image: np.ndarray, name: str, tags: list[str]):
    from catalog.models import ModelFace
    from core import objectstore

    key = objectstore.put_bytes(f"gallery/faces/browser-{name}.jpg", jpeg_bytes(image))
    return ModelFace.objects.create(store=None, image=key, name=name, curation=ModelFace.Curation.PUBLISHED,
                                    tags=tags)


def sign_up(page, shoot, email: str, store: str = "하루옷장") -> None:
    page.goto("/accounts/signup/")
    assert page.locator("html").get_attribute("lang") == "ko"
    shoot(page, "signup")
    page.get_by_label("이메일").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_label("스토어 이름").fill(store)
    page.get_by_role("button", name="회원가입").click()
    page.wait_for_url("**/")
    page.get_by_role("heading", name=store).wait_for()


def log_in(page, email: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("이메일 주소").fill(email)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="로그인").click()
    page.wait_for_url("**/")


@pytest.mark.services
def test_seller_uploads_two_shots_runs_the_pipeline_and_downloads_the_zip(page, shoot, stack, tmp_path):
    face = published_face(grace_hopper(), "Grace", ["elegant"])
    published_face(np.ascontiguousarray(astronaut()[0:250, 100:350]), "Eileen", ["fresh"])
    sign_up(page, shoot, "seller@example.com")
    shoot(page, "home-new-store")

    # Upload two shots by file chooser (the drop zone's input); each gets its own progress row.
    shots = [tmp_path / "look-front.jpg", tmp_path / "look-mirror.jpg"]
    shots[0].write_bytes(jpeg_bytes(astronaut()))
    shots[1].write_bytes(jpeg_bytes(np.ascontiguousarray(astronaut()[:, ::-1])))
    (tmp_path / "notes.txt").write_text("not a photo")
    (tmp_path / "iphone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="상품 사진").click()
    shoot(page, "shots-empty")
    page.set_input_files("#shot-files", [*map(str, shots), str(tmp_path / "notes.txt"), str(tmp_path / "iphone.heic")])
    page.locator(".upload-item").nth(3).wait_for()
    page.locator(".upload-item.ok").nth(1).wait_for(timeout=UPLOAD_TIMEOUT_MS)
    page.locator(".upload-item.failed").nth(1).wait_for(timeout=UPLOAD_TIMEOUT_MS)
    failures = page.locator(".upload-item.failed").all_inner_texts()
    # Per-file errors, in Korean, saying what to do.
    assert any("notes.txt" in f and "JPEG, PNG, WEBP 사진만" in f for f in failures), failures
    assert any("iphone.heic" in f and "HEIC/HEIF 사진은 지원하지 않습니다" in f for f in failures), failures
    # Face detection runs on the GPU worker; the grid refreshes itself until both shots have faces.
    page.locator("#shot-grid .faces-ready").nth(1).wait_for(timeout=120_000)
    shoot(page, "shots-uploaded")

    page.locator("#shot-grid .tile-link").first.click()
    box = page.locator(".face-box").first
    box.wait_for()
    assert page.locator(".face-box input:checked").count() == 1
    shoot(page, "shot-faces")

    # Choose the store model in the gallery.
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="모델").click()
    page.get_by_role("button", name="스토어 모델로 지정 — Grace").click()
    page.get_by_text("스토어 모델을 지정했습니다").wait_for()
    shoot(page, "gallery-model-set")

    # Start the pipeline over both shots with the store model (preselected).
    page.goto("/jobs/new/")
    assert page.locator("input[name=face]:checked").input_value() == str(face.pk)  # a card with the face's picture
    page.get_by_text("사진 1장당 2크레딧 · 남은 크레딧 20").wait_for()
    for checkbox in page.locator("input[name=product_shots]").all():
        checkbox.check()
    shoot(page, "batch-new")
    page.get_by_role("button", name="시작").click()
    page.wait_for_url("**/batches/**")
    shoot(page, "batch-running")
    page.get_by_text("2개 모두 끝났습니다").wait_for(timeout=JOB_TIMEOUT_MS)
    assert page.locator(".job-card .state-succeeded").count() == 2, page.locator("#batch-progress").inner_text()
    afters = page.locator(".compare img.after")
    assert afters.count() == 2
    page.wait_for_function("[...document.querySelectorAll('.compare img')].every(i => i.complete && i.naturalWidth)")

    # The before/after slider works from the keyboard.
    slider = page.locator(".compare-range").first
    slider.focus()
    page.keyboard.press("ArrowRight")
    assert "51%" in afters.first.evaluate("img => img.style.clipPath")
    shoot(page, "batch-done")

    with page.expect_download() as download_info:
        page.locator("#download-zip").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    names = archive.namelist()
    assert sorted(names) == ["look-front-gasang.png", "look-mirror-gasang.png"]  # matched to the product by name
    for name in names:  # every output carries a valid, signed content credential (#18)
        credential = content_credentials.read(archive.read(name), "image/png", trust_anchors=stack_pki()["ca"])
        assert credential.state == "Trusted" and credential.actions[-1]["action"] == "c2pa.edited", name

    # One result alone downloads under its product shot's name too; its face can be looked at close up first.
    card = page.locator(".job-card", has_text="look-front.jpg")
    card.get_by_role("button", name="얼굴 확대").click()
    assert "scale(" in card.locator("img.after").evaluate("img => img.style.transform")
    with page.expect_download() as download_info:
        card.locator(".result-download").click()
    assert download_info.value.suggested_filename == "look-front-gasang.png"

    # Second generation: both parents uploaded on the page, each consent required, then the result says which
    # parent the child resembles more, with the distances.
    parents = [tmp_path / "mum.jpg", tmp_path / "dad.jpg"]
    parents[0].write_bytes(jpeg_bytes(grace_hopper()))
    parents[1].write_bytes(jpeg_bytes(astronaut()))
    page.goto("/second-generation/")

    def fill_parents() -> None:
        page.get_by_label("첫 번째 부모 사진").set_input_files(str(parents[0]))
        page.get_by_label("두 번째 부모 사진").set_input_files(str(parents[1]))
        page.get_by_label("첫 번째 부모의 동의를 확인한 사람").fill("김민지")
        page.get_by_label("두 번째 부모의 동의를 확인한 사람").fill("김민지")
        page.get_by_label("첫 번째 사진 속 인물이").check()

    fill_parents()
    page.get_by_role("button", name="얼굴 만들기").click()
    page.locator(".field.invalid .error").wait_for()  # the second consent is missing: said next to it
    shoot(page, "second-generation-consent")
    fill_parents()  # a browser never keeps chosen files across a page load
    page.get_by_label("두 번째 사진 속 인물이").check()
    page.get_by_role("button", name="얼굴 만들기").click()
    page.wait_for_url("**/jobs/**")
    page.locator(".job-card .state-succeeded, .job-card .state-failed").wait_for(timeout=JOB_TIMEOUT_MS)
    assert page.locator(".job-card .state-succeeded").count() == 1, page.locator(".job-card").inner_text()
    page.get_by_text("엄마와의 거리").wait_for()
    page.locator(".resemblance-words").wait_for()
    shoot(page, "second-generation-result")


def test_staff_approves_a_pending_face_and_it_appears_in_the_public_gallery(page, shoot, s3_bucket):
    from catalog.models import ModelFace
    from core import objectstore
    from tests.accounts.factories import MembershipFactory

    key = objectstore.put_bytes("gallery/faces/browser-pending.jpg", jpeg_bytes(grace_hopper()))
    pending = ModelFace.objects.create(store=None, image=key, name="Pending Grace",
                                       curation=ModelFace.Curation.PENDING, tags=["elegant"])
    membership = MembershipFactory(user__email="curator@example.com", user__is_staff=True)
    membership.user.set_password(PASSWORD)
    membership.user.save()

    log_in(page, "curator@example.com")
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="검수").click()
    shoot(page, "curation-pending")
    page.get_by_label(f"얼굴 {pending.pk} 선택").check()
    page.get_by_role("button", name="승인", exact=True).click()
    page.get_by_text("얼굴 1개를 처리했습니다").wait_for()
    page.get_by_role("link", name="승인됨").click()
    page.get_by_label(f"얼굴 {pending.pk} 선택").check()
    page.get_by_role("button", name="공개").click()
    page.get_by_text("얼굴 1개를 처리했습니다").wait_for()
    page.get_by_role("link", name="검수 완료").click()
    assert "curator@example.com" in page.locator(".curated").first.inner_text()
    shoot(page, "curation-done")

    page.goto("/gallery/?scope=public")
    page.locator(".tile-name", has_text="Pending Grace").wait_for()
    shoot(page, "gallery-public")
    pending.refresh_from_db()
    assert pending.curation == ModelFace.Curation.PUBLISHED and pending.curated_by == membership.user


def test_a_shot_upload_the_server_answers_busy_is_sent_again_and_lands_once(page, shoot, s3_bucket, tmp_path):
    from catalog.models import ProductShot

    sign_up(page, shoot, "busy@example.com", store="바쁜 스토어")
    busy_answers = []

    def busy_once(route):
        if route.request.method == "POST" and not busy_answers:
            busy_answers.append(route.request.url)
            return route.fulfill(status=503, headers={"Retry-After": "2", "Content-Type": "application/json"},
                                 body=json.dumps({"detail": "busy", "code": "database_unavailable"}))
        return route.continue_()

    page.route("**/api/v1/product-shots/", busy_once)
    (tmp_path / "look.jpg").write_bytes(jpeg_bytes(astronaut()))
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="상품 사진").click()
    page.set_input_files("#shot-files", str(tmp_path / "look.jpg"))
    waiting = page.locator(".upload-item[data-state=waiting]")
    waiting.wait_for()
    assert "서버가 바쁩니다" in waiting.inner_text()  # the seller sees why nothing happened yet, not a failure
    page.locator(".upload-item.ok", has_text="look.jpg").wait_for(timeout=UPLOAD_TIMEOUT_MS)
    assert len(busy_answers) == 1 and page.locator(".upload-item.failed").count() == 0
    assert ProductShot.objects.filter(original_filename="look.jpg").count() == 1


def test_photos_chosen_before_the_page_script_ran_are_still_uploaded(page, shoot, s3_bucket, tmp_path):
    from catalog.models import ProductShot

    sign_up(page, shoot, "slow-phone@example.com", store="느린 폰 스토어")
    held_scripts = []
    page.route("**/frontend/app.js*", lambda route: held_scripts.append(route))  # a slow network holds the script
    (tmp_path / "early.jpg").write_bytes(jpeg_bytes(astronaut()))
    page.goto("/shots/", wait_until="commit")
    page.set_input_files("#shot-files", str(tmp_path / "early.jpg"))
    assert len(held_scripts) == 1
    held_scripts[0].continue_()
    page.locator(".upload-item.ok", has_text="early.jpg").wait_for(timeout=UPLOAD_TIMEOUT_MS)
    assert ProductShot.objects.filter(original_filename="early.jpg").count() == 1


def test_api_token_created_on_the_page_works_against_the_api(page, shoot, live_server):
    sign_up(page, shoot, "integrator@example.com", store="API 스토어")
    page.goto("/settings/")
    page.get_by_role("link", name="API 토큰").click()
    page.get_by_label("토큰 이름").fill("스마트스토어 연동")
    page.get_by_role("button", name="토큰 만들기").click()
    token = page.locator("#new-token").input_value()
    assert token.startswith("gsk_")
    shoot(page, "token-created")

    request = urllib.request.Request(f"{live_server.url}/api/v1/store/", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["name"] == "API 스토어"

    page.reload()
    assert token not in page.content()  # shown once

    page.get_by_role("button", name="폐기").click()
    page.get_by_text("토큰을 폐기했습니다").wait_for()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401


def test_korean_for_a_korean_browser_and_english_on_request(page, shoot):
    page.goto("/accounts/login/")
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("heading", name="로그인").is_visible()
    shoot(page, "login-ko")
    page.get_by_role("button", name="English").click()
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.get_by_role("heading", name="Log in").is_visible()
    shoot(page, "login-en")
    sign_up_en(page)
    shoot(page, "home-en")
    page.get_by_role("button", name="한국어").click()
    page.wait_for_function("document.documentElement.lang === 'ko'")
    assert page.get_by_role("heading", name="최근 작업").is_visible()


def sign_up_en(page) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill("english@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Store name").fill("Morning Closet")
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Recent jobs").wait_for()


def test_owner_tours_presets_and_settings_at_phone_and_desktop_width(page, shoot):
    sign_up(page, shoot, "owner@example.com", store="봄날 스튜디오")
    page.goto("/presets/")
    assert page.locator(".preset").count() == 5  # the seeded looks
    shoot(page, "presets")
    page.get_by_role("link", name="수정").first.click()
    page.get_by_label("설명").fill("차분하고 세련된 룩")
    shoot(page, "preset-edit")
    page.get_by_role("button", name="프리셋 저장").click()
    page.get_by_text("프리셋을 저장했습니다").wait_for()

    page.goto("/settings/webhooks/")
    page.get_by_label("엔드포인트 URL").fill("https://shop.example.com/hooks/gasang")
    page.get_by_label("작업 완료").check()
    page.get_by_role("button", name="추가").click()
    assert page.locator("#wh-secret").input_value().startswith("whsec_")
    shoot(page, "webhooks")

    page.goto("/settings/members/")
    page.get_by_label("이메일", exact=True).fill("staff@example.com")
    page.get_by_label("역할", exact=True).select_option("viewer")
    page.get_by_role("button", name="초대 링크 만들기").click()
    assert "/invite/" in page.locator("#invite-url").input_value()
    shoot(page, "members")

    page.goto("/settings/store/")
    page.get_by_label("결과 이미지에 “AI 생성” 표시 넣기").check()
    page.get_by_role("button", name="저장").click()
    page.get_by_text("스토어 설정을 저장했습니다").wait_for()
    shoot(page, "store-options")

    page.goto("/settings/billing/")
    page.get_by_text("남은 크레딧").wait_for()
    shoot(page, "billing")
    page.goto("/second-generation/")
    shoot(page, "second-generation")
    page.goto("/jobs/")
    shoot(page, "jobs-empty")


@pytest.mark.services
def test_seller_generates_candidates_keeps_one_for_the_gallery_and_discards_another(page, shoot, stack):
    from catalog.models import ModelFace
    from core import objectstore
    from generation.models import Job
    from gpu_worker.face.imageio import read_image
    from tests.gpu_worker.face_photos import shared_photo

    # The 우아한 (elegant) preset blends published faces tagged "elegant": three are needed.
    published_face(read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg")), "Tom", ["elegant"])
    published_face(grace_hopper(), "Grace", ["elegant"])
    published_face(astronaut(), "Eileen", ["elegant"])
    sign_up(page, shoot, "candidates@example.com", store="오늘의 룩")

    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="모델").click()
    page.get_by_label("스타일 프리셋").select_option(label="우아한")
    page.get_by_label("후보 개수").select_option("2")
    page.get_by_role("button", name="만들기").click()
    page.wait_for_url("**/gallery/candidates/**")
    shoot(page, "candidates-running")
    keep = page.get_by_role("button", name="보관 — 후보 1")
    discard = page.get_by_role("button", name="버리기 — 후보 2")
    keep.wait_for(timeout=JOB_TIMEOUT_MS)
    discard.wait_for(timeout=JOB_TIMEOUT_MS)
    page.wait_for_function("[...document.querySelectorAll('#candidates img')].every(i => i.complete && i.naturalWidth)"
                           " && document.querySelectorAll('#candidates img').length === 2")
    shoot(page, "candidates-done")
    jobs = list(Job.objects.filter(kind="generate_face").order_by("created_at"))
    dropped_key = jobs[1].outputs["image"]

    # Keep candidate 1 from the keyboard: the tile then says it is in the gallery, with a link there.
    keep.focus()
    page.keyboard.press("Enter")
    page.get_by_text("얼굴을 갤러리에 보관했습니다").wait_for()
    kept_link = page.get_by_role("link", name="보관됨 — 갤러리에서 보기")
    kept_link.wait_for()
    assert page.get_by_role("button", name="보관 — 후보 1").count() == 0
    shoot(page, "candidate-kept")

    # Discard candidate 2: its tile disappears and its image is deleted from storage.
    page.get_by_role("button", name="버리기 — 후보 2").click()
    page.get_by_text("후보를 버리고 이미지를 삭제했습니다").wait_for()
    assert page.locator("#candidates .tile").count() == 1
    assert not objectstore.exists(dropped_key)
    shoot(page, "candidate-discarded")
    page.goto(f"/jobs/{jobs[1].pk}/")  # the job page says so instead of showing a broken image
    page.get_by_text("버린 결과라 이미지가 삭제되었습니다").wait_for()
    assert page.locator(".job-card img").count() == 0
    shoot(page, "discarded-job")
    page.go_back()

    kept_link.click()
    page.wait_for_url("**/gallery/?scope=store**")
    face = ModelFace.objects.get(generated_by_job=jobs[0].pk)
    assert face.store is not None and face.name == "우아한 1" and face.tags == ["elegant"]
    tile = page.locator(f"#face-{face.pk}")
    tile.locator(".tile-name", has_text="우아한 1").wait_for()
    page.wait_for_function(f"(i => i.complete && i.naturalWidth)(document.querySelector('#face-{face.pk} img'))")
    shoot(page, "gallery-kept-face")
