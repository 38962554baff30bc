"""Dense face geometry: 68 landmarks plus forehead and margin points, and a piecewise-affine warp.

The 68-point model stops at the brows, so we add a forehead arc (the brows lifted along the face's
vertical axis) and a ring of margin points outside the face. The warp is one ``cv2.remap`` driven
by a per-pixel triangle index, so there are no seams between triangles and the cost is one pass
over the crop regardless of the number of triangles.
"""

from __future__ import annotations

import numpy as np

# Landmark groups (iBUG 68 order).
JAW = list(range(17))
BROWS = list(range(17, 27))
NOSE = list(range(27, 36))
EYE_L = list(range(36, 42))
EYE_R = list(range(42, 48))
MOUTH_OUTER = list(range(48, 60))
MOUTH_INNER = list(range(60, 68))
N_FOREHEAD = 10
N_RING = 16


def face_axes(lm68: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(centre, unit "up" vector, face scale) — scale is the eye-to-chin distance."""
    eye_mid = (lm68[EYE_L].mean(0) + lm68[EYE_R].mean(0)) / 2
    down = lm68[8] - eye_mid
    scale = float(np.hypot(*down)) + 1e-6
    return eye_mid, -down / scale, scale


def mouth_open(lm68: np.ndarray, threshold: float = 0.04) -> bool:
    """True if the inner lips are apart by more than ``threshold`` of the face height (eye-to-chin)."""
    _, _, scale = face_axes(lm68)
    gap = np.linalg.norm(lm68[[61, 62, 63]] - lm68[[67, 66, 65]], axis=1).mean()
    return bool(gap > threshold * scale)


def forehead_points(lm68: np.ndarray) -> np.ndarray:
    """Ten points on an arc above the brows, about 0.45 of the eye-to-chin height above the eyes."""
    _, up, scale = face_axes(lm68)
    brows = lm68[BROWS]
    # The arc is higher in the middle than at the temples, like a real hairline.
    lift = np.array([0.18, 0.26, 0.32, 0.36, 0.38, 0.38, 0.36, 0.32, 0.26, 0.18]) * scale
    return brows + up[None, :] * lift[:, None]


def dense_points(lm68: np.ndarray) -> np.ndarray:
    """(68 + 10 + 16, 2) points: landmarks, forehead arc, and a margin ring 35 % outside the face."""
    inner = np.vstack([lm68, forehead_points(lm68)])
    outline = np.vstack([lm68[JAW], forehead_points(lm68)[::-1]])
    centre = outline.mean(0)
    # Pick N_RING evenly spaced outline points and push them outward.
    picks = outline[np.linspace(0, len(outline) - 1, N_RING).round().astype(int)]
    ring = centre + (picks - centre) * 1.35
    return np.vstack([inner, ring])


def outline_polygon(points: np.ndarray, forehead: float = 1.0) -> np.ndarray:
    """The face outline (jaw + forehead arc) of a ``dense_points`` array, as int32 for fillPoly.

    ``forehead`` < 1 lowers the arc toward the brows (0 = the brow line itself).
    """
    arc = points[BROWS] + forehead * (points[68 : 68 + N_FOREHEAD] - points[BROWS])
    return np.vstack([points[JAW], arc[::-1]]).round().astype(np.int32)


def triangulate(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles (T, 3) of point indices; deterministic for the same points."""
    from scipy.spatial import Delaunay

    tri = Delaunay(points).simplices
    # Drop slivers, which make near-singular affine maps.
    a, b, c = points[tri[:, 0]], points[tri[:, 1]], points[tri[:, 2]]
    area = np.abs(np.cross(b - a, c - a)) / 2
    return tri[area > 1e-3]


def affine_maps(
    src_pts: np.ndarray,
    dst_pts: np.ndarray,
    out_shape: tuple[int, int],
    triangles: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.remap`` maps (map_x, map_y) taking ``src_pts`` onto ``dst_pts`` triangle by triangle, and the uint8
    coverage mask. Triangles are drawn in the given order, so where they overlap the later one wins (callers pass
    them far to near for a turned head)."""
    import cv2

    h, w = out_shape
    if triangles is None:
        triangles = triangulate(dst_pts)
    index = np.full((h, w), -1, dtype=np.int32)
    inverse = np.zeros((len(triangles), 2, 3), dtype=np.float64)
    for t, (i, j, k) in enumerate(triangles):
        d = dst_pts[[i, j, k]].astype(np.float32)
        s = src_pts[[i, j, k]].astype(np.float32)
        inverse[t] = cv2.getAffineTransform(d, s)
        cv2.fillConvexPoly(index, d.round().astype(np.int32), int(t), lineType=cv2.LINE_8)
    covered = index >= 0
    ys, xs = np.nonzero(covered)
    mats = inverse[index[ys, xs]]
    map_x = np.full((h, w), -1, dtype=np.float32)
    map_y = np.full((h, w), -1, dtype=np.float32)
    map_x[ys, xs] = mats[:, 0, 0] * xs + mats[:, 0, 1] * ys + mats[:, 0, 2]
    map_y[ys, xs] = mats[:, 1, 0] * xs + mats[:, 1, 1] * ys + mats[:, 1, 2]
    return map_x, map_y, (covered * 255).astype(np.uint8)


def piecewise_affine(
    src: np.ndarray,
    src_pts: np.ndarray,
    dst_pts: np.ndarray,
    out_shape: tuple[int, int],
    triangles: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``src`` so that ``src_pts`` land on ``dst_pts`` in an output of ``out_shape`` (h, w).

    Returns (warped image, uint8 coverage mask: 255 where some triangle covered the pixel).
    """
    import cv2

    map_x, map_y, covered = affine_maps(src_pts, dst_pts, out_shape, triangles)
    warped = cv2.remap(src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return warped, covered


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (2x3) mapping ``src`` points onto ``dst`` points (Umeyama)."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ sign @ vt
    scale = np.trace(np.diag(sig) @ sign) / (s**2).sum(1).mean()
    t = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, t[:, None]])
