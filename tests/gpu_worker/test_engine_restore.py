"""Restore engine: the face gets cleaner and sharper, the rest stays, strength and upscale behave."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.engines import FaceEngineError, get_engine
from gpu_worker.face.embed import distance
from tests.gpu_worker.face_photos import embedding_of, grace_hopper, largest_embedding

restore = get_engine("restore")


@pytest.fixture(scope="module")
def noisy_grace():
    rng = np.random.default_rng(7)
    return np.clip(grace_hopper() + rng.normal(0, 10, grace_hopper().shape), 0, 255).astype(np.uint8)


def _rms(a, b, box):
    left, top, right, bottom = box
    diff = a[top:bottom, left:right].astype(np.float32) - b[top:bottom, left:right]
    return float(np.sqrt((diff**2).mean()))


def test_restore_denoises_the_face_and_keeps_identity(noisy_grace):
    result = restore.run({"image": noisy_grace}, {"strength": 0.8})
    assert result.image.shape == noisy_grace.shape
    box = result.metadata["faces"][0]["box"]
    # Residual noise = restored(noisy) - restored(clean): sharpening acts on both, so what remains
    # is the noise the engine let through.
    clean = restore.run({"image": grace_hopper()}, {"strength": 0.8}).image
    assert _rms(result.image, clean, box) < 0.8 * _rms(noisy_grace, grace_hopper(), box)
    assert distance(embedding_of(result.image), largest_embedding("grace")) < 0.3
    # Far from the face nothing changes.
    assert np.array_equal(result.image[:40, :40], noisy_grace[:40, :40])


def test_restore_strength_zero_is_identity_and_runs_are_deterministic(noisy_grace):
    assert np.array_equal(restore.run({"image": noisy_grace}, {"strength": 0.0}).image, noisy_grace)
    a = restore.run({"image": noisy_grace}, {"strength": 0.5}).image
    b = restore.run({"image": noisy_grace}, {"strength": 0.5}).image
    assert np.array_equal(a, b)


def test_restore_upscales_the_whole_image():
    result = restore.run({"image": grace_hopper()}, {"strength": 0.5, "upscale": 2})
    h, w = grace_hopper().shape[:2]
    assert result.image.shape == (2 * h, 2 * w, 3)
    assert result.metadata["upscale"] == 2 and result.metadata["engine"] == "restore"


@pytest.mark.parametrize(
    "params", [{"strength": 2}, {"upscale": 3}, {"all_faces": True, "face_index": 0, "upscale": True}]
)
def test_restore_rejects_bad_parameters(params):
    with pytest.raises(FaceEngineError) as exc:
        restore.run({"image": grace_hopper()}, params)
    assert exc.value.code == "bad_parameter"
