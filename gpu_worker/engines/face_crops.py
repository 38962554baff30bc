"""Face crops for the neural engines: find faces, FFHQ-align them as one batch, paste results back.

Detection, landmarks, FFHQ alignment, masks and feathering come from ``gpu_worker.face``; this module
only batches them and does the inverse warp. Paste-back guarantee: a pixel whose warped alpha is 0 is
bit-exact with the input, so everything outside the (feathered) face mask is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gpu_worker.engines.base import FaceEngineError, choice, optional_int
from gpu_worker.engines.common import limits
from gpu_worker.face.align import ALIGN_SIZES, align_face, transform_points
from gpu_worker.face.detect import Face, analyze, check_usable
from gpu_worker.face.select import select_face

SELECT_PARAMS = {"face_index", "face", "all_faces", "detector", "min_face_size", "max_yaw"}


@dataclass
class Crop:
    """One aligned face: ``image`` (S, S, 3) uint8 and ``matrix`` (2x3) mapping photo pixels to crop pixels."""

    face: Face
    image: np.ndarray
    matrix: np.ndarray

    @property
    def size(self) -> int:
        return self.image.shape[0]


def find_faces(
    image: np.ndarray,
    role: str,
    params: dict[str, Any],
    *,
    reference: np.ndarray | None = None,
    min_size: int | None = None,
) -> list[Face]:
    """The faces to process: every usable face with ``all_faces`` (or ``face="all"``), else the one chosen
    by ``face_index`` / ``face="largest"`` / ``face="similar"`` (needs ``reference``, a dlib embedding).

    Raises ``no_face``, ``face_too_small``, ``face_turned`` or ``bad_parameter``.
    """
    detector = choice(params, "detector", ("hog", "mmod"), "hog")
    mode = choice(params, "face", ("largest", "similar", "all"), None)
    index = optional_int(params, "face_index")
    size, yaw = limits(params)
    size = min_size or size
    faces = analyze(image, detector=detector)
    if params.get("all_faces") or mode == "all":
        usable = [f for f in faces if f.size >= size and abs(f.pose.yaw) <= yaw]
        if not usable:
            raise FaceEngineError("no_face", f"no usable face (>= {size}px, |yaw| <= {yaw:.0f}) in the {role} image",
                                  input=role)
        return usable
    if mode == "similar" and reference is None:
        raise FaceEngineError("bad_parameter", 'face="similar" needs a "reference" input image')
    face = select_face(
        faces, index=index, largest=mode == "largest", reference=reference if mode == "similar" else None,
        image=image, role=role,
    )
    check_usable(face, role, min_size=size, max_yaw=yaw)
    return [face]


def align_faces(image: np.ndarray, faces: list[Face], size: int) -> list[Crop]:
    """FFHQ-aligned ``size`` x ``size`` crops. Sizes other than 256/512/1024 are aligned at the next
    larger supported size and resized (area filter), with the matrix scaled to match."""
    import cv2

    base = next((s for s in ALIGN_SIZES if s >= size), ALIGN_SIZES[-1])
    crops = []
    for face in faces:
        crop, matrix = align_face(image, face, base)
        if base != size:
            crop = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if size < base else cv2.INTER_CUBIC)
            matrix = matrix * (size / base)
        crops.append(Crop(face, crop, np.asarray(matrix, dtype=np.float64)))
    return crops


def to_tensor(images: list[np.ndarray], device: str):
    """RGB uint8 images (S, S, 3) -> float32 tensor [N, 3, S, S] in [-1, 1] on ``device``."""
    import torch

    batch = torch.from_numpy(np.stack(images)).to(device)
    return batch.permute(0, 3, 1, 2).contiguous().float().div(127.5).sub(1.0)


def to_images(batch) -> list[np.ndarray]:
    """Tensor [N, 3, S, S] in [-1, 1] (any float dtype, any device) -> list of RGB uint8 (S, S, 3)."""
    x = batch.detach().float().clamp(-1, 1).add(1).mul(127.5).round().to("cpu").byte()
    return list(x.permute(0, 2, 3, 1).contiguous().numpy())


def landmark_mask(crop: Crop, *, occlusion: bool = True) -> np.ndarray:
    """Classical face mask (uint8, crop space) from the 68 landmarks, occluders removed; without dense
    landmarks (commercial-only mode) an ellipse over the FFHQ face region."""
    import cv2

    s = crop.size
    if crop.face.landmarks68 is not None:
        from gpu_worker.face.mask import face_mask

        return face_mask(crop.image, transform_points(crop.face.landmarks68, crop.matrix), occlusion=occlusion)[0]
    mask = np.zeros((s, s), np.uint8)
    cv2.ellipse(mask, (s // 2, int(s * 0.56)), (int(s * 0.26), int(s * 0.34)), 0, 0, 360, 255, -1)
    return mask


def box_mask(size: int, margin: float = 0.06) -> np.ndarray:
    """A square mask (uint8) inset by ``margin`` of the side: GPEN-style paste of the whole aligned crop."""
    mask = np.zeros((size, size), np.uint8)
    m = int(round(size * margin))
    mask[m : size - m, m : size - m] = 255
    return mask


def feathered(mask: np.ndarray, fraction: float = 0.025) -> np.ndarray:
    """Float alpha in [0, 1]: eroded and blurred by ``fraction`` of the side, so seams fade inside the face."""
    from gpu_worker.face.blend import feather

    return feather(mask, max(1.0, mask.shape[0] * fraction))


def paste_back(image: np.ndarray, patches: list[np.ndarray], crops: list[Crop], alphas: list[np.ndarray]) -> tuple[
    np.ndarray, list[list[int]]
]:
    """Warp each patch (crop space) back into ``image`` through the inverse affine and alpha-blend it.

    Returns (new image, per-face box [x0, y0, x1, y1) of the pixels the alpha touches). Pixels with alpha
    0 keep their exact input values.
    """
    import cv2

    out = image.copy()
    h, w = image.shape[:2]
    boxes = []
    for patch, crop, alpha in zip(patches, crops, alphas):
        inverse = cv2.invertAffineTransform(crop.matrix.astype(np.float64))
        s = crop.size
        corners = transform_points(np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float64), inverse)
        x0, y0 = np.floor(corners.min(0)).astype(int) - 2
        x1, y1 = np.ceil(corners.max(0)).astype(int) + 2
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 <= x0 or y1 <= y0:
            boxes.append([0, 0, 0, 0])
            continue
        shifted = inverse.copy()
        shifted[:, 2] -= (x0, y0)
        size = (x1 - x0, y1 - y0)
        warped = cv2.warpAffine(patch, shifted, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        a = cv2.warpAffine(alpha.astype(np.float32), shifted, size, flags=cv2.INTER_LINEAR, borderValue=0.0)
        a = np.clip(a, 0.0, 1.0)[..., None]
        region = out[y0:y1, x0:x1].astype(np.float32)
        blended = np.clip(region * (1 - a) + warped.astype(np.float32) * a + 0.5, 0, 255).astype(np.uint8)
        out[y0:y1, x0:x1] = np.where(a > 0, blended, out[y0:y1, x0:x1])
        ys, xs = np.nonzero(a[..., 0] > 0)
        boxes.append([int(x0 + xs.min()), int(y0 + ys.min()), int(x0 + xs.max() + 1), int(y0 + ys.max() + 1)]
                     if len(xs) else [0, 0, 0, 0])
    return out, boxes


def paste_delta(image: np.ndarray, deltas: list[np.ndarray], crops: list[Crop], alphas: list[np.ndarray]) -> tuple[
    np.ndarray, list[list[int]]
]:
    """Add each crop-space change ``delta`` (float32 (S, S, 3), result - crop) to ``image`` through the
    inverse affine, weighted by ``alpha``. Unlike ``paste_back`` the photo keeps its own detail where the
    face is larger than the crop (the change is low-frequency colour, as in PSGAN's post-processing).
    Returns (new image, per-face touched box); pixels with alpha 0 keep their exact input values.
    """
    import cv2

    out = image.copy()
    h, w = image.shape[:2]
    boxes = []
    for delta, crop, alpha in zip(deltas, crops, alphas):
        inverse = cv2.invertAffineTransform(crop.matrix.astype(np.float64))
        s = crop.size
        corners = transform_points(np.array([[0, 0], [s, 0], [s, s], [0, s]], np.float64), inverse)
        x0, y0 = np.maximum(np.floor(corners.min(0)).astype(int) - 2, 0)
        x1, y1 = np.minimum(np.ceil(corners.max(0)).astype(int) + 2, (w, h))
        if x1 <= x0 or y1 <= y0:
            boxes.append([0, 0, 0, 0])
            continue
        shifted = inverse.copy()
        shifted[:, 2] -= (x0, y0)
        size = (int(x1 - x0), int(y1 - y0))
        d = cv2.warpAffine((delta * alpha[..., None]).astype(np.float32), shifted, size, flags=cv2.INTER_LINEAR)
        a = cv2.warpAffine(alpha.astype(np.float32), shifted, size, flags=cv2.INTER_LINEAR, borderValue=0.0)
        region = out[y0:y1, x0:x1]
        changed = np.clip(region.astype(np.float32) + d + 0.5, 0, 255).astype(np.uint8)
        out[y0:y1, x0:x1] = np.where(a[..., None] > 0, changed, region)
        ys, xs = np.nonzero(a > 0)
        boxes.append([int(x0 + xs.min()), int(y0 + ys.min()), int(x0 + xs.max() + 1), int(y0 + ys.max() + 1)]
                     if len(xs) else [0, 0, 0, 0])
    return out, boxes
