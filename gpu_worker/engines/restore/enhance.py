"""Classical face restoration: edge-preserving denoise, detail recovery and upscaling of the face.

In: an RGB image and a ``Face`` in it; ``strength`` 0..1. Out: the same-size image with the face
region enhanced and pasted back through a feathered mask (0 returns the input unchanged).
Small faces are processed at an upscaled working size (Lanczos), which is where the denoiser and
the sharpening can tell detail from noise, then resampled back.
"""

from __future__ import annotations

import numpy as np

from gpu_worker.face.blend import feather
from gpu_worker.face.detect import Face
from gpu_worker.face.mesh import dense_points, face_axes, outline_polygon

WORK_SCALE = 256.0  # px eye-to-chin while enhancing


def denoise(patch: np.ndarray, strength: float) -> np.ndarray:
    """Non-local means at the photo's own resolution, where sensor/JPEG noise is still per-pixel."""
    import cv2

    h = 3.0 + 6.0 * strength  # larger h erases wrinkles and pores along with the noise
    return cv2.fastNlMeansDenoisingColored(patch, None, h, h, 5, 15)


def sharpen(patch: np.ndarray, strength: float, face_scale: float) -> np.ndarray:
    """Unsharp-mask the lightness channel only (no colour fringes), mostly the medium band (lid and
    lip edges, lashes) and a little of the fine band, which after denoising is mostly residual noise."""
    import cv2

    lab = cv2.cvtColor(patch, cv2.COLOR_RGB2LAB).astype(np.float32)
    light = lab[:, :, 0]
    fine = light - cv2.GaussianBlur(light, (0, 0), max(0.8, face_scale / 256.0))
    medium = light - cv2.GaussianBlur(light, (0, 0), max(2.0, face_scale / 64.0))
    lab[:, :, 0] = np.clip(light + strength * (0.25 * fine + 0.5 * medium), 0, 255)
    return cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2RGB)


def restore_face(image: np.ndarray, face: Face, strength: float, upscale: int = 1) -> np.ndarray:
    """Enhance ``face`` in ``image``; with ``upscale`` 2 or 4 the whole image is enlarged (Lanczos)
    and the face enhanced at the new size. Needs 68 landmarks (``license_restricted`` otherwise)."""
    import cv2

    lm = face.require_dense() * upscale
    if upscale > 1:
        image = cv2.resize(image, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_LANCZOS4)
    if strength <= 0:
        return image.copy()
    pts = dense_points(lm)
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int), [w, h])
    crop = image[y0:y1, x0:x1]
    _, _, scale = face_axes(lm)
    up = float(np.clip(WORK_SCALE / scale, 1.0, 4.0))
    clean = denoise(crop, strength)
    work = cv2.resize(clean, None, fx=up, fy=up, interpolation=cv2.INTER_LANCZOS4) if up > 1 else clean
    enhanced = sharpen(work, strength, scale * up)
    if up > 1:
        enhanced = cv2.resize(enhanced, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.fillPoly(mask, [outline_polygon(pts - [x0, y0])], 255)
    # Grow then feather, so the transition falls on the hairline/jaw edge rather than inside skin.
    grow = max(3, int(scale * 0.06) | 1)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    alpha = (feather(mask, scale * 0.05) * min(1.0, 0.4 + strength))[..., None]
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(crop * (1 - alpha) + enhanced * alpha + 0.5, 0, 255).astype(np.uint8)
    return out
