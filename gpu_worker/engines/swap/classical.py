"""Swap engine (classical, CPU): put the virtual model's face (``source``) into a product shot (``target``).

Inputs: ``source`` (the virtual model face), ``target`` (the product shot), optional ``reference``
(a photo of the person to replace, for ``face="similar"``).
Params: ``face_index`` | ``face`` ("largest" default, "similar") to choose the target face;
``restore`` (0..1, 0 = off) runs the restore engine on the swapped face; ``shape_keep`` (0..1);
``occlusion`` (bool); ``detector``; ``min_face_size``; ``max_yaw``.
Fails with ``no_face``, ``face_too_small`` (target < 36 px, source < 80 px by default),
``face_turned`` (|yaw| > 40 degrees), ``bad_parameter``, ``license_restricted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import EngineResult, Timer, check_params, require_inputs, unit_float
from gpu_worker.engines.common import SELECT_PARAMS, find_face
from gpu_worker.engines.swap.blend_face import SwapSettings, swap_face
from gpu_worker.engines.swap.reference import SOURCE_SELECT, reference_embedding

NAME = "swap"
VERSION = "classical-1.0"
INPUTS = ("source", "target")
MIN_SOURCE_SIZE = 80  # px; the virtual model's face bounds the detail the result can have
PARAMS = SELECT_PARAMS | {"restore", "shape_keep", "occlusion"}


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Swap the largest face of ``source`` into the chosen face of ``target``; see the module doc."""
    params = check_params(params, PARAMS)
    images = require_inputs(inputs, INPUTS)
    restore_strength = unit_float(params, "restore", 0.0)
    settings = SwapSettings(
        shape_keep=unit_float(params, "shape_keep", SwapSettings.shape_keep),
        occlusion=bool(params.get("occlusion", True)),
    )
    timer = Timer()

    with timer.stage("analyze_source"):
        src_params = {k: params[k] for k in SOURCE_SELECT if k in params}
        src_face = find_face(images["source"], "source", src_params, min_size=MIN_SOURCE_SIZE)
    reference = reference_embedding(inputs, params, timer, find_face)
    with timer.stage("analyze_target"):
        tgt_face = find_face(images["target"], "target", params, reference=reference)
    with timer.stage("swap"):
        image, info = swap_face(images["source"], src_face, images["target"], tgt_face, settings)
    if restore_strength > 0:
        from gpu_worker.engines.restore.enhance import restore_face

        with timer.stage("restore"):
            image = restore_face(image, tgt_face, restore_strength)
    return EngineResult(
        image=image,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "source_face": src_face.to_dict(),
            "target_face": tgt_face.to_dict(),
            "settings": {
                "shape_keep": settings.shape_keep,
                "occlusion": settings.occlusion,
                "restore": restore_strength,
            },
            **info,
            "timings": timer.timings,
        },
    )
