"""Makeup engine (classical, CPU): transfer makeup from a reference face photo to the target face.

Inputs: ``target`` (the face to make up), ``reference`` (a face wearing the makeup; its largest
face is used, turned up to ``REFERENCE_MAX_YAW`` degrees: a reference turned more than ``FRONTALISE_YAW`` is first
resampled into the frontal face layout through its mesh, the side the camera saw badly filled from the mirror, so the
far eye's shadow and the far cheek's blush are read from the near side).
Params: ``strength`` 0..1 (default 0.8); target face choice (``face_index`` | ``face="largest"``), ``detector``,
``min_face_size``, ``max_yaw``.
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
REFERENCE_MAX_YAW = 55.0  # degrees
FRONTALISE_YAW = 20.0  # degrees; below, the reference photo is read as it is


def frontal_reference(image: np.ndarray, face) -> tuple[np.ndarray, object]:
    """(frontal image of the reference face, its Face with the layout's landmarks) for a turned reference."""
    from dataclasses import replace

    from gpu_worker.face.asset import fill_hidden, unwrap
    from gpu_worker.face.layout import layout68

    texture, visible, _, _ = unwrap(image, face)
    frontal, _ = fill_hidden(texture, visible)
    lm = layout68()
    box = tuple(int(v) for v in (*lm.min(0), *lm.max(0)))
    return frontal, replace(face, box=box, landmarks68=lm, mesh=None)


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
        ref_face = find_face(images["reference"], "reference", {"max_yaw": REFERENCE_MAX_YAW})
    reference, ref_used = images["reference"], ref_face
    frontalised = abs(ref_face.pose.yaw) > FRONTALISE_YAW and ref_face.mesh is not None
    if frontalised:
        with timer.stage("frontalise_reference"):
            reference, ref_used = frontal_reference(reference, ref_face)
    with timer.stage("transfer"):
        image = transfer_makeup(images["target"], tgt_face, reference, ref_used, strength)
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
            "reference_frontalised": frontalised,
            "strength": strength,
            "regions": list(REGIONS),
            "identity_distance": round(dist, 4),
            "timings": timer.timings,
        },
    )
