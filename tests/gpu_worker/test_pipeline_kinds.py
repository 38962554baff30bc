"""Every job kind runs through the worker's pipeline with the spec the web tier writes (classical engines)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from gpu_worker import pipelines
from gpu_worker.face.imageio import read_image
from tests.generation.photos import astronaut, grace_hopper, png_bytes
from tests.gpu_worker.face_photos import shared_photo


def run(kind: str, images: dict, params: dict | None = None) -> np.ndarray:
    result = run_pipeline(kind, images, params)
    return np.asarray(Image.open(io.BytesIO(result.data)).convert("RGB"))


def run_pipeline(kind: str, images: dict, params: dict | None = None) -> pipelines.PipelineResult:
    objects, inputs = {}, {}
    for role, value in images.items():
        keys = []
        for i, image in enumerate(value if isinstance(value, list) else [value]):
            key = f"{role}-{i}.png"
            objects[key] = png_bytes(image)
            keys.append(key)
        inputs[role] = keys if isinstance(value, list) else keys[0]
    spec = {
        "job_id": "j1",
        "store_id": 1,
        "kind": kind,
        "inputs": inputs,
        "params": params or {},
        "output_prefix": "out/",
        "attempt_limit": 3,
        "label": {"visible": False},
    }
    return pipelines.run(spec, objects.__getitem__, lambda pct: None)


def test_generate_face_from_three_contributors_gives_a_1024_portrait():
    tom = read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))

    image = run("generate_face", {"contributors": [tom, grace_hopper(), astronaut()]}, {"seed": 0})

    assert image.shape == (1024, 1024, 3)


def test_a_generated_face_reports_its_screening_and_a_faulty_contributor_is_named():
    from gpu_worker.face.errors import FaceEngineError

    tom = read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))
    blank = np.full((300, 300, 3), 200, np.uint8)

    metrics = run_pipeline("generate_face", {"contributors": [tom, grace_hopper(), astronaut(), blank]}).metrics

    assert metrics["screening"]["passed"] and len(metrics["embedding"]) == 128
    assert metrics["skipped"] == [{"input": "face_3", "code": "no_face", "message": metrics["skipped"][0]["message"]}]
    with pytest.raises(FaceEngineError) as exc:
        run_pipeline("generate_face", {"contributors": [tom, blank, astronaut()]})
    assert exc.value.input == "face_1"


def test_every_documented_parameter_reaches_its_engine():
    tom = read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))

    child = run_pipeline("second_generation", {"parent_a": tom, "parent_b": astronaut()},
                         {"age_band": "7-12", "sex": "boy", "weight_a": 0.7}).metrics["stages"][0]
    face = run_pipeline("generate_face", {"contributors": [tom, grace_hopper(), astronaut()]},
                        {"seed": 1, "backdrop": "edgy"})

    assert (child["age_band"], child["sex"], child["weight_a"]) == ("7-12", "boy", 0.7)
    assert face.metrics["stages"][0]["seed"] == 1
    made_up = run_pipeline("generate_face", {"contributors": [tom, grace_hopper(), astronaut()],
                                             "reference": read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))},
                           {"makeup_strength": 0.8}).metrics
    assert [s["engine"] for s in made_up["stages"]] == ["generate", "makeup"] and made_up["screening"]["passed"]
    corner = np.asarray(Image.open(io.BytesIO(face.data)).convert("RGB"))[:40, :40].reshape(-1, 3).mean(0)
    assert corner.mean() < 120  # the edgy studio paper, not the neutral light grey


def test_second_generation_from_two_parents():
    tom = read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))

    image = run("second_generation", {"parent_a": tom, "parent_b": astronaut()}, {"sex": "girl"})

    assert image.shape[0] == image.shape[1] >= 256


@pytest.mark.parametrize("kind", ["swap", "pipeline"])
def test_swap_kinds_keep_the_target_size(kind):
    image = run(kind, {"source": grace_hopper(), "target": astronaut()})

    assert image.shape == astronaut().shape
