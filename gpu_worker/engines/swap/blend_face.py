"""The classical swap itself: dense warp, colour/lighting match, occlusion-aware mask, pyramid blend.

In: source image + its ``Face`` (the virtual model), target image + its ``Face``. Out: the target
image with the face replaced, same size. Works in a crop around the target face; small faces are
processed upscaled so the mask and blend have enough pixels, then resampled back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_worker.face.blend import feather, match_colour, match_shading, pyramid_blend
from gpu_worker.face.detect import Face
from gpu_worker.face.mask import face_mask, feature_mask
from gpu_worker.face.mesh import (
    EYE_L,
    EYE_R,
    JAW,
    MOUTH_INNER,
    NOSE,
    dense_points,
    face_axes,
    outline_polygon,
    piecewise_affine,
    similarity_fit,
    triangulate,
)

WORK_SCALE = 220.0  # px eye-to-chin in the working crop; smaller faces are upscaled to this
STABLE = EYE_L + EYE_R + NOSE  # rigid enough to carry pose from target to source
FOREHEAD = 0.6  # share of the forehead arc (see mesh.forehead_points) that the swap replaces


@dataclass(frozen=True)
class SwapSettings:
    # How much of the source's face shape survives (identity vs. fit to the target's landmarks);
    # 0.35 is where bench/face_quality.py meets both the identity and the landmark goals.
    shape_keep: float = 0.35
    jaw_keep: float = 0.3  # the jaw follows the target more, so the face fits the head and hair
    occlusion: bool = True


def destination_landmarks(lm_src: np.ndarray, lm_tgt: np.ndarray, settings: SwapSettings) -> np.ndarray:
    """Where the source's landmarks go in the target: the target's pose and expression, with part of
    the source's proportions (which carry identity) kept. The inner lips always follow the target so
    its mouth interior (teeth, tongue) stays aligned."""
    sim = similarity_fit(lm_src[STABLE], lm_tgt[STABLE])
    src_in_tgt = lm_src @ sim[:, :2].T + sim[:, 2]
    keep = np.full(68, settings.shape_keep)
    keep[JAW] = settings.jaw_keep
    keep[MOUTH_INNER] = 0.0
    # Keep the target's mouth opening: the source's own inner/outer lip offsets are applied around it.
    dst = lm_tgt + keep[:, None] * (src_in_tgt - lm_tgt)
    return dst


def mouth_open(lm68: np.ndarray) -> bool:
    """True if the inner lips are apart by more than 4 % of the face height."""
    _, _, scale = face_axes(lm68)
    gap = np.linalg.norm(lm68[[61, 62, 63]] - lm68[[67, 66, 65]], axis=1).mean()
    return bool(gap > 0.04 * scale)


def close_mouth(image: np.ndarray, lm68: np.ndarray) -> np.ndarray:
    """Inpaint the open mouth's interior with the surrounding lip colour.

    The warp squeezes an open source mouth shut on a closed target mouth, but dlib's inner-lip
    points do not trace the teeth exactly, so tooth fragments would survive along the lip line.
    """
    import cv2

    hole = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(hole, [lm68[MOUTH_INNER].round().astype(np.int32)], 255)
    _, _, scale = face_axes(lm68)
    grow = max(3, int(scale * 0.02) | 1)
    hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return cv2.inpaint(image, hole, max(3, int(scale * 0.03)), cv2.INPAINT_TELEA)


def _crop_box(points: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0, y0 = np.floor(points.min(0)).astype(int) - 4
    x1, y1 = np.ceil(points.max(0)).astype(int) + 4
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def _match_colours(
    warped: np.ndarray, work: np.ndarray, mask: np.ndarray, lm_dst: np.ndarray, lm_tw: np.ndarray, scale: float
) -> np.ndarray:
    """Match skin statistics (features excluded, they would bias the means), then lighting; ``scale`` is the
    face scale in the working image."""
    import cv2

    skin = mask & ~feature_mask(work.shape[:2], lm_dst) & ~feature_mask(work.shape[:2], lm_tw)
    # Eye whites and teeth must not take the skin's colour shift (they would turn blue or green).
    keep = np.zeros(work.shape[:2], np.uint8)
    for group in (EYE_L, EYE_R, MOUTH_INNER):
        cv2.fillPoly(keep, [lm_dst[group].round().astype(np.int32)], 255)
    weight = 1.0 - 0.85 * cv2.GaussianBlur(keep.astype(np.float32) / 255.0, (0, 0), scale * 0.01 + 0.5)
    warped = match_colour(warped, skin, work, skin, weight=weight)
    return match_shading(warped, work, mask, sigma=scale * 0.12)


def swap_face(
    source: np.ndarray, src_face: Face, target: np.ndarray, tgt_face: Face, settings: SwapSettings
) -> tuple[np.ndarray, dict]:
    """Return (result image, info) where info has the mask's occluded fraction and mouth handling."""
    import cv2

    lm_s, lm_t = src_face.require_dense(), tgt_face.require_dense()
    x0, y0, x1, y1 = _crop_box(dense_points(lm_t), target.shape)
    crop = target[y0:y1, x0:x1]
    _, _, t_scale = face_axes(lm_t)
    up = float(np.clip(WORK_SCALE / t_scale, 1.0, 4.0))
    work = cv2.resize(crop, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC) if up > 1.0 else crop.copy()
    lm_tw = (lm_t - [x0, y0]) * up

    # Bring the source to the working resolution first: INTER_AREA avoids aliasing when shrinking.
    _, _, s_scale = face_axes(lm_s)
    factor = (t_scale * up) / s_scale
    sx0, sy0, sx1, sy1 = _crop_box(dense_points(lm_s), source.shape)
    src_crop = source[sy0:sy1, sx0:sx1]
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    src_work = cv2.resize(src_crop, None, fx=factor, fy=factor, interpolation=interp)
    lm_sw = (lm_s - [sx0, sy0]) * factor
    if mouth_open(lm_sw) and not mouth_open(lm_tw):
        src_work = close_mouth(src_work, lm_sw)

    lm_dst = destination_landmarks(lm_sw, lm_tw, settings)
    src_pts, dst_pts = dense_points(lm_sw), dense_points(lm_dst)
    dst_pts[-16:] = dense_points(lm_tw)[-16:]  # the margin ring stays on the target
    tris = triangulate(dst_pts)
    warped, covered = piecewise_affine(src_work, src_pts, dst_pts, work.shape[:2], tris)

    # Mask: target face minus its occluders, inside the warped outline, minus the source's own
    # occluders (its hair must not be pasted), minus the target's open mouth interior.
    tgt_mask, occluded = face_mask(work, lm_tw, occlusion=settings.occlusion)
    src_mask, _ = face_mask(src_work, lm_sw, occlusion=settings.occlusion)
    src_mask_w, _ = piecewise_affine(src_mask, src_pts, dst_pts, work.shape[:2], tris)
    dst_outline = np.zeros(work.shape[:2], np.uint8)
    # The upper forehead is where the source's fringe hides and carries little identity: the
    # target keeps it, which also keeps the target's hairline.
    cv2.fillPoly(dst_outline, [outline_polygon(dst_pts, forehead=FOREHEAD)], 255)
    mask = tgt_mask & dst_outline & covered & np.where(src_mask_w > 127, 255, 0).astype(np.uint8)
    open_mouth = mouth_open(lm_tw)
    if open_mouth:
        cv2.fillPoly(mask, [lm_tw[MOUTH_INNER].round().astype(np.int32)], 0)

    warped = _match_colours(warped, work, mask, lm_dst, lm_tw, t_scale * up)

    alpha = feather(mask, radius=t_scale * up * 0.035)
    blended = pyramid_blend(warped, work, alpha)
    if up > 1.0:
        blended = cv2.resize(blended, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    out = target.copy()
    region = out[y0:y1, x0:x1]
    # Paste only where the blend touched; elsewhere the target is bit-exact.
    touched = cv2.dilate((alpha > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    region[touched] = blended[touched]
    info = {"occluded_fraction": round(occluded, 4), "target_mouth_open": open_mouth, "work_scale": round(up, 3)}
    return out, info
