"""Colour matching and seam-free blending of a face patch into a photo."""

from __future__ import annotations

import numpy as np


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """Float mask in [0, 1]: eroded by ``radius`` then blurred by it, so the edge fades inside the face."""
    import cv2

    r = max(1, int(round(radius)))
    m = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), r * 0.8 + 0.5)


def match_colour(
    src: np.ndarray,
    src_region: np.ndarray,
    ref: np.ndarray,
    ref_region: np.ndarray,
    strength: float = 1.0,
    weight: np.ndarray | None = None,
) -> np.ndarray:
    """Shift ``src`` so its Lab mean/std inside ``src_region`` match ``ref`` inside ``ref_region``.

    Lightness std is only partly matched: fully matching contrast would flatten or exaggerate the
    source's own features, which carry identity. ``weight`` (float (H, W) in [0, 1]) scales the
    change per pixel, e.g. to keep eye whites and teeth from taking on the skin's colour shift.
    """
    import cv2

    s = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    r = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB).astype(np.float32)
    sp, rp = s[src_region > 0], r[ref_region > 0]
    if len(sp) < 10 or len(rp) < 10:
        return src
    s_mean, s_std = sp.mean(0), sp.std(0) + 1e-3
    r_mean, r_std = rp.mean(0), rp.std(0) + 1e-3
    gain = r_std / s_std
    # Contrast is only partly matched and tightly bounded: amplifying the source's chroma
    # deviations turns shadowed lids blue and lips magenta when the target is desaturated.
    gain[0] = np.clip(gain[0], 0.8, 1.25) ** 0.5
    gain[1:] = np.clip(gain[1:], 0.8, 1.2)
    out = (s - s_mean) * gain + r_mean
    scale = strength if weight is None else strength * weight[..., None]
    out = s + (out - s) * scale
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def normalised_blur(values: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of ``values`` where each pixel counts by ``weight``: blur(v * w) / blur(w)."""
    import cv2

    den = cv2.GaussianBlur(weight, (0, 0), sigma) + 1e-4
    return cv2.GaussianBlur(values * weight, (0, 0), sigma) / den


def match_shading(src: np.ndarray, ref: np.ndarray, region: np.ndarray, sigma: float) -> np.ndarray:
    """Impose ``ref``'s low-frequency lighting (blur of radius ``sigma``) on ``src`` inside ``region``.

    Works in Lab: lightness is scaled by the ratio of the blurred lightnesses, chroma is shifted by
    the difference of the blurred chromas. Scaling RGB instead turns a shadowed (more saturated)
    cheek into an orange blotch when it is lifted. A normalised blur (blur(x*m)/blur(m)) keeps
    the background out of the lighting estimate.
    """
    import cv2

    m = (region > 0).astype(np.float32)
    den = cv2.GaussianBlur(m, (0, 0), sigma) + 1e-4

    def low(lab: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(lab * m[..., None], (0, 0), sigma) / den[..., None]

    s = cv2.cvtColor(src, cv2.COLOR_RGB2LAB).astype(np.float32)
    r = cv2.cvtColor(ref, cv2.COLOR_RGB2LAB).astype(np.float32)
    low_s, low_r = low(s), low(r)
    ratio = np.clip((low_r[:, :, 0] + 1.0) / (low_s[:, :, 0] + 1.0), 0.6, 1.6)
    shift = np.clip(low_r[:, :, 1:] - low_s[:, :, 1:], -12, 12)
    out = s.copy()
    inside = m > 0
    out[:, :, 0] = np.where(inside, s[:, :, 0] * ratio, s[:, :, 0])
    out[:, :, 1:] = np.where(inside[..., None], s[:, :, 1:] + shift, s[:, :, 1:])
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def pyramid_blend(fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray, levels: int = 4) -> np.ndarray:
    """Laplacian-pyramid blend of ``fg`` over ``bg`` with float ``alpha`` (H, W) in [0, 1].

    Low frequencies blend over a wide band and details over a narrow one, which hides seams without
    the colour bleeding of Poisson cloning (that bleeding pulls the identity toward the target).
    """
    import cv2

    h, w = alpha.shape
    levels = max(1, min(levels, int(np.log2(max(8, min(h, w)) / 8))))
    f, b = fg.astype(np.float32), bg.astype(np.float32)
    gf, gb, ga = [f], [b], [alpha.astype(np.float32)]
    for _ in range(levels):
        gf.append(cv2.pyrDown(gf[-1]))
        gb.append(cv2.pyrDown(gb[-1]))
        ga.append(cv2.pyrDown(ga[-1]))
    out = gf[-1] * ga[-1][..., None] + gb[-1] * (1 - ga[-1][..., None])
    for i in range(levels - 1, -1, -1):
        size = (gf[i].shape[1], gf[i].shape[0])
        lf = gf[i] - cv2.pyrUp(gf[i + 1], dstsize=size)
        lb = gb[i] - cv2.pyrUp(gb[i + 1], dstsize=size)
        ai = ga[i][..., None]
        out = cv2.pyrUp(out, dstsize=size) + lf * ai + lb * (1 - ai)
    # Outside the mask the background must stay bit-exact (the pyramid can leak a little).
    out = np.where(alpha[..., None] > 0, out, b)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
