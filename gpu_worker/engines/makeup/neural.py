"""Neural makeup (PSGAN with BiSeNet masks): transfer the reference's makeup to the target face(s).

Procedure, following PSGAN's ``PreProcess`` / ``Solver.test`` / ``PostProcess``:

1. FFHQ-align the target face(s) and the reference face at 256 (PSGAN's own crop is a square around
   the dlib box; the FFHQ crop frames the face similarly and is what the other engines use).
2. BiSeNet parses all crops in one forward; labels are mapped to PSGAN's label space (``PSGAN_LABELS``)
   and the 68 landmarks are moved into the crop, as (y, x), rounded.
3. Regions: lips (labels 7, 9), face skin (1, 6), eyes (the face-skin pixels within 16 px of each eye's
   landmark box, removed from the skin mask); landmark-difference features: for every pixel of a 64 x 64
   grid, its offset to each of the 68 landmarks (136 channels), kept inside each region and L2-normalised.
4. PSGAN(target, reference, masks, features) -> 256 crop, min-max normalised to [0, 1] as ``Solver.test``
   does; the change (result - crop) times ``strength`` is added to the photo through the inverse affine
   within the feathered union of the three regions, so the photo keeps its own detail (PSGAN's
   post-processing adds the source's high frequencies back for the same reason).

PSGAN's attention pairs one source with one reference, so each target face is one forward (the parsing
is still batched). Identity guard as the classical engine: the dlib distance between the face before
and after must stay below 0.3, else ``identity_check_failed``.
Inputs: ``target``, ``reference``. Params: ``strength`` (0..1, default 0.8), face choice (``face_index``,
``face``, ``all_faces``), ``detector``, ``min_face_size``, ``max_yaw``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines import session as common
from gpu_worker.engines.base import EngineResult, FaceEngineError, Timer, check_params, require_inputs, unit_float
from gpu_worker.engines.face_crops import (
    SELECT_PARAMS,
    Crop,
    align_faces,
    feathered,
    find_faces,
    paste_delta,
    to_tensor,
)
from gpu_worker.engines.parsing import parse_labels
from gpu_worker.face.align import transform_points

NAME = "makeup"
ENGINE = "neural-psgan"
VERSION = "neural-psgan-1.0"
INPUTS = ("target", "reference")
REQUIRED_MODELS = ("psgan", "bisenet_parsing")
PARAMS = SELECT_PARAMS | {"strength"}
CROP = 256
DIFF_SIZE = 64
EYE_MARGIN = 16
# BiSeNet label -> PSGAN label (faceutils/mask): 1 face, 2/3 brows, 4/5 eyes, 6 nose, 7 upper lip,
# 8 teeth, 9 lower lip, 10 hair, 11/12 ears, 13 neck.
PSGAN_LABELS = np.array([0, 1, 2, 3, 4, 5, 0, 11, 12, 0, 6, 8, 7, 9, 13, 0, 0, 10, 0], dtype=np.uint8)
LIP, SKIN = (7, 9), (1, 6)
MAX_IDENTITY_DISTANCE = 0.3


def regions(labels: np.ndarray, lms_yx: np.ndarray) -> np.ndarray:
    """PSGAN label map (S, S) + landmarks (68, 2) as (y, x) -> float masks [3, S, S]: lips, skin, eyes."""
    lip = np.isin(labels, LIP).astype(np.float32)
    skin = np.isin(labels, SKIN).astype(np.float32)
    eyes = np.zeros_like(skin)
    for eye in (lms_yx[42:48], lms_yx[36:42]):
        top, left = int(eye[:, 0].min()) - EYE_MARGIN, int(eye[:, 1].min()) - EYE_MARGIN
        bottom, right = int(eye[:, 0].max()) + EYE_MARGIN + 1, int(eye[:, 1].max()) + EYE_MARGIN + 1
        top, left = max(top, 0), max(left, 0)  # a negative start would wrap around in numpy
        eyes[top:bottom, left:right] = skin[top:bottom, left:right]
        skin[top:bottom, left:right] = 0
    return np.stack([lip, skin, eyes])


def landmark_features(masks, lms_yx: np.ndarray):
    """Masks [3, 1, S, S] (torch) + landmarks (y, x) -> [3, 136, 64, 64]: pixel-to-landmark offsets per
    region, L2-normalised over the 136 channels (zero outside the region)."""
    import torch
    import torch.nn.functional as F

    size = masks.shape[-1]
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float64), torch.arange(size, dtype=torch.float64),
                            indexing="ij")
    grid = torch.cat([ys[None].expand(68, -1, -1), xs[None].expand(68, -1, -1)])  # [136, S, S]
    points = torch.from_numpy(np.ascontiguousarray(lms_yx.T.reshape(-1, 1, 1))).double()
    diff = F.interpolate((grid - points)[None].float(), size=(DIFF_SIZE, DIFF_SIZE)).to(masks.device)
    region = F.interpolate(masks.float(), size=(DIFF_SIZE, DIFF_SIZE))
    feats = diff.repeat(3, 1, 1, 1) * region
    norm = feats.norm(dim=1, keepdim=True)
    return feats / torch.where(norm == 0, torch.full_like(norm, 1e10), norm)


def prepare(crop: Crop, labels: np.ndarray, device: str):
    """(image [1, 3, 256, 256] in [-1, 1], masks [3, 1, 256, 256], features [3, 136, 64, 64]) for PSGAN."""
    import torch

    lms = np.round(transform_points(crop.face.require_dense(), crop.matrix)[:, ::-1])
    masks = torch.from_numpy(regions(PSGAN_LABELS[labels], lms))[:, None].to(device)
    return to_tensor([crop.image], device), masks, landmark_features(masks, lms)


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Apply the reference's makeup to the chosen target face(s); see the module doc."""
    from gpu_worker.engines.runtime import inference
    from gpu_worker.face.detect import face_at
    from gpu_worker.face.embed import distance, embedding

    params = check_params(params, PARAMS)
    images = require_inputs(inputs, INPUTS)
    strength = unit_float(params, "strength", 0.8)
    session = common.start(REQUIRED_MODELS)
    timer = Timer()
    with timer.stage("analyze"):
        targets = find_faces(images["target"], "target", params)
        reference = find_faces(images["reference"], "reference", {"max_yaw": params.get("max_yaw", 40)})[0]
        crops = align_faces(images["target"], targets, CROP)
        ref_crop = align_faces(images["reference"], [reference], CROP)[0]
    with timer.stage("load_models"):
        psgan, parser = session.model("psgan"), session.model("bisenet_parsing")
    with timer.stage("parse"):
        labels = parse_labels([c.image for c in crops] + [ref_crop.image], parser, session.dtype)
    deltas, alphas = [], []
    with timer.stage("transfer"):
        s, mask_s, diff_s = prepare(ref_crop, labels[-1], session.device)
        for crop, lab in zip(crops, labels[:-1]):
            c, mask_c, diff_c = prepare(crop, lab, session.device)
            with inference(session.device, session.dtype):
                out = psgan.module(c, s, mask_c.float(), mask_s.float(), diff_c, diff_s)[0].float()
            out = (out - out.min()) / (out.max() - out.min() + 1e-5)  # Solver.test's display normalisation
            result = out.permute(1, 2, 0).cpu().numpy() * 255.0
            deltas.append((result - crop.image.astype(np.float32)) * strength)
            union = (mask_c[:, 0].amax(0) > 0).cpu().numpy().astype(np.uint8) * 255
            alphas.append(feathered(union) if union.any() else np.zeros(union.shape, np.float32))
    with timer.stage("paste"):
        image, boxes = paste_delta(images["target"], deltas, crops, alphas)
    with timer.stage("identity_check"):
        dists = []
        for face in targets:
            before = embedding(images["target"], face)
            after = embedding(image, face_at(image, face.box))
            dists.append(round(distance(before, after), 4))
    if max(dists) >= MAX_IDENTITY_DISTANCE:
        raise FaceEngineError("identity_check_failed",
                              f"makeup changed who the person looks like (dlib distance {max(dists):.3f} >= 0.3)")
    metadata = session.metadata(ENGINE, VERSION)
    metadata.update(
        strength=strength, target_faces=[f.to_dict() for f in targets], reference_face=reference.to_dict(),
        paste_boxes=boxes, identity_distances=dists, timings=timer.timings,
    )
    return EngineResult(image=image, metadata=metadata)
