"""Generate engine (classical, CPU): a new virtual identity morphed from K >= 3 gallery faces.

Inputs: ``face_0`` ... ``face_{K-1}`` (K >= 3, largest face of each). Params: ``weights`` (K
non-negative numbers, default equal; normalised), ``seed`` (int >= 0, default 0: picks the
new face's proportion edits), ``size`` (256 | 512 | 1024, default 1024).
Output: an FFHQ-aligned portrait of ``size`` px.
Not-a-contributor guard: the result's dlib distance to every contributor must be >= 0.6. If the
plain morph is too close to a contributor, deterministic proportion edits chosen by ``seed``
(eye spacing and size, nose, mouth, jaw, face length; 6, 10, 14, then 18 %) make it a new face and
the nearest contributor's texture weight is lowered; if it is still too close after these
attempts, ``identity_check_failed`` is raised and nothing returned.
Other codes: ``no_face``, ``face_too_small`` (gallery faces < 80 px), ``face_turned``,
``bad_parameter``, ``license_restricted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import EngineResult, FaceEngineError, Timer, check_params, optional_int, require_inputs
from gpu_worker.engines.common import find_face
from gpu_worker.engines.generate.morph import align_all, embedding_of_aligned, morph
from gpu_worker.engines.generate.shape_edits import apply_edits, novelty_edits

NAME = "generate"
VERSION = "classical-1.0"
INPUTS = ("face_0", "face_1", "face_2")  # at least; face_3 ... are optional
PARAMS = {"weights", "size", "seed", "min_face_size", "max_yaw"}
MIN_DISTANCE = 0.6
NOVELTY_STEPS = (0.0, 0.06, 0.10, 0.14, 0.18)  # shape-edit magnitudes tried in turn (see shape_edits.py)
TEXTURE_PUSH = 0.1  # texture weight taken from the nearest contributor per failed attempt
MIN_GALLERY_FACE = 80  # px: smaller faces would make a blurry 1024 px portrait


def gallery_keys(inputs: dict[str, Any]) -> list[str]:
    """``face_0..face_{K-1}`` in order; ``bad_parameter`` if fewer than 3 or numbering has gaps."""
    keys = sorted((k for k in inputs if k.startswith("face_")), key=lambda k: int(k[5:]) if k[5:].isdigit() else -1)
    if len(keys) < 3 or keys != [f"face_{i}" for i in range(len(keys))]:
        raise FaceEngineError("bad_parameter", "generate needs inputs face_0, face_1, face_2 (K >= 3, no gaps)")
    return keys


def parse_weights(value: Any, k: int) -> np.ndarray:
    """K non-negative weights with a positive sum, normalised to sum 1."""
    if value is None:
        return np.full(k, 1.0 / k)
    if not isinstance(value, list | tuple) or len(value) != k:
        raise FaceEngineError("bad_parameter", f"weights must be a list of {k} numbers")
    if any(isinstance(w, bool) or not isinstance(w, int | float) or w < 0 or not np.isfinite(w) for w in value):
        raise FaceEngineError("bad_parameter", "weights must be finite non-negative numbers")
    arr = np.asarray(value, dtype=np.float64)
    if arr.sum() <= 0:
        raise FaceEngineError("bad_parameter", "weights must not all be zero")
    return arr / arr.sum()


def parse_size(params: dict[str, Any]) -> int:
    size = params.get("size", 1024)
    if size not in (256, 512, 1024) or isinstance(size, bool):
        raise FaceEngineError("bad_parameter", f"size must be 256, 512 or 1024, got {size!r}")
    return size


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Morph the gallery faces into a new identity and verify it is none of them."""
    params = check_params(params, PARAMS)
    if not isinstance(inputs, dict):
        raise FaceEngineError("bad_parameter", "inputs must be a dict of images")
    keys = gallery_keys(inputs)
    images = require_inputs(inputs, tuple(keys))
    weights = parse_weights(params.get("weights"), len(keys))
    size = parse_size(params)
    seed = optional_int(params, "seed") or 0
    timer = Timer()
    from gpu_worker.face.embed import distance, embedding

    with timer.stage("analyze"):
        faces = [
            find_face(images[k], k, params, min_size=max(MIN_GALLERY_FACE, params.get("min_face_size", 0)))
            for k in keys
        ]
        refs = [embedding(images[k], f) for k, f in zip(keys, faces)]
    with timer.stage("align"):
        aligned = align_all([images[k] for k in keys], faces, size)
    w = weights.copy()
    mixed_shape = sum(wi * a.lm68 for wi, a in zip(w, aligned))
    attempts: list[dict[str, Any]] = []
    for magnitude in NOVELTY_STEPS:
        if attempts:
            # Too close to someone: lower that contributor's texture weight as well.
            nearest = int(np.argmin(attempts[-1]["distances"]))
            w[nearest] = max(0.0, w[nearest] - TEXTURE_PUSH)
            w = w / w.sum()
        lm = apply_edits(mixed_shape, novelty_edits(seed, magnitude))
        with timer.stage("morph"):
            image, _ = morph(aligned, w, target_lm=lm)
        with timer.stage("identity_check"):
            emb = embedding_of_aligned(image, lm)
            dists = [round(distance(emb, r), 4) for r in refs]
        attempts.append({"novelty": magnitude, "weights": [round(float(x), 4) for x in w], "distances": dists})
        if min(dists) >= MIN_DISTANCE:
            break
    else:
        raise FaceEngineError(
            "identity_check_failed",
            f"the morph stays within {min(attempts[-1]['distances']):.3f} (< {MIN_DISTANCE}) of a contributor "
            f"after {len(NOVELTY_STEPS)} attempts; choose more different faces or other weights",
        )
    return EngineResult(
        image=image,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "size": size,
            "seed": seed,
            "weights": [round(float(x), 4) for x in weights],
            "effective_weights": attempts[-1]["weights"],
            "faces": [f.to_dict() for f in faces],
            "distances": dict(zip(keys, attempts[-1]["distances"])),
            "attempts": attempts,
            "timings": timer.timings,
        },
    )
