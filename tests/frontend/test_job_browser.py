"""The result card in a real browser, with S3 storage (so image URLs are cross-origin): the single download keeps
the product shot's name, the face close-up works from the keyboard, and the start page counts the credits."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.frontend.test_browser import PASSWORD, log_in
from tests.generation.photos import astronaut, jpeg_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def seller_with_a_result(email: str):
    from catalog.models import ModelFace, ProductShot
    from core import objectstore
    from generation.models import Job, JobState
    from tests.accounts.factories import MembershipFactory

    membership = MembershipFactory(user__email=email)
    membership.user.set_password(PASSWORD)
    membership.user.save()
    store = membership.store
    photo = astronaut()
    height, width = photo.shape[:2]
    shot = ProductShot.objects.create(
        store=store, image=objectstore.put_bytes(f"stores/{store.pk}/shots/look.jpg", jpeg_bytes(photo)),
        original_filename="봄 원피스.jpg", width=width, height=height, faces_state="ready",
        faces=[{"box": [180, 60, 120, 120], "score": 0.9}])
    face = ModelFace.objects.create(store=None, image=objectstore.put_bytes("gallery/faces/b.jpg", jpeg_bytes(photo)),
                                    name="Grace", curation=ModelFace.Curation.PUBLISHED)
    result = objectstore.put_bytes(f"stores/{store.pk}/jobs/r/result.png", png_bytes(photo[:, ::-1].copy()))
    job = Job.objects.create(store=store, kind="pipeline", state=JobState.SUCCEEDED, outputs={"image": result},
                             inputs={"face": face.pk, "product_shot": shot.pk},
                             metrics={"engine": "swap:classical-2.0 → restore:classical-1.0",
                                      "output_size": [width, height]})
    return job


def test_result_card_downloads_by_shot_name_and_zooms_on_the_face(page, shoot, s3_bucket):
    job = seller_with_a_result("closeup@example.com")
    log_in(page, "closeup@example.com")
    page.goto(f"/jobs/{job.pk}/")
    page.wait_for_function("[...document.querySelectorAll('.compare img')].every(i => i.complete && i.naturalWidth)")
    assert page.get_by_text("CPU 기본 엔진(classical)").count() == 1

    # The download comes from the site, not the storage, so the browser keeps the product shot's (Korean) name.
    with page.expect_download() as download_info:
        page.locator(".result-download").click()
    assert download_info.value.suggested_filename == "봄 원피스-gasang.png"

    # The close-up: a toggle button, from the keyboard; both images zoom on the face, the slider still splits them.
    toggle = page.get_by_role("button", name="얼굴 확대")
    toggle.focus()
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-pressed") == "true"
    transforms = page.locator(".compare img").evaluate_all("imgs => imgs.map(i => i.style.transform)")
    assert len(transforms) == 2 and all("scale(" in t for t in transforms), transforms
    shoot(page, "job-closeup")
    # The face (centre 240, 120 of 512×512) fills the frame; the slider's line at 50% falls on the face's column.
    assert "46.88%" in page.locator(".compare img.after").evaluate("img => img.style.clipPath")
    page.keyboard.press("Space")
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.locator(".compare img.after").evaluate("img => img.style.transform") == ""
    assert page.locator(".compare img.after").evaluate("img => img.style.clipPath").endswith(" 50%)")


def test_start_page_counts_the_credits_of_the_ticked_shots(page, shoot, s3_bucket):
    job = seller_with_a_result("credits@example.com")
    log_in(page, "credits@example.com")
    page.goto("/jobs/new/")
    page.get_by_text("사진 1장당 2크레딧 · 남은 크레딧 20").wait_for()
    assert page.locator("input[name=face]:checked").input_value() == str(job.inputs["face"])
    assert page.locator("#chosen-cost").inner_text() == "선택한 사진 0장 · 모두 0크레딧"
    page.locator("input[name=product_shots]").first.check()
    assert page.locator("#chosen-cost").inner_text() == "선택한 사진 1장 · 모두 2크레딧"
    shoot(page, "batch-new-credits")
