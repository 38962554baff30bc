"""Generate and second_generation: new faces that are none of their contributors."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.engines import FaceEngineError, get_engine
from gpu_worker.face.imageio import read_image
from tests.gpu_worker.face_photos import astronaut, bald_crop, grace_hopper, shared_photo

generate = get_engine("generate")
second_generation = get_engine("second_generation")


@pytest.fixture(scope="module")
def gallery():
    # Three different men from bald_guys.jpg plus Tom Cruise: dlib distances between them > 0.6.
    return {
        "face_0": read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg")),
        "face_1": bald_crop(19),
        "face_2": bald_crop(9),
    }


def test_generate_returns_an_aligned_portrait_that_is_no_contributor(gallery):
    result = generate.run(gallery, {"size": 256})
    assert result.image.shape == (256, 256, 3)
    meta = result.metadata
    assert meta["engine"] == "generate" and set(meta["distances"]) == set(gallery)
    assert min(meta["distances"].values()) >= 0.6
    again = generate.run(gallery, {"size": 256})
    assert np.array_equal(again.image, result.image)


def test_generate_reports_a_blend_that_stays_one_of_its_contributors():
    # Three shots of the same man cannot make a new person.
    same = {"face_0": bald_crop(19), "face_1": bald_crop(17), "face_2": bald_crop(23)}
    with pytest.raises(FaceEngineError) as exc:
        generate.run(same, {"size": 256})
    assert exc.value.code == "identity_check_failed"


@pytest.mark.parametrize(
    "params",
    [{"weights": [1, 2]}, {"weights": [0, 0, 0]}, {"weights": [1, -1, 1]}, {"size": 300}, {"seed": -1}],
)
def test_generate_rejects_bad_parameters(gallery, params):
    with pytest.raises(FaceEngineError) as exc:
        generate.run(gallery, params)
    assert exc.value.code == "bad_parameter"


def test_generate_needs_three_faces():
    with pytest.raises(FaceEngineError) as exc:
        generate.run({"face_0": astronaut(), "face_1": grace_hopper()}, {})
    assert exc.value.code == "bad_parameter"


def test_second_generation_returns_a_child_portrait_with_parent_distances():
    result = second_generation.run(
        {"parent_a": grace_hopper(), "parent_b": read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))},
        {"size": 256, "sex": "girl"},
    )
    assert result.image.shape == (256, 256, 3)
    assert set(result.metadata["distances"]) == {"parent_a", "parent_b"}
    assert all(0 < d < 2 for d in result.metadata["distances"].values())
    assert result.metadata["sex"] == "girl"


@pytest.mark.parametrize("params", [{"sex": "cat"}, {"weight_a": 1.5}, {"size": 100}])
def test_second_generation_rejects_bad_parameters(params):
    with pytest.raises(FaceEngineError) as exc:
        second_generation.run({"parent_a": grace_hopper(), "parent_b": astronaut()}, params)
    assert exc.value.code == "bad_parameter"


def test_candidates_of_one_request_are_different_new_faces_on_a_generated_backdrop(gallery):
    from gpu_worker.face.embed import distance

    first = generate.run(gallery, {"size": 256, "seed": 0})
    second = generate.run(gallery, {"size": 256, "seed": 1})
    meta = first.metadata
    # The seller compares candidates: two seeds must not give the same face.
    assert distance(np.asarray(meta["embedding"]), np.asarray(second.metadata["embedding"])) > 0.2
    assert meta["background"] == "generated" and 1.0 <= meta["framing"]["zoom"] <= 2.0
    screening = meta["screening"]
    assert screening["passed"] and screening["nearest_contributor"]["distance"] >= screening["margin"]
    assert screening["max_weight"] <= screening["weight_limit"]
    assert len(meta["embedding"]) == 128
    # Around the person the picture is generated studio paper, whose colour the preset's style picks: the same
    # candidate on "edgy" paper differs only there, and there it is dark grey where the neutral paper is light.
    edgy = generate.run(gallery, {"size": 256, "seed": 0, "backdrop": "edgy"}).image.astype(int)
    neutral = first.image.astype(int)
    paper = np.abs(edgy - neutral).mean(2) > 40
    assert paper.mean() > 0.1
    assert edgy[paper].mean() < 120 < 180 < neutral[paper].mean()


def test_an_unusable_contributor_is_skipped_and_named(gallery):
    blank = np.full((300, 300, 3), 180, np.uint8)
    with_blank = {**gallery, "face_3": blank}
    result = generate.run(with_blank, {"size": 256})
    assert [s["input"] for s in result.metadata["skipped"]] == ["face_3"]
    assert result.metadata["skipped"][0]["code"] == "no_face"
    # With only two usable faces left, the error names the faulty one.
    with pytest.raises(FaceEngineError) as exc:
        generate.run({"face_0": gallery["face_0"], "face_1": gallery["face_1"], "face_2": blank}, {"size": 256})
    assert exc.value.code == "no_face" and exc.value.input == "face_2"


def test_no_contributor_outweighs_the_limit():
    from gpu_worker.engines.generate.classical import WEIGHT_LIMIT, cap_weights

    capped = cap_weights(np.array([0.8, 0.1, 0.1]))
    assert capped.max() <= WEIGHT_LIMIT + 1e-9 and abs(capped.sum() - 1) < 1e-9
    assert capped[1] == pytest.approx(capped[2])


def test_a_younger_age_band_gives_more_child_like_proportions_and_plain_resemblance():
    from gpu_worker.engines.generate.shape_edits import apply_edits
    from gpu_worker.engines.second_generation.classical import child_edits

    parents = {"parent_a": grace_hopper(), "parent_b": read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))}
    result = second_generation.run(parents, {"size": 256, "age_band": "7-12", "weight_a": 0.8})
    meta = result.metadata
    assert meta["age_band"] == "7-12" and meta["background"] == "generated"
    assert meta["resemblance"]["nearer"] in ("parent_a", "both")
    # Lower face over face height (subnasale-chin / nasion-chin) shrinks, more for 3-6 than for 7-12.
    lm = np.array([[x, 100 + 2 * x] for x in range(68)], float)
    lm[27], lm[33], lm[8] = (50, 100), (50, 160), (50, 220)

    def lower_share(edited):
        return (edited[8, 1] - edited[33, 1]) / (edited[8, 1] - edited[27, 1])

    adult = lower_share(lm)
    older, younger = (lower_share(apply_edits(lm, child_edits(None, band))) for band in ("7-12", "3-6"))
    assert younger < older < adult


def test_second_generation_refuses_an_unknown_age_band():
    with pytest.raises(FaceEngineError) as exc:
        second_generation.run({"parent_a": grace_hopper(), "parent_b": astronaut()}, {"age_band": "30-40"})
    assert exc.value.code == "bad_parameter"



def test_holes_in_the_person_are_filled_but_the_background_stays_background_when_the_person_fills_a_corner():
    from gpu_worker.engines.generate.studio import enclosed

    person = np.zeros((40, 40), bool)
    person[:30, :30] = True  # a shoulder filling the top-left corner
    person[10:15, 10:15] = False  # a hole the segmentation left inside it
    holes = enclosed(person)
    assert holes[10:15, 10:15].all()
    assert not holes[30:, :].any() and not holes[:, 30:].any()
