"""Gasang's canonical frontal face layout (``data/face_layout.npz``, derived by ``gpu_worker.tools.face_layout``).

A virtual model's face asset stores its texture in this layout: a square ``TEXTURE`` px image where every one of the
478 MediaPipe mesh vertices has a fixed position (``UV``), symmetric about the centre column, so the texture of one
side of the face mirrors onto the other by a horizontal flip. Also here: 3-D similarity fits between the layout and a
fitted mesh, per-vertex normals, and low-order spherical-harmonic shading used to remove and re-apply lighting.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

LAYOUT_FILE = Path(__file__).resolve().parent / "data" / "face_layout.npz"
TEXTURE = 384  # px side of a face texture; the eye distance in it is TEXTURE * EYE_SPAN
MARGIN = 6  # px around the mesh in the texture


@dataclass(frozen=True)
class Layout:
    shape: np.ndarray  # (478, 3) mean frontal head, inter-ocular distance 1, z away from the camera
    mirror: np.ndarray  # (478,) index of each vertex's mirror partner
    triangles: np.ndarray  # (T, 3) vertex indices
    uv: np.ndarray  # (478, 2) texture pixel position of each vertex
    normals: np.ndarray  # (478, 3) unit vertex normals of ``shape`` (pointing to the camera: z < 0)
    oval: np.ndarray  # vertex indices of the face outline, in order around the face
    inner_lips: np.ndarray  # vertex indices of the inner lip contour
    lips: np.ndarray  # every lip vertex


def _ordered_ring(edges: frozenset) -> np.ndarray:
    """Vertex indices of a closed contour given as MediaPipe's edge set, in walking order."""
    nxt: dict[int, list[int]] = {}
    for a, b in edges:
        nxt.setdefault(a, []).append(b)
        nxt.setdefault(b, []).append(a)
    start = min(nxt)
    ring, prev = [start], None
    while True:
        here = ring[-1]
        step = next(v for v in nxt[here] if v != prev)
        if step == start:
            return np.array(ring)
        prev = here
        ring.append(step)


def vertex_normals(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit normals per vertex, oriented towards the camera (negative z)."""
    a, b, c = points[triangles[:, 0]], points[triangles[:, 1]], points[triangles[:, 2]]
    face_n = np.cross(b - a, c - a)
    face_n *= np.where(face_n[:, 2:3] > 0, -1.0, 1.0)  # every triangle of a face seen from the front faces the camera
    normals = np.zeros_like(points)
    for k in range(3):
        np.add.at(normals, triangles[:, k], face_n)
    return normals / (np.linalg.norm(normals, axis=1, keepdims=True) + 1e-9)


@cache
def layout() -> Layout:
    from mediapipe.python.solutions import face_mesh_connections as topology

    data = np.load(LAYOUT_FILE)
    shape, mirror = data["shape"].astype(np.float64), data["mirror"].astype(np.int64)
    # Exactly symmetric about x = 0 (the stored file is, up to the eye-centre normalisation it ends with).
    shape = np.column_stack([(shape[:, 0] - shape[mirror, 0]) / 2, (shape[:, 1:] + shape[mirror, 1:]) / 2])
    triangles = data["triangles"].astype(np.int64)
    xy = shape[:, :2]
    span = float((xy.max(0) - xy.min(0)).max())
    scale = (TEXTURE - 1 - 2 * MARGIN) / span
    centre = np.array([(TEXTURE - 1) / 2, (TEXTURE - 1) / 2])
    mid = (xy.max(0) + xy.min(0)) / 2
    mid[0] = 0.0  # the layout is symmetric about x = 0: keep that on the texture's centre column
    uv = centre + (xy - mid) * scale
    lips = np.array(sorted({i for e in topology.FACEMESH_LIPS for i in e}))
    inner = [78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191]
    return Layout(
        shape=shape,
        mirror=mirror,
        triangles=triangles,
        uv=uv,
        normals=vertex_normals(shape, triangles),
        oval=_ordered_ring(topology.FACEMESH_FACE_OVAL),
        inner_lips=np.array(inner),
        lips=lips,
    )


def umeyama3(
    src: np.ndarray, dst: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale, rotation 3x3, translation) with ``dst ~ scale * R @ src + t`` in the (weighted) least-squares sense."""
    w = np.ones(len(src)) if weights is None else weights
    w = w / w.sum()
    mu_s, mu_d = (src * w[:, None]).sum(0), (dst * w[:, None]).sum(0)
    s, d = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd((d * w[:, None]).T @ s)
    sign = np.eye(3)
    sign[2, 2] = np.sign(np.linalg.det(u @ vt))
    rot = u @ sign @ vt
    scale = float(np.trace(np.diag(sig) @ sign) / ((s**2).sum(1) * w).sum())
    return scale, rot, mu_d - scale * rot @ mu_s


# Rigid vertices (eye corners, nose bridge and tip, forehead, cheekbones): the pose fit ignores the mouth and jaw,
# which move with the expression.
RIGID = np.array([33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 10, 151, 9, 8, 107, 336, 70, 300, 116, 345, 123, 352])


def pose_fit(mesh: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Similarity taking the layout's frontal head onto a fitted (478, 3) mesh (image pixels)."""
    lay = layout()
    weights = np.full(len(mesh), 0.2)
    weights[RIGID] = 1.0
    return umeyama3(lay.shape, mesh, weights)


def sh_basis(normals: np.ndarray) -> np.ndarray:
    """Second-order real spherical-harmonic basis (9 terms, constants folded into the fitted coefficients)."""
    x, y, z = normals[..., 0], normals[..., 1], normals[..., 2]
    one = np.ones_like(x)
    return np.stack([one, x, y, z, x * y, x * z, y * z, x * x - y * y, 3 * z * z - 1], axis=-1)


def fit_shading(luminance: np.ndarray, normals: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Coefficients of ``luminance ~ sh_basis(normals) @ c`` over pixels with ``weight`` > 0 (robust: two passes,
    the second ignoring the brightest and darkest residuals, which are highlights, features and cast shadows)."""
    sel = weight > 0
    basis, target, w = sh_basis(normals[sel]), luminance[sel], weight[sel]
    if len(target) < 50:
        c = np.zeros(9)
        c[0] = float(np.median(luminance[sel])) if len(target) else 128.0
        return c
    # A light ridge keeps the second order from chasing features when the skin seen is a narrow band.
    ridge = np.diag([0.0, 0.01, 0.01, 0.01, 0.05, 0.05, 0.05, 0.05, 0.05]) * w.sum()
    c = np.linalg.solve((basis * w[:, None]).T @ basis + ridge, (basis * w[:, None]).T @ target)
    resid = target - basis @ c
    lo, hi = np.percentile(resid, [10, 90])
    keep = (resid > lo) & (resid < hi)
    b2, w2 = basis[keep], w[keep]
    return np.linalg.solve((b2 * w2[:, None]).T @ b2 + ridge * keep.mean(), (b2 * w2[:, None]).T @ target[keep])


def barycentric(points: np.ndarray, triangles: np.ndarray, out_shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(triangle index per pixel, -1 outside; barycentric weights (h, w, 3)) of triangles drawn in order."""
    import cv2

    h, w = out_shape
    index = np.full((h, w), -1, dtype=np.int32)
    to_bary = np.zeros((len(triangles), 2, 3))
    corners = np.float32([[1, 0], [0, 1], [0, 0]])
    for t, tri in enumerate(triangles):
        d = points[tri].astype(np.float32)
        to_bary[t] = cv2.getAffineTransform(d, corners)
        cv2.fillConvexPoly(index, d.round().astype(np.int32), int(t), lineType=cv2.LINE_8)
    ys, xs = np.nonzero(index >= 0)
    mats = to_bary[index[ys, xs]]
    la = mats[:, 0, 0] * xs + mats[:, 0, 1] * ys + mats[:, 0, 2]
    lb = mats[:, 1, 0] * xs + mats[:, 1, 1] * ys + mats[:, 1, 2]
    bary = np.zeros((h, w, 3))
    bary[ys, xs] = np.clip(np.column_stack([la, lb, 1 - la - lb]), 0, 1)
    return index, bary


def interpolate(values: np.ndarray, triangles: np.ndarray, index: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Per-vertex ``values`` (V, C) interpolated over pixels (h, w, C); zero outside every triangle."""
    safe = np.maximum(index, 0)
    corner_values = values[triangles[safe]]  # (h, w, 3, C)
    out = (bary[..., None] * corner_values).sum(axis=2)
    out[index < 0] = 0
    return out


def layout68() -> np.ndarray:
    """The iBUG 68-point layout (jaw, brows, eyes, nose, mouth) at the layout's texture positions."""
    from gpu_worker.face.landmarks_mesh import to68

    return to68(np.column_stack([layout().uv, np.zeros(len(layout().uv))]))


def normal_map(shape: np.ndarray) -> np.ndarray:
    """(T, T, 3) unit normals, in the layout frame, of a (478, 3) head ``shape`` given in the layout frame (e.g. a
    face asset's own identity shape), drawn at the layout's texture positions."""
    lay = layout()
    index, bary = _texture_barycentric()
    normals = interpolate(vertex_normals(shape, lay.triangles), lay.triangles, index, bary)
    return (normals / (np.linalg.norm(normals, axis=2, keepdims=True) + 1e-9)).astype(np.float32)


@cache
def _texture_barycentric() -> tuple[np.ndarray, np.ndarray]:
    lay = layout()
    return barycentric(lay.uv, lay.triangles, (TEXTURE, TEXTURE))


@cache
def texture_maps() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(normals (T, T, 3) in the layout frame, face region uint8, skin region uint8) of the texture."""
    import cv2

    from gpu_worker.face.mask import feature_mask

    lay = layout()
    normals = normal_map(lay.shape)
    region = np.zeros((TEXTURE, TEXTURE), np.uint8)
    cv2.fillPoly(region, [lay.uv[lay.oval].round().astype(np.int32)], 255)
    skin = cv2.erode(region, np.ones((9, 9), np.uint8)) & ~feature_mask((TEXTURE, TEXTURE), layout68(), grow=0.1)
    return normals.astype(np.float32), region, skin
