"""Neural second generation (pSp + StyleGAN2): a child portrait from two parent photos.

Procedure: FFHQ-align both parents at 256, pSp-encode them into W+ in one batched forward, blend the
codes with ``weight_a``, move the blend younger along the ``age`` latent direction (strength
``CHILD_AGE``; the direction's positive side is older) and, with ``sex``, along the ``gender``
direction (positive side masculine: boy +``SEX_STRENGTH``, girl -``SEX_STRENGTH``), then synthesise
with StyleGAN2 and resize to ``size``. An illustration, not a genetic prediction.

Inputs: ``parent_a``, ``parent_b``. Params as the classical engine: ``weight_a`` (0..1, default 0.5),
``sex`` (girl | boy), ``size`` (256 | 512 | 1024, default 1024), ``min_face_size``, ``max_yaw``;
``age_band`` (3-6 | 7-12: ``CHILD_AGE`` or ``OLDER_CHILD_SHARE`` of it); plus ``seed`` (accepted, unused:
the result is deterministic) and ``age`` (override of the age strength, -10..10).
Needs the ``age`` and ``gender`` direction files (``GASANG_DIRECTIONS_DIR``);
``pick_engine`` only chooses this engine when they are there. Metadata holds the dlib distances of
the child to both parents (None when no face is detected in the result).
Codes: ``no_face``, ``face_too_small``, ``face_turned``, ``bad_parameter``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines import session as common
from gpu_worker.engines.base import (
    EngineResult,
    FaceEngineError,
    Timer,
)
from gpu_worker.engines.face_crops import find_faces
from gpu_worker.engines.generate import directions, latents
from gpu_worker.engines.generate.params import MIN_GALLERY_FACE
from gpu_worker.engines.second_generation.params import INPUTS, parse

NAME = "second_generation"
ENGINE = "neural-psp-stylegan2"
VERSION = "neural-psp-stylegan2-1.0"
REQUIRED_MODELS = ("psp_encoder", "stylegan2")
REQUIRED_DIRECTIONS = ("age", "gender")
PARAMS = {"weight_a", "sex", "size", "min_face_size", "max_yaw", "seed", "age", "age_band"}
CHILD_AGE = -3.0
OLDER_CHILD_SHARE = 0.6  # age band 7-12 moves 60 % as far along the age direction as 3-6
SEX_STRENGTH = 1.5
MIN_PARENT_FACE = MIN_GALLERY_FACE


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Blend both parents' codes, make the result a child, synthesise; see the module doc."""
    from gpu_worker.face.embed import embedding

    params, images, weight_a, sex, size, age_band = parse(inputs, params, PARAMS)
    age = params.get("age", CHILD_AGE if age_band == "3-6" else CHILD_AGE * OLDER_CHILD_SHARE)
    if isinstance(age, bool) or not isinstance(age, int | float) or abs(age) > directions.MAX_STRENGTH:
        raise FaceEngineError("bad_parameter", f"age must be a number in [-10, 10], got {age!r}")
    session = common.start(REQUIRED_MODELS)
    timer = Timer()
    with timer.stage("analyze"):
        sub = {k: params[k] for k in ("detector", "max_yaw") if k in params}
        min_size = max(MIN_PARENT_FACE, params.get("min_face_size") or 0)
        faces = [find_faces(images[k], k, sub, min_size=min_size)[0] for k in INPUTS]
        refs = [embedding(images[k], f) for k, f in zip(INPUTS, faces)]
    with timer.stage("load_models"):
        generator = session.model("stylegan2")
        edits = [(directions.resolve("age", generator.module.style_dim), float(age))]
        if sex is not None:
            strength = SEX_STRENGTH if sex == "boy" else -SEX_STRENGTH
            edits.append((directions.resolve("gender", generator.module.style_dim), strength))
    with timer.stage("encode"):
        codes = latents.encode(session, [images[k] for k in INPUTS], faces)
        blend = codes[:1] * weight_a + codes[1:] * (1 - weight_a)
        try:
            child = directions.apply_directions(blend, edits)
        except directions.DirectionError as exc:
            raise FaceEngineError("bad_parameter", str(exc)) from exc
    with timer.stage("synthesize"):
        image = latents.synthesize(generator, child, session.dtype, size)[0]
    with timer.stage("identity"):
        dists = latents.identity_distances(image, refs)
    metadata = session.metadata(ENGINE, VERSION)
    metadata.update(
        size=size, sex=sex, age_band=age_band, weight_a=weight_a, directions=directions.describe(edits),
        faces=[f.to_dict() for f in faces],
        distances=dict(zip(INPUTS, dists)) if dists is not None else {k: None for k in INPUTS},
        timings=timer.timings,
    )
    return EngineResult(image=image, metadata=metadata)
