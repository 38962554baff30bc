"""Neural generate (pSp + StyleGAN2): a new virtual identity, same contract as the classical engine.

Contributor mode (inputs ``face_0`` ... ``face_{K-1}``, K >= 3, or ``contributors``: a list of images):
pSp encodes every contributor into W+ in one batched forward, the codes are averaged with ``weights``,
and the blend is pulled towards the seed's random face by increasing novelty (``NOVELTY_STEPS``, all
candidates synthesised in one batched forward). The first candidate whose dlib distance to every
contributor is >= 0.6 is returned; if none, ``identity_check_failed`` (a face without a detectable
face fails too: novelty cannot be verified).
Seed mode (no face inputs, presets): z from ``seed`` -> W truncated by ``truncation`` -> W+.
Both modes then apply ``directions`` ({name: strength}, see ``directions``) and synthesise at the
generator's size (1024 for FFHQ), resized to ``size`` (256 | 512 | 1024, default 1024).
Params: ``weights``, ``seed`` (default 0), ``size``, ``truncation`` (0..1, default 0.7), ``directions``,
``min_face_size``, ``max_yaw``. Codes: ``no_face``, ``face_too_small``, ``face_turned``,
``identity_check_failed``, ``bad_parameter``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines import session as common
from gpu_worker.engines.base import (
    EngineResult,
    FaceEngineError,
    Timer,
    check_params,
    optional_int,
    require_inputs,
    unit_float,
)
from gpu_worker.engines.face_crops import find_faces
from gpu_worker.engines.generate import directions, latents
from gpu_worker.engines.generate.params import MIN_GALLERY_FACE

NAME = "generate"
ENGINE = "neural-stylegan2"
VERSION = "neural-stylegan2-1.0"
INPUTS: tuple[str, ...] = ()  # seed mode needs none; contributor mode takes face_0.. (see the module doc)
# generate_face jobs bring contributor faces, which pSp encodes: selection requires both models.
REQUIRED_MODELS = ("psp_encoder", "stylegan2")
SEED_MODELS = ("stylegan2",)  # what seed mode (no face inputs) loads
PARAMS = {"weights", "seed", "size", "truncation", "directions", "min_face_size", "max_yaw"}
NOVELTY_STEPS = (0.0, 0.25, 0.4, 0.55)  # share of the seed's random face mixed into the blend
MIN_DISTANCE = 0.6


def contributor_images(inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """``face_0..face_{K-1}`` (or the ``contributors`` list) as validated RGB images; {} in seed mode."""
    from gpu_worker.engines.generate.params import gallery_keys

    if not isinstance(inputs, dict):
        raise FaceEngineError("bad_parameter", "inputs must be a dict of images")
    if isinstance(inputs.get("contributors"), list | tuple):
        inputs = {f"face_{i}": img for i, img in enumerate(inputs["contributors"])}
    if not any(k.startswith("face_") for k in inputs):
        return {}
    keys = gallery_keys(inputs)
    return require_inputs(inputs, tuple(keys))


def _first_new_face(images: list[np.ndarray], refs: list[np.ndarray]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The first candidate at least MIN_DISTANCE from every contributor, and the attempts made;
    ``identity_check_failed`` when none is (a candidate without a detectable face cannot be checked)."""
    attempts: list[dict[str, Any]] = []
    for magnitude, candidate in zip(NOVELTY_STEPS, images):
        dists = latents.identity_distances(candidate, refs)
        attempts.append({"novelty": magnitude, "distances": dists})
        if dists is not None and min(dists) >= MIN_DISTANCE:
            return candidate, attempts
    raise FaceEngineError(
        "identity_check_failed",
        f"no candidate is a new person (distances {[a['distances'] for a in attempts]}; a result "
        f"without a detectable face cannot be checked); choose other faces, weights or seed",
    )


def run(inputs: dict[str, np.ndarray] | None = None, params: dict[str, Any] | None = None) -> EngineResult:
    """Generate one face; see the module doc."""
    import torch

    from gpu_worker.engines.generate.params import parse_size, parse_weights

    params = check_params(params, PARAMS)
    gallery = contributor_images(inputs or {})
    seed = optional_int(params, "seed", low=0, high=2**32 - 1) or 0
    truncation = unit_float(params, "truncation", 0.7)
    size = parse_size(params)
    weights = parse_weights(params.get("weights"), len(gallery)) if gallery else None
    session = common.start(REQUIRED_MODELS if gallery else SEED_MODELS)
    timer = Timer()
    with timer.stage("load_models"):
        generator = session.model("stylegan2")
        gen = generator.module
        edits = directions.parse_edits(params.get("directions"), gen.style_dim)
    refs: list[np.ndarray] = []
    faces = []
    with timer.stage("latent"):
        w_seed = latents.seeded_w(generator, seed, truncation).unsqueeze(1).repeat(1, gen.n_latent, 1)
        if gallery:
            from gpu_worker.face.embed import embedding

            min_size = max(MIN_GALLERY_FACE, params.get("min_face_size") or 0)
            sub = {k: params[k] for k in ("detector", "max_yaw") if k in params}
            faces = [find_faces(img, key, sub, min_size=min_size)[0] for key, img in gallery.items()]
            refs = [embedding(img, f) for img, f in zip(gallery.values(), faces)]
            codes = latents.encode(session, list(gallery.values()), faces)
            blend = (codes * torch.as_tensor(weights, dtype=codes.dtype, device=codes.device).view(-1, 1, 1)).sum(0)
            steps = torch.tensor(NOVELTY_STEPS, device=codes.device).view(-1, 1, 1)
            candidates = blend[None] * (1 - steps) + w_seed * steps
        else:
            candidates = w_seed
        try:
            candidates = directions.apply_directions(candidates, edits)
        except directions.DirectionError as exc:
            raise FaceEngineError("bad_parameter", str(exc)) from exc
    with timer.stage("synthesize"):
        images = latents.synthesize(generator, candidates, session.dtype, size)
    attempts: list[dict[str, Any]] = []
    image = images[0]
    if gallery:
        with timer.stage("identity_check"):
            image, attempts = _first_new_face(images, refs)
    metadata = session.metadata(ENGINE, VERSION)
    metadata.update(
        seed=seed, truncation=truncation, size=size, directions=directions.describe(edits),
        mode="contributors" if gallery else "seed", timings=timer.timings,
    )
    if gallery:
        keys = list(gallery)
        metadata.update(weights=[round(float(x), 4) for x in weights], faces=[f.to_dict() for f in faces],
                        distances=dict(zip(keys, attempts[-1]["distances"])), attempts=attempts)
    return EngineResult(image=image, metadata=metadata)
