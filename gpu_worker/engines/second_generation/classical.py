"""Second-generation engine (classical, CPU): predict a child's face from two parent photos.

Inputs: ``parent_a``, ``parent_b`` (largest face of each). Params: ``weight_a`` 0..1 (share of
parent A, default 0.5); ``sex`` ("girl" | "boy", optional); ``size`` (256 | 512 | 1024, default 1024);
``min_face_size``; ``max_yaw``.
Procedure: FFHQ-align both parents, morph them (shape and texture) with the weights, apply a
child-face shape prior (larger eyes, smaller nose and mouth, shorter lower face, rounder jaw; a
girl gets a slightly narrower jaw and fuller lips, a boy a slightly wider jaw and lower brows),
then smooth the skin. This is a heuristic illustration, not a genetic prediction.
Output: the FFHQ-aligned child portrait; metadata holds its dlib distances to both parents.
Codes: ``no_face``, ``face_too_small``, ``face_turned``, ``bad_parameter``, ``license_restricted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import EngineResult, Timer
from gpu_worker.engines.generate.morph import analyze_contributors, embedding_of_aligned, morph, smooth_skin
from gpu_worker.engines.generate.shape_edits import apply_edits
from gpu_worker.engines.second_generation.params import INPUTS, parse

NAME = "second_generation"
VERSION = "classical-1.0"
PARAMS = {"weight_a", "sex", "size", "min_face_size", "max_yaw"}

# Proportions of a child of about 6-10 years relative to an adult face (relative amounts).
CHILD_PRIOR = {
    "eye_size": 0.18,
    "nose_length": -0.2,
    "nose_width": -0.1,
    "mouth_width": -0.12,
    "face_length": -0.14,
    "jaw_width": 0.06,
    "brow_height": 0.03,
}
SEX_PRIOR = {
    "girl": {"jaw_width": -0.03, "lip_height": 0.08, "brow_height": 0.02},
    "boy": {"jaw_width": 0.03, "brow_height": -0.02},
}


def child_edits(sex: str | None) -> dict[str, float]:
    """The child prior, adjusted for the chosen sex."""
    edits = dict(CHILD_PRIOR)
    for name, value in SEX_PRIOR.get(sex or "", {}).items():
        edits[name] = edits.get(name, 0.0) + value
    return edits


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Morph the two parents, apply the child prior, smooth the skin and report parent distances."""
    params, images, weight_a, sex, size = parse(inputs, params, PARAMS)
    timer = Timer()
    from gpu_worker.face.embed import distance

    faces, refs, aligned = analyze_contributors(images, INPUTS, params, size, timer)
    weights = np.array([weight_a, 1.0 - weight_a])
    with timer.stage("morph"):
        mixed = weights[0] * aligned[0].lm68 + weights[1] * aligned[1].lm68
        lm = apply_edits(mixed, child_edits(sex))
        image, _ = morph(aligned, weights, target_lm=lm)
        image = smooth_skin(image, lm, 1.0)
    with timer.stage("distances"):
        emb = embedding_of_aligned(image, lm)
        dists = {k: round(distance(emb, r), 4) for k, r in zip(INPUTS, refs)}
    return EngineResult(
        image=image,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "size": size,
            "weight_a": weight_a,
            "sex": sex,
            "parent_faces": {k: f.to_dict() for k, f in zip(INPUTS, faces)},
            "distances": dists,
            "timings": timer.timings,
        },
    )
