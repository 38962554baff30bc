"""Issue #17 on the dashboard: faceless shots kept out of jobs, results named after their product shot, the job list
with shot names and the steps that run, credits on the start page, the face close-up and the engine per result."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse

from catalog.models import ModelFace, ProductShot
from core import objectstore
from generation.models import Batch, Job, JobState
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import public_face, shot_for
from tests.generation.photos import astronaut, jpeg_bytes

pytestmark = pytest.mark.django_db

FACE = [{"box": [40, 30, 64, 64], "score": 0.9}]
CLASSICAL = {"engine": "swap:classical-2.0 → restore:classical-1.0", "output_size": [400, 300],
             "stages": [{"engine": "swap", "version": "classical-2.0",
                         "target_face": {"box": [100, 50, 180, 130], "score": 0.9}}, {"engine": "restore"}]}
NEURAL = {"engine": "swap:neural-faceshifter-1.0 → restore:neural-gpen-1.0", "output_size": [400, 300],
          "stages": [{"engine": "swap", "weights": {"aei_net": "sha256:0123456789abcdef"}},
                     {"engine": "restore", "weights": {"gpen_512": "sha256:fedcba9876543210"}}]}


def login(client, membership=None):
    membership = membership or MembershipFactory()
    client.force_login(membership.user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ko-KR,ko;q=0.9"
    return membership


def named_shot(store, name: str, **fields) -> ProductShot:
    fields.setdefault("faces_state", ProductShot.FacesState.READY)
    fields.setdefault("faces", FACE)
    return ProductShot.objects.create(store=store, image=f"stores/{store.pk}/shots/{name}", original_filename=name,
                                      width=400, height=300, **fields)


def finished_job(store, shot, metrics=None, **fields) -> Job:
    key = objectstore.put_bytes(f"stores/{store.pk}/jobs/{shot.pk if shot else 'x'}/result.png", b"\x89PNG result")
    return Job.objects.create(store=store, kind="pipeline", state=JobState.SUCCEEDED, outputs={"image": key},
                              inputs={"face": public_face().pk, **({"product_shot": shot.pk} if shot else {})},
                              metrics=metrics or {}, **fields)


# ---- faceless shots ----------------------------------------------------------------------------------------------


def test_a_shot_without_a_face_is_marked_on_the_grid_and_its_page_offers_no_swap(client):
    membership = login(client)
    public_face()
    empty = named_shot(membership.store, "flat-lay.jpg", faces=[])
    named_shot(membership.store, "look-front.jpg")
    grid = client.get(reverse("shots")).content.decode()
    assert grid.count("얼굴 없음 — 교체할 얼굴이 없습니다") == 1 and "faces-none" in grid
    page = client.get(reverse("shot-detail", args=[empty.pk])).content.decode()
    assert "얼굴 없음 — 교체할 얼굴이 없습니다" in page
    assert "선택한 얼굴 교체" not in page and 'type="submit" class="primary"' not in page
    assert "이 사진에는 교체할 얼굴이 없어" in page


def test_a_shot_page_without_model_faces_links_to_the_gallery_instead_of_a_live_button(client):
    membership = login(client)
    shot = named_shot(membership.store, "look-front.jpg")
    html = client.get(reverse("shot-detail", args=[shot.pk])).content.decode()
    hint = html.split('id="no-model-faces"')[1].split("</p>")[0]
    assert f'href="{reverse("gallery")}' in hint  # the gallery, or the face upload under it
    assert 'type="submit" class="primary"' not in html
    public_face()
    html = client.get(reverse("shot-detail", args=[shot.pk])).content.decode()
    assert 'type="submit" class="primary"' in html and 'id="no-model-faces"' not in html


def test_the_batch_picker_disables_faceless_and_detecting_shots_with_the_reason(client):
    membership = login(client)
    public_face()
    empty = named_shot(membership.store, "flat-lay.jpg", faces=[])
    pending = named_shot(membership.store, "just-uploaded.jpg", faces=[], faces_state="pending")
    good = named_shot(membership.store, "look-front.jpg")
    html = client.get(reverse("batch-new")).content.decode()
    for shot, reason in ((empty, "얼굴 없음 — 교체할 얼굴이 없습니다"), (pending, "얼굴을 찾는 중")):
        tag = html.split(f'value="{shot.pk}"')[1].split(">")[0]
        assert "disabled" in tag and f'aria-describedby="shot-reason-{shot.pk}"' in tag
        assert reason in html.split(f'id="shot-reason-{shot.pk}">')[1].split("</span>")[0]
    assert "disabled" not in html.split(f'value="{good.pk}"')[1].split(">")[0]


def test_starting_a_batch_with_a_faceless_shot_is_refused_naming_it(client):
    membership = login(client)
    face = public_face()
    empty = named_shot(membership.store, "flat-lay.jpg", faces=[])
    good = named_shot(membership.store, "look-front.jpg")
    response = client.post(reverse("batch-new"), {"face": face.pk, "product_shots": [good.pk, empty.pk]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "“flat-lay.jpg”에는 교체할 얼굴이 없습니다" in html
    assert not Batch.objects.filter(store=membership.store).exists() and not Job.objects.exists()


def test_a_job_that_failed_for_the_shot_names_the_shot_in_korean_without_english_detail(client):
    membership = login(client)
    shot = named_shot(membership.store, "look-front.jpg")
    job = Job.objects.create(store=membership.store, kind="pipeline", state=JobState.FAILED, error_code="no_face",
                             error_message="no face found in the target image",
                             inputs={"face": public_face().pk, "product_shot": shot.pk})
    html = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "상품 사진 “look-front.jpg”에서 얼굴을 찾지 못해" in html
    assert "모델의 얼굴" not in html and "no face found" not in html and "상세:" not in html
    english = client.get(reverse("job-detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No face was found in the product shot “look-front.jpg”" in english
    assert "Details: no face found in the target image" in english


def test_a_model_face_problem_names_the_model_face(client):
    membership = login(client)
    shot = named_shot(membership.store, "look-front.jpg")
    face = ModelFace.objects.create(store=membership.store, image="stores/x/faces/f.png", name="하린")
    job = Job.objects.create(store=membership.store, kind="pipeline", state=JobState.FAILED, error_code="no_face",
                             error_input="source", error_message="no face found in the source image",
                             inputs={"face": face.pk, "product_shot": shot.pk})
    html = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert "모델 얼굴 사진 “하린”에서 얼굴을 찾지 못했습니다" in html


# ---- downloads ---------------------------------------------------------------------------------------------------


def test_a_single_result_downloads_from_the_site_named_after_its_product_shot(client):
    membership = login(client)
    job = finished_job(membership.store, named_shot(membership.store, "look-front.jpg"))
    html = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert f'href="{reverse("job-download", args=[job.pk])}"' in html
    response = client.get(reverse("job-download", args=[job.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'attachment; filename="look-front-gasang.png"'
    assert b"".join(response.streaming_content) == b"\x89PNG result"


def test_a_korean_file_name_is_kept_with_rfc5987(client):
    membership = login(client)
    job = finished_job(membership.store, named_shot(membership.store, "봄 원피스.jpg"))
    disposition = client.get(reverse("job-download", args=[job.pk]))["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=utf-8''{quote('봄 원피스-gasang.png')}" in disposition


def test_a_result_without_a_shot_gets_a_kind_and_id_name(client):
    membership = login(client)
    job = finished_job(membership.store, None)
    disposition = client.get(reverse("job-download", args=[job.pk]))["Content-Disposition"]
    assert disposition == f'attachment; filename="gasang-pipeline-{str(job.pk)[:8]}.png"'


def test_downloads_are_refused_for_other_stores_and_unfinished_jobs(client):
    membership = login(client)
    other = MembershipFactory()
    theirs = finished_job(other.store, named_shot(other.store, "theirs.jpg"))
    assert client.get(reverse("job-download", args=[theirs.pk])).status_code == 404
    running = Job.objects.create(store=membership.store, kind="pipeline", state=JobState.RUNNING)
    assert client.get(reverse("job-download", args=[running.pk])).status_code == 404


# ---- job list, steps -----------------------------------------------------------------------------------------------


def test_the_job_list_shows_each_product_shot_and_only_the_steps_that_run(client):
    membership = login(client)
    plain = finished_job(membership.store, named_shot(membership.store, "look-front.jpg"))
    made_up = finished_job(membership.store, named_shot(membership.store, "look-side.jpg"),
                           input_keys={"reference": "gallery/faces/ref.png"})
    html = client.get(reverse("jobs")).content.decode()
    rows = {job: next(row.split("</li>")[0] for row in html.split('<li class="job-row">')[1:]
                      if reverse("job-detail", args=[job.pk]) in row) for job in (plain, made_up)}
    assert "look-front.jpg</a>" in rows[plain] and "look-side.jpg</a>" in rows[made_up]
    assert "얼굴 교체 → 화질 복원" in rows[plain] and "메이크업" not in rows[plain]
    assert "얼굴 교체 → 화질 복원 → 메이크업" in rows[made_up]
    assert all('class="job-thumb"' in row for row in rows.values())


def test_the_batch_page_names_each_result_by_its_shot_with_its_steps(client):
    membership = login(client)
    face = public_face()
    batch = Batch.objects.create(store=membership.store, face=face)
    finished_job(membership.store, named_shot(membership.store, "look-front.jpg"), batch=batch)
    html = client.get(reverse("batch-detail", args=[batch.pk])).content.decode()
    assert "look-front.jpg" in html and "얼굴 교체 → 화질 복원" in html and "메이크업</span>" not in html


# ---- start page: credits and model picker ------------------------------------------------------------------------


def test_the_start_page_shows_the_credit_cost_and_what_is_left(client):
    membership = login(client)
    public_face()
    shots = [named_shot(membership.store, f"look-{n}.jpg") for n in range(2)]
    html = client.get(reverse("batch-new")).content.decode()
    assert "사진 1장당 2크레딧 · 남은 크레딧 20" in html
    assert 'data-price="2" data-left="20"' in html
    html = client.get(reverse("batch-new") + f"?shot={shots[0].pk}&shot={shots[1].pk}").content.decode()
    assert "선택한 사진 <span data-chosen-count>2</span>장 · 모두 <span data-chosen-total>4</span>크레딧" in html


def test_the_model_picker_shows_face_thumbnails_as_radio_cards_with_the_store_model_chosen(client):
    membership = login(client)
    named_shot(membership.store, "look-front.jpg")
    faces = [ModelFace.objects.create(store=None, image=f"gallery/faces/{n}.png", name=n, curation="published")
             for n in ("Grace", "Eileen")]
    client.post(reverse("store-model-set"), {"face": faces[1].pk})
    html = client.get(reverse("batch-new")).content.decode()
    assert html.count('type="radio" name="face"') == 2 and html.count('class="face-card"') == 2
    chosen = html.split(f'value="{faces[1].pk}"')[1].split(">")[0]
    assert "checked" in chosen and "checked" not in html.split(f'value="{faces[0].pk}"')[1].split(">")[0]
    assert "gallery/faces/Grace.png" in html  # the thumbnail


# ---- close-up and engine -----------------------------------------------------------------------------------------


def test_a_result_offers_a_face_close_up_around_the_swapped_face(client):
    membership = login(client)
    job = finished_job(membership.store, named_shot(membership.store, "look-front.jpg"), metrics=CLASSICAL)
    html = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert 'class="small-button closeup-toggle"' in html and 'aria-pressed="false"' in html and "얼굴 확대" in html
    # The classical swap's face box (left 100, top 50, right 180, bottom 130) on a 400×300 result: centre 35%, 30%.
    assert 'data-zoom-x="35.00" data-zoom-y="30.00"' in html


def test_the_close_up_falls_back_to_the_shots_detected_face(client):
    membership = login(client)
    shot = named_shot(membership.store, "look-front.jpg", faces=[{"box": [200, 100, 40, 40], "score": 0.9}])
    job = finished_job(membership.store, shot)
    html = client.get(reverse("job-detail", args=[job.pk])).content.decode()
    assert 'data-zoom-x="55.00"' in html and 'data-zoom-y="40.00"' in html


def test_each_result_says_which_engine_made_it_and_what_that_means(client):
    membership = login(client)
    classical = finished_job(membership.store, named_shot(membership.store, "a.jpg"), metrics=CLASSICAL)
    html = client.get(reverse("job-detail", args=[classical.pk])).content.decode()
    assert "CPU 기본 엔진(classical)" in html and "신경망 엔진보다 덜 선명해요" in html
    neural = finished_job(membership.store, named_shot(membership.store, "b.jpg"), metrics=NEURAL)
    html = client.get(reverse("job-detail", args=[neural.pk])).content.decode()
    assert "신경망 엔진 (weights: aei_net 01234567, gpen_512 fedcba98)" in html and "가장 자연스러워요" in html


def test_a_real_looking_shot_thumbnail_renders_in_the_job_list(client):
    membership = login(client)
    key = objectstore.put_bytes(f"stores/{membership.store.pk}/shots/real.jpg", jpeg_bytes(astronaut()))
    shot = shot_for(membership.store, key)
    finished_job(membership.store, shot)
    html = client.get(reverse("jobs")).content.decode()
    assert objectstore.download_url(key) in html


def test_the_job_list_says_of_each_batch_how_many_photos_with_which_model_and_how_far_it_is(client):
    membership = login(client)
    store = membership.store
    face = public_face()
    face.name = "지수"
    face.save(update_fields=["name"])
    batch = Batch.objects.create(store=store, face=face)
    finished_job(store, named_shot(store, "look-front.jpg"), batch=batch)
    Job.objects.create(store=store, kind="pipeline", state=JobState.RUNNING, batch=batch,
                       inputs={"face": face.pk, "product_shot": named_shot(store, "look-back.jpg").pk})

    page = client.get(reverse("jobs")).content.decode()

    assert "사진 2장 · 모델 지수" in page and "2장 중 1장 끝남" in page
