"""Makeup engine: colours move toward the reference's makeup while the identity stays."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.engines import FaceEngineError, get_engine
from gpu_worker.engines.makeup.transfer import region_colours
from gpu_worker.face.detect import analyze
from tests.gpu_worker.face_photos import astronaut, grace_hopper

makeup = get_engine("makeup")


def _lipstick(image: np.ndarray) -> np.ndarray:
    """A copy of ``image`` with strongly red lips painted over its largest face."""
    import cv2

    face = max(analyze(image), key=lambda f: f.size)
    out = image.copy()
    lips = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(lips, [face.landmarks68[48:60].round().astype(np.int32)], 255)
    cv2.fillPoly(lips, [face.landmarks68[60:68].round().astype(np.int32)], 0)
    out[lips > 0] = (out[lips > 0] * 0.3 + np.array([200, 10, 60]) * 0.7).astype(np.uint8)
    return out


def test_makeup_moves_lip_colour_toward_the_reference_and_keeps_identity():
    target = grace_hopper()
    reference = _lipstick(astronaut())
    result = makeup.run({"target": target, "reference": reference}, {"strength": 1.0})
    assert result.image.shape == target.shape
    assert result.metadata["identity_distance"] < 0.3
    face = analyze(target)[0]
    before = region_colours(target, face.landmarks68)
    after = region_colours(result.image, face.landmarks68)
    # Lab "a" (green -> red) of the lips rises relative to the skin.
    assert after["lips"][1] - after["skin"][1] > before["lips"][1] - before["skin"][1] + 3


def test_makeup_strength_zero_leaves_the_image_unchanged_and_is_deterministic():
    inputs = {"target": astronaut(), "reference": grace_hopper()}
    assert np.array_equal(makeup.run(inputs, {"strength": 0.0}).image, astronaut())
    a, b = makeup.run(inputs, {"strength": 0.7}), makeup.run(inputs, {"strength": 0.7})
    assert np.array_equal(a.image, b.image)
    assert a.metadata["engine"] == "makeup" and "regions" in a.metadata


def test_makeup_refuses_bad_strength_and_missing_reference():
    with pytest.raises(FaceEngineError) as exc:
        makeup.run({"target": astronaut(), "reference": grace_hopper()}, {"strength": 1.2})
    assert exc.value.code == "bad_parameter"
    with pytest.raises(FaceEngineError) as exc:
        makeup.run({"target": astronaut()}, {})
    assert exc.value.code == "bad_parameter"


def test_makeup_identity_guard_raises(monkeypatch):
    import gpu_worker.engines.makeup.classical as module

    monkeypatch.setattr(module, "MAX_IDENTITY_DISTANCE", 0.0)
    with pytest.raises(FaceEngineError) as exc:
        makeup.run({"target": astronaut(), "reference": grace_hopper()}, {"strength": 1.0})
    assert exc.value.code == "identity_check_failed"
