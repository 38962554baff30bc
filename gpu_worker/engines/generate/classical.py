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
from gpu_worker.engines.generate.morph import analyze_contributors, embedding_of_aligned, morph
from gpu_worker.engines.generate.params import gallery_keys, parse_size, parse_weights
from gpu_worker.engines.generate.shape_edits import apply_edits, novelty_edits

NAME = "generate"
VERSION = "classical-1.0"
INPUTS = ("face_0", "face_1", "face_2")  # at least; face_3 ... are optional
PARAMS = {"weights", "size", "seed", "min_face_size", "max_yaw"}
MIN_DISTANCE = 0.6
NOVELTY_STEPS = (0.0, 0.06, 0.10, 0.14, 0.18)  # shape-edit magnitudes tried in turn (see shape_edits.py)
TEXTURE_PUSH = 0.1  # texture weight taken from the nearest contributor per failed attempt


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
    from gpu_worker.face.embed import distance

    faces, refs, aligned = analyze_contributors(images, keys, params, size, timer)
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
