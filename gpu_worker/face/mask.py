"""Face region masks that leave out occluders where colour can tell them apart from skin.

In: RGB uint8 image and its 68 landmarks. Out: uint8 mask (255 = face skin or facial feature).

How occluders are found: a skin-colour model (mean and covariance of Lab chroma, plus lightness
range) is fitted on the cheeks and nose bridge, which are rarely covered. Inside the face outline,
pixels that are not skin-like and not part of a protected feature (eyes, brows, lips, nostrils)
are treated as occluders, cleaned with a morphological opening and removed from the mask.

Handled: hair over the forehead or temples (darker or differently coloured than skin), dark or
coloured glasses frames and sunglasses, hats and caps that reach into the outline, microphones,
phones, masks and other non-skin objects, dark gloves.
Not handled: hands and fingers (skin-coloured, so indistinguishable by colour), blond hair on very
fair skin, anything covering the cheeks themselves (the colour model is then wrong), transparent
lenses (the eye behind is kept, reflections are not removed), occluders inside protected features
(a finger across the lips stays in the mask).
"""

from __future__ import annotations

import numpy as np

from gpu_worker.face.mesh import BROWS, EYE_L, EYE_R, MOUTH_OUTER, dense_points, face_axes, outline_polygon

_CHROMA_LIMIT_FOREHEAD = 9.0  # squared Mahalanobis distance in (a, b)
_CHROMA_LIMIT_FACE = 25.0  # looser below the brows, where shading and makeup vary more


def _poly(mask: np.ndarray, pts: np.ndarray, value: int = 255) -> None:
    import cv2

    cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], value)


def feature_mask(
    shape: tuple[int, int], lm68: np.ndarray, grow: float = 0.06, brow_width: float = 0.06
) -> np.ndarray:
    """Eyes, brows, nose and lips, slightly grown: the parts occlusion detection must not remove. ``brow_width``
    (of the eye-to-chin distance) is the drawn brow's thickness."""
    import cv2

    _, _, scale = face_axes(lm68)
    m = np.zeros(shape, np.uint8)
    for group in (EYE_L, EYE_R, MOUTH_OUTER):
        _poly(m, cv2.convexHull(lm68[group].astype(np.float32))[:, 0])
    for brow in (BROWS[:5], BROWS[5:]):
        cv2.polylines(m, [lm68[brow].round().astype(np.int32)], False, 255, max(2, int(scale * brow_width)))
    _poly(m, cv2.convexHull(lm68[[27, 31, 32, 33, 34, 35]].astype(np.float32))[:, 0])
    k = max(3, int(scale * grow) | 1)
    return cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))


def skin_sample_mask(shape: tuple[int, int], lm68: np.ndarray) -> np.ndarray:
    """Cheek and nose-bridge patches: where the skin colour model is fitted."""
    m = np.zeros(shape, np.uint8)
    _poly(m, lm68[[1, 2, 3, 31, 40, 41]])
    _poly(m, lm68[[15, 14, 13, 35, 47, 46]])
    _poly(m, lm68[[27, 39, 30, 42]])
    return m


def face_mask(
    image: np.ndarray,
    lm68: np.ndarray,
    *,
    occlusion: bool = True,
    strict_edges: bool = False,
    outline: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """(mask, occluded fraction of the outline area). Without ``occlusion`` the mask is the outline.

    ``strict_edges`` applies the forehead's strict skin test also in a band along the sides of the outline, where
    long hair falls over the cheeks and jaw in product shots. ``outline`` (a polygon, e.g. the mesh's face oval)
    replaces the outline drawn from the 68 points, whose straight temple-to-forehead edge cuts off the side of a
    turned face."""
    import cv2

    h, w = image.shape[:2]
    region = np.zeros((h, w), np.uint8)
    _poly(region, outline_polygon(dense_points(lm68)) if outline is None else outline)
    if not occlusion:
        return region, 0.0
    sample = skin_sample_mask((h, w), lm68)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    px = lab[sample > 0]
    if len(px) < 20:
        return region, 0.0
    chroma = px[:, 1:]
    mean = chroma.mean(0)
    cov = np.cov(chroma.T) + np.eye(2) * 4.0  # floor: JPEG quantisation makes tiny variances
    inv = np.linalg.inv(cov)
    diff = lab[:, :, 1:] - mean
    d2 = np.einsum("hwi,ij,hwj->hw", diff, inv, diff)
    l_lo = np.percentile(px[:, 0], 5)
    l_mid = np.median(px[:, 0])
    _, up, scale = face_axes(lm68)
    # Above the brows (along the face's own up axis): strict, because hair is the usual occluder.
    brow_line = lm68[BROWS].mean(0)
    yy, xx = np.mgrid[0:h, 0:w]
    height = (xx - brow_line[0]) * up[0] + (yy - brow_line[1]) * up[1]
    forehead = height > scale * 0.04
    if strict_edges:
        inside = cv2.distanceTransform(region, cv2.DIST_L2, 5)
        forehead = forehead | (inside < scale * 0.16)
    not_skin = np.where(forehead, (d2 > _CHROMA_LIMIT_FOREHEAD) | (lab[:, :, 0] < min(l_lo, l_mid * 0.8)), False)
    # Below: only clearly foreign colours or near-black (frames, sunglasses, gloves).
    not_skin |= ~forehead & ((d2 > _CHROMA_LIMIT_FACE) | (lab[:, :, 0] < min(l_lo * 0.45, 60)))
    # Thick brows reach beyond the fitted brow line; they are the face's own, never an occluder.
    protected = feature_mask((h, w), lm68, brow_width=0.11)
    occluder = (not_skin & (region > 0) & (protected == 0)).astype(np.uint8) * 255
    k = max(3, int(scale * 0.04) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    occluder = cv2.morphologyEx(occluder, cv2.MORPH_OPEN, kernel)
    occluder = cv2.morphologyEx(occluder, cv2.MORPH_CLOSE, kernel)
    mask = cv2.bitwise_and(region, cv2.bitwise_not(occluder))
    # Keep the component that contains the nose; stray skin-coloured islands are not face.
    n, labels = cv2.connectedComponents(mask)
    nose = lm68[30].round().astype(int)
    if n > 2 and 0 <= nose[1] < h and 0 <= nose[0] < w and labels[nose[1], nose[0]] > 0:
        mask = np.where(labels == labels[nose[1], nose[0]], 255, 0).astype(np.uint8)
    area = max(1, int((region > 0).sum()))
    return mask, float(((region > 0) & (mask == 0)).sum()) / area
