"""Generate engine (classical, CPU): a new virtual identity morphed from K >= 3 gallery faces.

Inputs: ``face_0`` ... ``face_{K-1}`` (K >= 3, largest face of each). Params: ``weights`` (K
non-negative numbers, default equal; normalised, then capped at ``WEIGHT_LIMIT`` each), ``seed`` (int >= 0,
default 0: the plain blend; every other seed its own variation, see ``candidate_variation``), ``size`` (256 |
512 | 1024, default 1024), ``backdrop`` (a style of ``spec.BACKDROP_STYLES``, the studio paper's colour; the web
tier passes a preset's style tag).
Output: a portrait of ``size`` px, FFHQ-centred and zoomed in as far as the framing contributor's photo
requires (``metadata["framing"]``): the morphed face with the contributors' skin detail kept (frequency
separation, ``morph._keep_skin_detail``), one contributor's hair and shoulders, on a generated studio backdrop
(``studio.py``): no contributor's background survives.

Contributors: one whose face cannot be used (no face, too small, turned) is skipped and named in
``metadata["skipped"]`` while at least 3 remain; otherwise its error is raised with ``input`` = its role.

Never a real person (``metadata["screening"]``): the result's dlib distance to every contributor must be at
least ``MIN_DISTANCE`` and no contributor may weigh more than ``WEIGHT_LIMIT`` (a morph dominated by one
contributor read as that person even past 0.6). If the plain morph is too close, deterministic proportion edits
chosen by ``seed`` (eye spacing and size, nose, mouth, jaw, face length; 6, 10, 14, then 18 %) make it a new
face and the nearest contributor's texture weight is lowered; if it is still too close,
``identity_check_failed`` is raised. The web tier screens the returned ``embedding`` against every face the
store and the public gallery hold.
Other codes: ``no_face``, ``face_too_small`` (gallery faces < 80 px), ``face_turned``, ``bad_parameter``,
``license_restricted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import (
    EngineResult,
    FaceEngineError,
    Timer,
    check_params,
    choice,
    optional_int,
    require_inputs,
)
from gpu_worker.engines.generate.morph import (
    AlignedFace,
    analyze_contributors,
    contributor_face,
    embedding_of_aligned,
    laplacian_variance,
    match_skin_detail,
    morph,
    skin_region,
)
from gpu_worker.engines.generate.params import gallery_keys, parse_size, parse_weights
from gpu_worker.engines.generate.shape_edits import apply_edits, novelty_edits
from gpu_worker.engines.generate.studio import backdrop_colour, studio_portrait, zoom_about_centre, zoom_points
from gpu_worker.spec import BACKDROP_STYLES, NOT_A_REAL_PERSON_MARGIN

NAME = "generate"
VERSION = "classical-2.0"
INPUTS = ("face_0", "face_1", "face_2")  # at least; face_3 ... are optional
PARAMS = {"weights", "size", "seed", "min_face_size", "max_yaw", "backdrop"}
MIN_CONTRIBUTORS = 3
MIN_DISTANCE = NOT_A_REAL_PERSON_MARGIN  # measured: see gpu_worker/spec.py
WEIGHT_LIMIT = 0.5  # no contributor may weigh more than this share of the new face
NOVELTY_STEPS = (0.0, 0.06, 0.10, 0.14, 0.18)  # shape-edit magnitudes tried in turn (see shape_edits.py)
TEXTURE_PUSH = 0.1  # texture weight taken from the nearest contributor per failed attempt
JITTER_CONCENTRATION = 12.0  # Dirichlet concentration of a candidate's weights around the request's


def cap_weights(weights: np.ndarray, limit: float = WEIGHT_LIMIT) -> np.ndarray:
    """``weights`` (summing to 1) with none above ``limit``: the excess goes to the others in proportion."""
    w = weights.astype(np.float64).copy()
    limit = max(limit, 1.0 / len(w))
    for _ in range(len(w)):
        over = w > limit + 1e-9
        if not over.any():
            break
        excess = float((w[over] - limit).sum())
        w[over] = limit
        free = ~over & (w < limit)
        w[free] += excess * (w[free] / w[free].sum() if w[free].sum() > 0 else 1.0 / free.sum())
    return w / w.sum()


def candidate_variation(
    weights: np.ndarray, coverage: np.ndarray, seed: int
) -> tuple[np.ndarray, int, tuple[float, ...]]:
    """(texture weights, the contributor framing the face, the novelty steps to try) for candidate ``seed``.

    Seed 0 is the plain blend of the requested weights. Every other seed is its own face: the weights are
    jittered around the request's (Dirichlet, concentration ``JITTER_CONCENTRATION``), the hair and
    background come from the next contributor in turn, and its proportion edits start at the first novelty
    step, so candidates of one request are visibly different (bench/virtual_faces.py reports their spread)."""
    w = cap_weights(weights)
    first = int(np.argmax(w + 1e-3 * coverage))  # the heaviest; among equals, the photo that shows most
    if seed == 0:
        return w, first, NOVELTY_STEPS
    rng = np.random.default_rng(seed)
    w = cap_weights(rng.dirichlet(np.maximum(w, 1e-3) * JITTER_CONCENTRATION))
    return w, (first + seed) % len(w), NOVELTY_STEPS[1:]


def contributor_detail(aligned: list[AlignedFace], weights: np.ndarray, zoom: float) -> float:
    """The contributors' skin sharpness (Laplacian variance, weighted) at the portrait's framing."""
    size = aligned[0].image.shape[0]
    values = [
        laplacian_variance(zoom_about_centre(a.image, zoom), skin_region((size, size), zoom_points(a.lm68, zoom, size)))
        for a in aligned
    ]
    return float(np.dot(weights, values))


def usable_contributors(
    images: dict[str, np.ndarray], keys: list[str], params: dict[str, Any], size: int, timer: Timer
) -> tuple[list[str], list[dict], tuple]:
    """(the keys used, the skipped ones with their reasons, ``analyze_contributors``' result for the used)."""
    used, faces, skipped = [], [], []
    first_error: FaceEngineError | None = None
    with timer.stage("analyze"):
        for key in keys:
            try:
                faces.append(contributor_face(images[key], key, params))
            except FaceEngineError as exc:
                if exc.code not in ("no_face", "face_too_small", "face_turned"):
                    raise
                exc.input = key
                first_error = first_error or exc
                skipped.append({"input": key, "code": exc.code, "message": exc.message})
            else:
                used.append(key)
    if len(used) < MIN_CONTRIBUTORS:
        assert first_error is not None
        raise first_error
    return used, skipped, analyze_contributors(images, used, params, size, timer, faces=faces)


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
    style = choice(params, "backdrop", BACKDROP_STYLES, None)
    timer = Timer()
    from gpu_worker.face.embed import distance

    used, skipped, (faces, refs, aligned) = usable_contributors(images, keys, params, size, timer)
    index = [keys.index(k) for k in used]
    coverage = np.array([float((a.inside > 0).mean()) for a in aligned])
    w, base, steps = candidate_variation(weights[index] / weights[index].sum(), coverage, seed)
    mixed_shape = sum(wi * a.lm68 for wi, a in zip(w, aligned))
    colour = backdrop_colour(style)
    attempts: list[dict[str, Any]] = []
    for magnitude in steps:
        if attempts:
            # Too close to someone: lower that contributor's texture weight as well.
            nearest = int(np.argmin(attempts[-1]["distances"]))
            w[nearest] = max(0.0, w[nearest] - TEXTURE_PUSH)
            w = cap_weights(w / w.sum())
        lm = apply_edits(mixed_shape, novelty_edits(seed, magnitude))
        with timer.stage("morph"):
            image, _, inside = morph(aligned, w, target_lm=lm, base=base)
        with timer.stage("studio"):
            image, framed_lm, zoom = studio_portrait(image, lm, inside, colour, seed)
            image = match_skin_detail(image, framed_lm, contributor_detail(aligned, w, zoom))
        with timer.stage("identity_check"):
            emb = embedding_of_aligned(image, framed_lm)
            dists = [round(distance(emb, r), 4) for r in refs]
        attempts.append({"novelty": magnitude, "weights": [round(float(x), 4) for x in w], "distances": dists})
        if min(dists) >= MIN_DISTANCE:
            break
    else:
        nearest = used[int(np.argmin(attempts[-1]["distances"]))]
        raise FaceEngineError(
            "identity_check_failed",
            f"the new face stays within {min(attempts[-1]['distances']):.3f} (< {MIN_DISTANCE}) of contributor "
            f"{nearest} after {len(attempts)} attempts; choose more different faces or other weights",
            input=nearest,
        )
    final = attempts[-1]
    nearest = int(np.argmin(final["distances"]))
    return EngineResult(
        image=image,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "size": size,
            "seed": seed,
            "weights": [round(float(x), 4) for x in weights],
            "effective_weights": dict(zip(used, final["weights"])),
            "faces": [f.to_dict() for f in faces],
            "distances": dict(zip(used, final["distances"])),
            "attempts": attempts,
            "skipped": skipped,
            "background": "generated",
            "framing": {"zoom": round(zoom, 3)},
            "embedding": [round(float(v), 5) for v in emb],
            "screening": {
                "margin": MIN_DISTANCE,
                "nearest_contributor": {"input": used[nearest], "distance": final["distances"][nearest]},
                "max_weight": round(float(max(final["weights"])), 4),
                "weight_limit": WEIGHT_LIMIT,
                "passed": True,
            },
            "timings": timer.timings,
        },
    )
