"""Helpers several engines share: finding the face to work on, with the size and yaw checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import FaceEngineError, choice, optional_int
from gpu_worker.face.detect import MAX_YAW, MIN_FACE_SIZE, Face, analyze, check_usable
from gpu_worker.face.select import select_face

SELECT_PARAMS = {"face_index", "face", "detector", "min_face_size", "max_yaw"}


def limits(params: dict[str, Any]) -> tuple[int, float]:
    """(minimum face size px, yaw limit degrees) from params, defaulting to the documented limits."""
    min_size = optional_int(params, "min_face_size", low=16)
    max_yaw = params.get("max_yaw", MAX_YAW)
    if isinstance(max_yaw, bool) or not isinstance(max_yaw, int | float) or not 0 < max_yaw <= 90:
        raise FaceEngineError("bad_parameter", f"max_yaw must be in (0, 90] degrees, got {max_yaw!r}")
    return (min_size if min_size is not None else MIN_FACE_SIZE), float(max_yaw)


def find_face(
    image: np.ndarray,
    role: str,
    params: dict[str, Any] | None = None,
    *,
    reference: np.ndarray | None = None,
    min_size: int | None = None,
) -> Face:
    """Detect faces in ``image`` and return the chosen one, checked for size and yaw.

    ``params`` may hold ``face_index`` (0 = leftmost), ``face`` ("largest" | "similar"), ``detector``
    ("hog" | "mmod"), ``min_face_size`` and ``max_yaw``; ``face="similar"`` needs ``reference`` (an
    embedding). Raises ``no_face``, ``face_too_small``, ``face_turned`` or ``bad_parameter``.
    """
    params = params or {}
    detector = choice(params, "detector", ("hog", "mmod"), "hog")
    mode = choice(params, "face", ("largest", "similar"), None)
    index = optional_int(params, "face_index")
    if mode == "similar" and reference is None:
        raise FaceEngineError("bad_parameter", 'face="similar" needs a reference face image')
    try:
        faces = analyze(image, detector=detector)
        face = select_face(
            faces,
            index=index,
            largest=mode == "largest",
            reference=reference if mode == "similar" else None,
            image=image,
            role=role,
        )
        size, yaw = limits(params)
        check_usable(face, role, min_size=min_size or size, max_yaw=yaw)
        face.require_dense()
    except FaceEngineError as exc:
        if exc.input is None and exc.code != "bad_parameter":
            exc.input = role
        raise
    return face
