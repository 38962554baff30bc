"""Neural restore (GPEN): FFHQ-align the face(s) at the model's size, restore them in one batched
forward, blend with ``strength`` and paste back with a feathered square mask (GPEN restores the whole
aligned crop, so the mask is the crop minus a margin, not a face outline).

Inputs: ``image``. Params as the classical restore engine: ``strength`` 0..1 (default 0.6),
``upscale`` 1, 2 or 4 (bicubic upscale of the photo before the faces are restored), ``all_faces``,
face choice (``face_index`` | ``face``), ``detector``, ``min_face_size``, ``max_yaw`` (default 90).
Fails with ``no_face``, ``face_too_small``, ``bad_parameter``. ``run_batch`` restores many images with
one GPEN forward per ``MAX_BATCH`` faces.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines import session as common
from gpu_worker.engines.base import EngineResult, FaceEngineError, Timer, check_params, require_inputs, unit_float
from gpu_worker.engines.face_crops import (
    SELECT_PARAMS,
    align_faces,
    box_mask,
    feathered,
    find_faces,
    paste_back,
    to_images,
    to_tensor,
)
from gpu_worker.face.detect import Face

NAME = "restore"
ENGINE = "neural-gpen"
VERSION = "neural-gpen-1.0"
INPUTS = ("image",)
REQUIRED_MODELS = ("gpen",)
PARAMS = SELECT_PARAMS | {"strength", "upscale"}
MAX_BATCH = 32  # faces per GPEN forward


def restore_many(
    session: common.Session, images: list[np.ndarray], faces: list[list[Face]], strength: float
) -> list[tuple[np.ndarray, list[list[int]]]]:
    """Restore ``faces[i]`` of ``images[i]`` for every i with GPEN: all faces of all images go through the
    model together (chunks of ``MAX_BATCH``) -> per image (restored image, paste boxes)."""
    import torch

    from gpu_worker.engines.runtime import inference

    gpen = session.model("gpen")
    size = gpen.module.size
    crops = [align_faces(image, fs, size) for image, fs in zip(images, faces)]
    flat = [c for per_image in crops for c in per_image]
    with inference(session.device, session.dtype):
        x = to_tensor([c.image for c in flat], session.device)
        restored = torch.cat([gpen.module(chunk)[0].float() for chunk in x.split(MAX_BATCH)])
        patches = to_images(restored)
    if strength < 1.0:
        patches = [
            np.clip(c.image * (1 - strength) + p.astype(np.float32) * strength + 0.5, 0, 255).astype(np.uint8)
            for c, p in zip(flat, patches)
        ]
    alpha = feathered(box_mask(size))
    out, start = [], 0
    for image, per_image in zip(images, crops):
        n = len(per_image)
        out.append(paste_back(image, patches[start : start + n], per_image, [alpha] * n))
        start += n
    return out


def restore_faces(
    session: common.Session, image: np.ndarray, faces: list[Face], strength: float
) -> tuple[np.ndarray, list[list[int]]]:
    """Restore ``faces`` of ``image`` with GPEN (one forward for all) -> (image, paste boxes)."""
    return restore_many(session, [image], [faces], strength)[0]


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Restore the chosen face (or every usable face) of ``inputs["image"]``; see the module doc."""
    return run_batch([inputs], params)[0]


def run_batch(items: list[dict[str, np.ndarray]], params: dict[str, Any] | None = None) -> list[EngineResult]:
    """``run`` for many images with the same params: all their faces share each GPEN forward.
    Any image's ``FaceEngineError`` fails the whole batch."""
    params = dict(check_params(params, PARAMS))
    params.setdefault("max_yaw", 90)
    strength = unit_float(params, "strength", 0.6)
    upscale = params.get("upscale", 1)
    if upscale not in (1, 2, 4) or isinstance(upscale, bool):
        raise FaceEngineError("bad_parameter", f"upscale must be 1, 2 or 4, got {upscale!r}")
    session = common.start(REQUIRED_MODELS)
    images, faces, timers = [], [], []
    for inputs in items:
        timer = Timer()
        image = require_inputs(inputs, INPUTS)["image"]
        with timer.stage("analyze"):
            found = find_faces(image, "image", params)
        if upscale > 1:
            import cv2

            with timer.stage("upscale"):
                image = cv2.resize(image, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC)
                found = [f.scaled(upscale) for f in found]
        images.append(image)
        faces.append(found)
        timers.append(timer)
    batch = Timer()
    with batch.stage("load_models"):
        session.model("gpen")
    with batch.stage("restore"):
        restored = restore_many(session, images, faces, strength)
    results = []
    for (out, boxes), found, timer in zip(restored, faces, timers):
        metadata = session.metadata(ENGINE, VERSION)
        metadata.update(
            faces=[f.to_dict() for f in found],
            paste_boxes=boxes,
            strength=strength,
            upscale=upscale,
            batch={"images": len(images), "faces": sum(len(f) for f in faces)},
            timings={**timer.timings, **batch.timings},
        )
        results.append(EngineResult(image=out, metadata=metadata))
    return results
