"""Region-wise makeup transfer driven by landmarks.

Makeup is, to first order, a colour per region. So for each region we measure on the reference
face a robust colour (the median in Lab, which ignores glasses frames, wrinkles and highlights),
express it relative to the reference's own skin where that makes sense, and add it to the target
through a feathered landmark mask. The target keeps its own texture, shading and shape, which is
what keeps the identity (and why we do not paste reference pixels):
- lips: the target lips take the reference's lip-minus-skin colour (a/b fully, lightness half);
- eye shadow (upper lid toward the brow) and blush (cheeks): the reference's colour minus its
  skin colour, added to the target, so a darker-skinned reference does not paint dark patches;
- liner (upper lid line) and brows: darkening and tint relative to the reference's skin;
- foundation: the target skin's mean colour moves halfway to the reference skin's.
"""

from __future__ import annotations

import numpy as np

from gpu_worker.face.detect import Face
from gpu_worker.face.mask import face_mask, feature_mask
from gpu_worker.face.mesh import BROWS, MOUTH_INNER, MOUTH_OUTER, dense_points, face_axes

REGIONS = ("lips", "eye_shadow", "liner", "brows", "blush", "foundation")


def region_masks(shape: tuple[int, int], lm: np.ndarray) -> dict[str, np.ndarray]:
    """Float masks in [0, 1], already feathered, for every region but foundation."""
    import cv2

    _, up, scale = face_axes(lm)
    masks = {}

    def soft(m: np.ndarray, sigma: float) -> np.ndarray:
        return cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), max(0.8, sigma))

    lips = np.zeros(shape, np.uint8)
    cv2.fillPoly(lips, [lm[MOUTH_OUTER].round().astype(np.int32)], 255)
    cv2.fillPoly(lips, [lm[MOUTH_INNER].round().astype(np.int32)], 0)
    masks["lips"] = soft(lips, scale * 0.01)

    shadow = np.zeros(shape, np.uint8)
    for brow, lid in ((BROWS[:5], [36, 37, 38, 39]), (BROWS[5:], [42, 43, 44, 45])):
        # From the upper lid to 70 % of the way to the brow.
        top = lm[lid] + (lm[brow][[0, 1, 3, 4]] - lm[lid]) * 0.7
        cv2.fillPoly(shadow, [np.vstack([lm[lid], top[::-1]]).round().astype(np.int32)], 255)
    eyes = feature_mask(shape, lm, grow=0.0)
    masks["eye_shadow"] = soft(shadow & ~eyes, scale * 0.025)

    liner = np.zeros(shape, np.uint8)
    for lid in ([36, 37, 38, 39], [42, 43, 44, 45]):
        cv2.polylines(liner, [lm[lid].round().astype(np.int32)], False, 255, max(1, int(scale * 0.018)))
    masks["liner"] = soft(liner, scale * 0.006)

    brows = np.zeros(shape, np.uint8)
    for brow in (BROWS[:5], BROWS[5:]):
        cv2.polylines(brows, [lm[brow].round().astype(np.int32)], False, 255, max(2, int(scale * 0.05)))
    masks["brows"] = soft(brows, scale * 0.012)

    blush = np.zeros(shape, np.uint8)
    for a, b in ((lm[[1, 2, 3]].mean(0), lm[[31, 48]].mean(0)), (lm[[13, 14, 15]].mean(0), lm[[35, 54]].mean(0))):
        centre = a * 0.55 + b * 0.45 + up * scale * 0.04
        axes = (int(scale * 0.13), int(scale * 0.09))
        cv2.ellipse(blush, tuple(int(v) for v in centre.round()), axes, 0, 0, 360, 255, -1)
    masks["blush"] = soft(blush, scale * 0.06)
    return masks


def _crop(image: np.ndarray, lm: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    pts = dense_points(lm)
    h, w = image.shape[:2]
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int), [w, h])
    return image[y0:y1, x0:x1], lm - [x0, y0], (int(x0), int(y0), int(x1), int(y1))


def region_colours(image: np.ndarray, lm: np.ndarray) -> dict[str, np.ndarray]:
    """Median Lab colour of skin and of every makeup region of one face."""
    import cv2

    crop, lm_c, _ = _crop(image, lm)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    skin, _ = face_mask(crop, lm_c)
    skin &= ~feature_mask(crop.shape[:2], lm_c)
    colours = {"skin": np.median(lab[skin > 0], axis=0) if (skin > 0).sum() > 10 else np.median(lab, axis=(0, 1))}
    for name, m in region_masks(crop.shape[:2], lm_c).items():
        sel = m > 0.5
        if name == "lips" and sel.sum() > 8:
            # Teeth and highlights inside a smile are not lip colour: keep the redder half.
            sel &= lab[:, :, 1] >= np.median(lab[:, :, 1][sel])
        colours[name] = np.median(lab[sel], axis=0) if sel.sum() > 3 else colours["skin"]
    return colours


# Per-region caps on the colour change (Lab units): a makeup look, not a repaint.
_CAP = {"eye_shadow": 25.0, "blush": 15.0, "liner": 40.0, "brows": 40.0}


def transfer_makeup(
    target: np.ndarray, tgt_face: Face, reference: np.ndarray, ref_face: Face, strength: float
) -> np.ndarray:
    """Return ``target`` with the reference's makeup applied to ``tgt_face`` at ``strength`` (0..1)."""
    import cv2

    lm_t, lm_r = tgt_face.require_dense(), ref_face.require_dense()
    if strength <= 0:
        return target.copy()  # the Lab round trip alone would change pixels
    ref = region_colours(reference, lm_r)
    crop, lm_c, (x0, y0, x1, y1) = _crop(target, lm_t)
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    tgt = region_colours(target, lm_t)
    skin, _ = face_mask(crop, lm_c)
    masks = region_masks(crop.shape[:2], lm_c)

    out = lab.copy()
    skin_alpha = cv2.GaussianBlur(skin.astype(np.float32) / 255.0, (0, 0), 3.0)[..., None]
    out += skin_alpha * strength * 0.5 * (ref["skin"] - tgt["skin"])
    # Relative to skin, like the other regions: this cancels the reference photo's white balance.
    lip_shift = (ref["lips"] - ref["skin"]) - (tgt["lips"] - tgt["skin"])
    lip_shift[0] *= 0.5
    out += masks["lips"][..., None] * strength * lip_shift
    for name, cap in _CAP.items():
        delta = (ref[name] - ref["skin"]) - (tgt[name] - tgt["skin"])
        if name in ("liner", "brows"):
            delta[0] = min(delta[0], 0.0)  # only ever darken lids and brows
        norm = float(np.linalg.norm(delta))
        if norm > cap:
            delta *= cap / norm
        out += masks[name][..., None] * strength * delta
    result = cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    final = target.copy()
    final[y0:y1, x0:x1] = result
    return final
