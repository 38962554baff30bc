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
