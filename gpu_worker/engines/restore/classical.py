"""Restore engine (classical, CPU): enhance a face (denoise, detail, upscaling) and paste it back.

Inputs: ``image``. Params: ``strength`` 0..1 (default 0.6); ``upscale`` 1, 2 or 4 (output size
factor, default 1); ``all_faces`` (bool, default False: only the chosen face); face choice as in
swap (``face_index`` | ``face="largest"``), ``detector``, ``min_face_size``, ``max_yaw`` (default 90
here: restoring a profile face is harmless). Fails with ``no_face``, ``face_too_small``,
``bad_parameter``, ``license_restricted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import EngineResult, FaceEngineError, Timer, check_params, require_inputs, unit_float
from gpu_worker.engines.common import SELECT_PARAMS, find_face, limits
from gpu_worker.engines.restore.enhance import restore_face

NAME = "restore"
VERSION = "classical-1.0"
INPUTS = ("image",)
PARAMS = SELECT_PARAMS | {"strength", "upscale", "all_faces"}


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Restore the chosen face (or every usable face) of ``inputs["image"]``."""
    params = dict(check_params(params, PARAMS))
    params.setdefault("max_yaw", 90)
    image = require_inputs(inputs, INPUTS)["image"]
    strength = unit_float(params, "strength", 0.6)
    upscale = params.get("upscale", 1)
    if upscale not in (1, 2, 4) or isinstance(upscale, bool):
        raise FaceEngineError("bad_parameter", f"upscale must be 1, 2 or 4, got {upscale!r}")
    timer = Timer()
    with timer.stage("analyze"):
        if params.get("all_faces"):
            from gpu_worker.face.detect import analyze

            min_size, _ = limits(params)
            faces = [f for f in analyze(image) if f.size >= min_size and f.landmarks68 is not None]
            if not faces:
                raise FaceEngineError("no_face", f"no face of at least {min_size}px in the image")
        else:
            faces = [find_face(image, "image", params)]
    with timer.stage("restore"):
        out = image
        for i, face in enumerate(faces):
            # Upscale once (first face), then work on the enlarged image with scaled landmarks.
            out = restore_face(out, face if i == 0 else face.scaled(upscale), strength, upscale if i == 0 else 1)
    return EngineResult(
        image=out,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "faces": [f.to_dict() for f in faces],
            "strength": strength,
            "upscale": upscale,
            "timings": timer.timings,
        },
    )

