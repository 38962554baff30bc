"""Swap engine (classical, CPU): render the virtual model's face asset into a product shot.

Inputs: ``source`` (the virtual model's photo), optional ``source_asset`` (its prepared ``FaceAsset``; when given
the source photo is not analysed again, which is what keeps one model the same across a catalogue), ``target``
(the product shot), optional ``reference`` (a photo of the person to replace, for ``face="similar"``).
Params: ``face_index`` | ``face`` ("largest" default, "similar") to choose the target face; ``shape_keep`` (0..1,
default 0.6: how much of the model's own face proportions the result keeps, see ``render.RenderSettings``);
``restore`` (0..1, 0 = off) runs the restore engine on the swapped face; ``occlusion`` (bool, keep the target's
hair/glasses in front); ``detector``; ``min_face_size``; ``max_yaw`` (target, default 55 degrees).

Every result carries ``consistency``: the identity distance (dlib 128-D) of the result face to the asset. Above
``CONSISTENCY_THRESHOLD`` the face is rendered once more with more of the model's proportions and less of the
target's skin tone; the better of the two is kept and, if still above, ``flagged``.
Fails with ``no_face``, ``face_too_small`` (target < 36 px, source < 80 px), ``face_turned`` (target or source
|yaw| > 55 degrees), ``bad_parameter``, ``bad_asset``, ``asset_outdated``, ``license_restricted``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from gpu_worker.engines.base import EngineResult, FaceEngineError, Timer, check_params, require_inputs, unit_float
from gpu_worker.engines.common import SELECT_PARAMS, find_face
from gpu_worker.engines.swap.reference import reference_embedding
from gpu_worker.engines.swap.render import MAX_YAW, RenderSettings, render
from gpu_worker.face.asset import FaceAsset, prepare_asset

NAME = "swap"
VERSION = "classical-2.0"
INPUTS = ("source", "target")  # "source" may be replaced by a prepared "source_asset"
PARAMS = SELECT_PARAMS | {"restore", "shape_keep", "occlusion"}
# dlib's own "same person" distance; a catalogue result farther than this from its model is not the same model.
CONSISTENCY_THRESHOLD = 0.6


def source_asset(inputs: dict[str, Any], timer: Timer) -> tuple[FaceAsset, bool]:
    """(the model's face asset, whether it was prepared here from the source photo)."""
    asset = inputs.get("source_asset")
    if isinstance(asset, FaceAsset):
        return asset, False
    if "source" not in inputs:
        raise FaceEngineError("bad_parameter", 'the swap needs a "source" image or a "source_asset"')
    with timer.stage("prepare_asset"):
        return prepare_asset(require_inputs(inputs, ("source",))["source"]), True


def _consistency(image: np.ndarray, face, asset: FaceAsset) -> float:
    from gpu_worker.face.embed import distance, embedding

    return round(distance(embedding(image, face), asset.embedding), 4)


def run(inputs: dict[str, Any], params: dict[str, Any] | None = None) -> EngineResult:
    """Swap the model's face into the chosen face of ``target``; see the module doc."""
    params = check_params(params, PARAMS)
    images = require_inputs(inputs, ("target",))
    restore_strength = unit_float(params, "restore", 0.0)
    settings = RenderSettings(
        identity=unit_float(params, "shape_keep", RenderSettings.identity),
        occlusion=bool(params.get("occlusion", True)),
    )
    timer = Timer()
    asset, prepared_here = source_asset(inputs, timer)
    reference = reference_embedding(inputs, params, timer, find_face)
    with timer.stage("analyze_target"):
        tgt_face = find_face(images["target"], "target", {"max_yaw": MAX_YAW, **params}, reference=reference)
    if tgt_face.mesh is None:
        raise FaceEngineError("no_face", "the target face's mesh could not be fitted", input="target")
    with timer.stage("swap"):
        image, info = render(asset, images["target"], tgt_face, settings)
    with timer.stage("consistency"):
        score = _consistency(image, tgt_face, asset)
    retried = False
    if score > CONSISTENCY_THRESHOLD:
        retried = True
        stronger = replace(
            settings, identity=min(1.0, settings.identity + 0.25), outline=min(1.0, settings.outline + 0.25),
            tone=max(0.0, settings.tone - 0.3),
        )
        with timer.stage("swap_retry"):
            second, second_info = render(asset, images["target"], tgt_face, stronger)
            second_score = _consistency(second, tgt_face, asset)
        if second_score < score:
            image, info, score, settings = second, second_info, second_score, stronger
    if restore_strength > 0:
        from gpu_worker.engines.restore.enhance import restore_face

        with timer.stage("restore"):
            image = restore_face(image, tgt_face, restore_strength)
    return EngineResult(
        image=image,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "asset": {**asset.summary(), "prepared_in_job": prepared_here},
            "target_face": tgt_face.to_dict(),
            "settings": {
                "shape_keep": settings.identity,
                "outline": settings.outline,
                "tone": settings.tone,
                "occlusion": settings.occlusion,
                "restore": restore_strength,
            },
            "consistency": {
                "distance": score,
                "threshold": CONSISTENCY_THRESHOLD,
                "retried": retried,
                "flagged": score > CONSISTENCY_THRESHOLD,
            },
            **info,
            "timings": timer.timings,
        },
    )
