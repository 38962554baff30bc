"""Makeup engine (classical, CPU): transfer makeup from a reference face photo to the target face.

Inputs: ``target`` (the face to make up), ``reference`` (a face wearing the makeup; its largest
face is used). Params: ``strength`` 0..1 (default 0.8); target face choice (``face_index`` |
``face="largest"``), ``detector``, ``min_face_size``, ``max_yaw``.
Identity guard: the dlib distance between the input face and the made-up face must stay below
0.3, otherwise ``identity_check_failed`` (nothing is returned). Other codes: ``no_face``,
``face_too_small``, ``face_turned``, ``bad_parameter``, ``license_restricted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import EngineResult, FaceEngineError, Timer, check_params, require_inputs, unit_float
from gpu_worker.engines.common import SELECT_PARAMS, find_face
from gpu_worker.engines.makeup.transfer import REGIONS, transfer_makeup

NAME = "makeup"
VERSION = "classical-1.0"
INPUTS = ("target", "reference")
PARAMS = SELECT_PARAMS | {"strength"}
MAX_IDENTITY_DISTANCE = 0.3


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Apply the reference's makeup to the chosen target face and check identity is preserved."""
    params = check_params(params, PARAMS)
    images = require_inputs(inputs, INPUTS)
    strength = unit_float(params, "strength", 0.8)
    timer = Timer()
    from gpu_worker.face.detect import face_at
    from gpu_worker.face.embed import distance, embedding

    with timer.stage("analyze"):
        tgt_face = find_face(images["target"], "target", params)
        ref_face = find_face(images["reference"], "reference", {"max_yaw": params.get("max_yaw", 40)})
    with timer.stage("transfer"):
        image = transfer_makeup(images["target"], tgt_face, images["reference"], ref_face, strength)
    with timer.stage("identity_check"):
        # Landmarks are refitted in the same box: makeup must not move them, and re-detection could
        # pick a different face in a group photo.
        after = face_at(image, tgt_face.box)
        dist = distance(embedding(images["target"], tgt_face), embedding(image, after))
    if dist >= MAX_IDENTITY_DISTANCE:
        raise FaceEngineError(
            "identity_check_failed", f"makeup changed the identity too much (distance {dist:.3f} >= 0.3)"
        )
    return EngineResult(
        image=image,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "target_face": tgt_face.to_dict(),
            "reference_face": ref_face.to_dict(),
            "strength": strength,
            "regions": list(REGIONS),
            "identity_distance": round(dist, 4),
            "timings": timer.timings,
        },
    )
