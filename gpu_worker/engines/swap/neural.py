"""Neural swap (FaceShifter): put the virtual model's face (``source``) into a product shot (``target``).

Procedure, per job:

1. Detect the source face and the selected target face(s); FFHQ-align all of them at 256.
2. Identity: IR-SE50 ArcFace on the centre 218 px of each 256 crop resized to 112 (FaceShifter's
   convention: ``x[:, :, 19:237, 19:237]``, bilinear, align_corners=True), L2-normalised.
3. AEI-Net(Xt, z_source) -> Y. With HEAR-Net installed, the same forward also reconstructs each target
   with its own identity (Y_tt), and HEAR-Net refines ``cat(Y, Xt - Y_tt)`` as in FaceShifter's
   ``train_HEAR.py`` (the error of the reconstruction marks occlusions AEI-Net cannot carry).
4. Paste back through the inverse affine with a feathered mask: BiSeNet parsing when installed and
   consistent with the landmarks, else the classical landmark mask with occlusion removal.

Every stage is one batched forward over all faces of the image (source and targets together for
ArcFace, Y and Y_tt together for AEI-Net); ``run_batch`` does the same across many product shots.
Inputs/params/errors as the classical swap engine, plus ``all_faces`` / ``face="all"`` (swap every
usable face) and ``hear`` (bool, default True).
``shape_keep`` is accepted for compatibility and ignored (AEI-Net keeps the target's shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gpu_worker.engines import session as common
from gpu_worker.engines.base import EngineResult, Timer, check_params, require_inputs, unit_float
from gpu_worker.engines.face_crops import (
    SELECT_PARAMS,
    Crop,
    align_faces,
    feathered,
    find_faces,
    landmark_mask,
    paste_back,
    to_images,
    to_tensor,
)
from gpu_worker.engines.parsing import choose_mask, parse_faces
from gpu_worker.engines.swap.reference import SOURCE_SELECT, reference_embedding
from gpu_worker.face.detect import Face

NAME = "swap"
ENGINE = "neural-faceshifter"
VERSION = "neural-faceshifter-1.0"
INPUTS = ("source", "target")
REQUIRED_MODELS = ("arcface_ir_se50", "aei_net")
OPTIONAL_MODELS = ("hear_net", "bisenet_parsing", "gpen")
PARAMS = SELECT_PARAMS | {"restore", "shape_keep", "occlusion", "hear"}
CROP = 256
MIN_SOURCE_SIZE = 80
MAX_BATCH = 32  # faces per forward (AEI-Net sees twice as many with HEAR-Net's reconstruction)


def identity(arcface, x):
    """ArcFace embeddings [N, 512] of aligned 256 crops ``x`` [N, 3, 256, 256] in [-1, 1]."""
    import torch.nn.functional as F

    inner = x[:, :, 19:237, 19:237]
    return arcface(F.interpolate(inner, size=(112, 112), mode="bilinear", align_corners=True)).float()


def swap_batch(session: common.Session, xs, owner, xt, use_hear: bool):
    """Sources ``xs`` [S, 3, 256, 256], ``owner`` [F] (the source index of each target face) and target
    crops ``xt`` [F, 3, 256, 256] -> (Y [F, 3, 256, 256], identity cosine of each result to its source [F]).

    Every model sees all faces at once (in chunks of ``MAX_BATCH`` faces). Call inside ``runtime.inference``.
    """
    import torch

    arcface = session.model("arcface_ir_se50").module
    aei = session.model("aei_net").module
    hear = session.optional("hear_net") if use_hear else None
    emb = torch.cat([identity(arcface, c) for c in torch.cat([xs, xt]).split(MAX_BATCH)])
    z_source, z_target = emb[: len(xs)][owner], emb[len(xs) :]
    outputs = []
    for start in range(0, len(xt), MAX_BATCH):
        x, zs, zt = (t[start : start + MAX_BATCH] for t in (xt, z_source, z_target))
        if hear is None:
            outputs.append(aei(x, zs)[0].float())
            continue
        # One AEI-Net forward gives both the swap (source identity) and the reconstruction (own identity).
        y_both, _ = aei(torch.cat([x, x]), torch.cat([zs, zt]))
        y_st, y_tt = y_both[: len(x)], y_both[len(x) :]
        outputs.append(hear.module(torch.cat([y_st, x - y_tt], dim=1)).float())
    y = torch.cat(outputs)
    check = torch.cat([identity(arcface, c) for c in y.split(MAX_BATCH)])
    return y, (check * z_source).sum(1)


@dataclass
class _Shot:
    """One (source, target) pair after analysis and alignment."""

    images: dict[str, np.ndarray]
    source_face: Face
    targets: list[Face]
    source_crop: Crop
    crops: list[Crop]
    timer: Timer


def _analyze(inputs: dict[str, np.ndarray], params: dict[str, Any]) -> _Shot:
    images = require_inputs(inputs, INPUTS)
    timer = Timer()
    with timer.stage("analyze_source"):
        src_params = {k: params[k] for k in SOURCE_SELECT if k in params}
        src_face = find_faces(images["source"], "source", src_params, min_size=MIN_SOURCE_SIZE)[0]
    reference = reference_embedding(inputs, params, timer, lambda image, role, p: find_faces(image, role, p)[0])
    with timer.stage("analyze_target"):
        targets = find_faces(images["target"], "target", params, reference=reference)
    with timer.stage("align"):
        src_crop = align_faces(images["source"], [src_face], CROP)[0]
        crops = align_faces(images["target"], targets, CROP)
    return _Shot(images, src_face, targets, src_crop, crops, timer)


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Swap the source's largest face into the chosen target face(s); see the module doc."""
    return run_batch([inputs], params)[0]


def run_batch(items: list[dict[str, np.ndarray]], params: dict[str, Any] | None = None) -> list[EngineResult]:
    """``run`` for many (source, target) pairs with the same params (e.g. one virtual model, 50 product
    shots): every face of every shot goes through each model together, in chunks of ``MAX_BATCH``.

    Any shot's ``FaceEngineError`` fails the whole batch (run shots one by one to isolate failures).
    """
    import torch

    from gpu_worker.engines.runtime import inference

    params = check_params(params, PARAMS)
    restore_strength = unit_float(params, "restore", 0.0)
    occlusion = bool(params.get("occlusion", True))
    session = common.start(REQUIRED_MODELS + OPTIONAL_MODELS)
    shots = [_analyze(inputs, params) for inputs in items]
    batch = Timer()
    with batch.stage("load_models"):
        for name in REQUIRED_MODELS:
            session.model(name)
        parser = session.optional("bisenet_parsing")
    crops = [c for shot in shots for c in shot.crops]
    with batch.stage("swap"), inference(session.device, session.dtype):
        xs = to_tensor([shot.source_crop.image for shot in shots], session.device)
        owner = torch.tensor([i for i, shot in enumerate(shots) for _ in shot.crops], device=session.device)
        xt = to_tensor([c.image for c in crops], session.device)
        y, cosine = swap_batch(session, xs, owner, xt, bool(params.get("hear", True)))
        patches = to_images(y)
    with batch.stage("mask"):
        parsed: list = [None] * len(crops)
        if parser is not None:
            parsed = [m for i in range(0, len(crops), MAX_BATCH)
                      for m in parse_faces([c.image for c in crops[i : i + MAX_BATCH]], parser, session.dtype)]
        chosen = [choose_mask(p, landmark_mask(c, occlusion=occlusion)) for c, p in zip(crops, parsed)]
    results, start = [], 0
    for shot in shots:
        n = len(shot.crops)
        with shot.timer.stage("paste"):
            image, boxes = paste_back(shot.images["target"], patches[start : start + n], shot.crops,
                                      [feathered(m) for m, _ in chosen[start : start + n]])
        restored = None
        if restore_strength > 0:
            with shot.timer.stage("restore"):
                image, restored = _restore(session, image, shot.targets, restore_strength)
        metadata = session.metadata(ENGINE, VERSION)
        metadata.update(
            source_face=shot.source_face.to_dict(),
            target_faces=[f.to_dict() for f in shot.targets],
            paste_boxes=boxes,
            masks=[used for _, used in chosen[start : start + n]],
            identity_cosine=[round(float(c), 4) for c in cosine[start : start + n].cpu()],
            settings={"occlusion": occlusion, "restore": restore_strength, "hear": "hear_net" in session.models,
                      "restored_with": restored},
            batch={"shots": len(shots), "faces": len(crops)},
            timings={**shot.timer.timings, **batch.timings},
        )
        results.append(EngineResult(image=image, metadata=metadata))
        start += n
    return results


def _restore(session: common.Session, image: np.ndarray, faces, strength: float) -> tuple[np.ndarray, str]:
    """Restore the swapped faces: GPEN when installed, else the classical enhancer."""
    if session.source.available("gpen"):
        from gpu_worker.engines.restore.neural import restore_faces

        return restore_faces(session, image, faces, strength)[0], "gpen"
    from gpu_worker.engines.restore.enhance import restore_face

    for face in faces:
        image = restore_face(image, face, strength)
    return image, "classical"
