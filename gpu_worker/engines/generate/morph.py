"""Landmark-aligned morphing of several faces in FFHQ-aligned space (shared with second_generation).

Each face is FFHQ-aligned to ``size`` px; its landmarks are carried through the same affine map, so
no re-detection is needed. The morph target shape is a weighted mean of the dense meshes (plus the
crop's border points, so hair and background warp too). Inside the face the warped textures are
averaged with the weights; outside it the heaviest contributor's warped image is used as is,
because averaging hair and backgrounds only produces ghosts. A pyramid blend joins the two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpu_worker.engines.base import Timer
from gpu_worker.face.align import align_face, transform_points
from gpu_worker.face.blend import feather, match_colour, pyramid_blend
from gpu_worker.face.detect import Face
from gpu_worker.face.mask import face_mask, feature_mask
from gpu_worker.face.mesh import (
    N_FOREHEAD,
    N_RING,
    affine_maps,
    dense_points,
    face_axes,
    outline_polygon,
    piecewise_affine,
    triangulate,
)

DETAIL_SIGMA = 0.012  # of the eye-to-chin distance: the band of skin detail carried at full amplitude


@dataclass(frozen=True)
class AlignedFace:
    image: np.ndarray  # (size, size, 3) FFHQ-aligned crop
    lm68: np.ndarray  # landmarks in crop coordinates
    inside: np.ndarray  # (size, size) uint8, 255 where the crop shows the photo (not the padding beyond it)


def align_all(images: list[np.ndarray], faces: list[Face], size: int) -> list[AlignedFace]:
    """FFHQ-align every (image, face) pair to ``size`` px."""
    import cv2

    out = []
    for image, face in zip(images, faces):
        crop, matrix = align_face(image, face, size)
        inside = cv2.warpAffine(np.full(image.shape[:2], 255, np.uint8), matrix, (size, size),
                                flags=cv2.INTER_NEAREST)
        out.append(AlignedFace(crop, transform_points(face.require_dense(), matrix), inside))
    return out


def contributor_face(image: np.ndarray, key: str, params: dict[str, Any]) -> Face:
    """The contributor photo's chosen face, at least ``MIN_GALLERY_FACE`` px (or ``min_face_size`` when larger)."""
    from gpu_worker.engines.common import find_face
    from gpu_worker.engines.generate.params import MIN_GALLERY_FACE

    return find_face(image, key, params, min_size=max(MIN_GALLERY_FACE, params.get("min_face_size", 0)))


def analyze_contributors(
    images: dict[str, np.ndarray], keys: Sequence[str], params: dict[str, Any], size: int, timer: Timer,
    faces: list[Face] | None = None,
) -> tuple[list[Face], list[np.ndarray], list[AlignedFace]]:
    """(faces, dlib embeddings, FFHQ-aligned crops at ``size``) of the contributor photos ``keys``
    (``contributor_face`` of each, unless their ``faces`` were already found)."""
    from gpu_worker.face.embed import embedding

    with timer.stage("analyze"):
        faces = faces if faces is not None else [contributor_face(images[k], k, params) for k in keys]
        refs = [embedding(images[k], f) for k, f in zip(keys, faces)]
    with timer.stage("align"):
        aligned = align_all([images[k] for k in keys], faces, size)
    return faces, refs, aligned


def border_points(size: int, n: int = 4) -> np.ndarray:
    """Points along the crop border, fixed in every warp so the whole crop is covered."""
    t = np.linspace(0, size - 1, n + 1)
    top = np.stack([t, np.zeros_like(t)], 1)
    bottom = np.stack([t, np.full_like(t, size - 1)], 1)
    left = np.stack([np.zeros_like(t[1:-1]), t[1:-1]], 1)
    right = np.stack([np.full_like(t[1:-1], size - 1), t[1:-1]], 1)
    return np.vstack([top, bottom, left, right])


def mesh(lm68: np.ndarray, size: int) -> np.ndarray:
    return np.vstack([dense_points(lm68), border_points(size)])


def morph(
    faces: list[AlignedFace], weights: np.ndarray, target_lm: np.ndarray | None = None, base: int | None = None,
    frame_follows: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Morph ``faces`` with ``weights`` (non-negative, summing to 1). Returns (image, landmarks, where the image
    shows the framing contributor's real photo: 255, not the padding beyond its edges).

    ``target_lm`` overrides the weighted-mean shape (second_generation applies its child prior); ``base`` picks
    the contributor whose hair, neck and background frame the face (default: the heaviest). ``frame_follows``: the
    ring around the face moves with the new shape (a child's much shorter face: the neck and collar come up with the
    chin instead of the old chin being stretched down to them).
    """
    import cv2

    size = faces[0].image.shape[0]
    lm = target_lm if target_lm is not None else sum(w * f.lm68 for w, f in zip(weights, faces))
    dst = mesh(lm, size)
    # The margin ring stays where the heaviest contributor has it: its neck, collar and hair are
    # the backdrop, and moving the ring with the new jaw would bend them.
    base_index = int(np.argmax(weights)) if base is None else base
    ring = slice(len(lm) + N_FOREHEAD, len(lm) + N_FOREHEAD + N_RING)
    if not frame_follows:
        dst[ring] = mesh(faces[base_index].lm68, size)[ring]
    tris = triangulate(dst)

    def source_mesh(f: AlignedFace) -> np.ndarray:
        src = mesh(f.lm68, size)
        if frame_follows:
            # Below the chin the picture comes up with it as one piece: the crop's lower border samples as far
            # below as the chin moved up (beyond the photo there: marked by ``inside``, left to the backdrop).
            border = slice(len(lm) + N_FOREHEAD + N_RING, None)
            below = src[border, 1] > f.lm68[8, 1]
            src[border] = np.where(below[:, None], src[border] + [0.0, f.lm68[8, 1] - lm[8, 1]], src[border])
        return src

    warped, visible = [], []
    for f in faces:
        src = source_mesh(f)
        warped.append(piecewise_affine(f.image, src, dst, (size, size), tris)[0])
        # Where a contributor's face is hidden (hat, fringe, frames) the others supply the pixels.
        own_mask, _ = face_mask(f.image, f.lm68)
        warped_mask = piecewise_affine(own_mask, src, dst, (size, size), tris)[0]
        visible.append(cv2.GaussianBlur(warped_mask.astype(np.float32) / 255.0, (0, 0), size / 200))
    # Colour-normalise each warped face to the weighted mean skin colour first, so averaging does
    # not produce blotches where one face is lit differently.
    skin = np.zeros((size, size), np.uint8)
    cv2.fillPoly(skin, [outline_polygon(dense_points(lm))], 255)
    skin &= ~feature_mask((size, size), lm)
    mean_face = np.clip(sum(w * x.astype(np.float32) for w, x in zip(weights, warped)), 0, 255).astype(np.uint8)
    warped = [match_colour(x, skin, mean_face, skin, strength=0.7) for x in warped]
    # Per-pixel weights: the global weight times visibility; a small floor keeps the sum positive.
    # Negative weights (extrapolation) are not used here, so clip them.
    pix_w = [max(float(w), 0.0) * (v + 1e-3) for w, v in zip(weights, visible)]
    total = sum(pix_w)
    shares = [pw / total for pw in pix_w]
    blend = sum(sh[..., None] * x.astype(np.float32) for sh, x in zip(shares, warped))
    blend = np.clip(_keep_skin_detail(blend, warped, shares, lm) + 0.5, 0, 255).astype(np.uint8)
    base = warped[base_index]
    face_region = np.zeros((size, size), np.uint8)
    cv2.fillPoly(face_region, [outline_polygon(dense_points(lm))], 255)
    alpha = feather(face_region, face_axes(lm)[2] * 0.05)
    map_x, map_y, _ = affine_maps(source_mesh(faces[base_index]), dst, (size, size), tris)
    inside = cv2.remap(faces[base_index].inside, map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    return pyramid_blend(blend, base, alpha), lm, np.maximum(inside, face_region)


def _keep_skin_detail(blend: np.ndarray, warped: list[np.ndarray], shares: list[np.ndarray], lm: np.ndarray):
    """Frequency separation on the skin: averaging K unrelated skin textures divides their fine detail (pores,
    fine lines) by about sqrt(K), which is what made the morphs look soft. Below ``DETAIL_SIGMA`` of the face the
    contributors' detail is summed with weights normalised to keep its amplitude (sum of shares squared = 1);
    the eyes, brows and lips keep the plain average (their edges line up, so they were never washed out)."""
    import cv2

    scale = face_axes(lm)[2]
    sigma = DETAIL_SIGMA * scale
    size = blend.shape[0]
    norm = np.sqrt(sum(sh**2 for sh in shares))[..., None] + 1e-6
    detail = sum(sh[..., None] * (x - cv2.GaussianBlur(x, (0, 0), sigma))
                 for sh, x in zip(shares, (w.astype(np.float32) for w in warped))) / norm
    low = cv2.GaussianBlur(blend, (0, 0), sigma)
    skin = np.zeros((size, size), np.uint8)
    cv2.fillPoly(skin, [outline_polygon(dense_points(lm))], 255)
    skin &= ~feature_mask((size, size), lm, grow=0.12)
    where = feather(skin, scale * 0.03)[..., None]
    return blend * (1 - where) + (low + detail) * where


def skin_region(shape: tuple[int, int], lm68: np.ndarray) -> np.ndarray:
    """Boolean (H, W): inside the face outline, outside the eyes, brows and lips."""
    import cv2

    region = np.zeros(shape, np.uint8)
    cv2.fillPoly(region, [outline_polygon(dense_points(lm68))], 255)
    return (region > 0) & (feature_mask(shape, lm68, grow=0.1) == 0)


def laplacian_variance(image: np.ndarray, where: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image inside ``where``: the fine-detail (sharpness) measure."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F)[where].var()) if where.any() else 0.0


def match_skin_detail(image: np.ndarray, lm68: np.ndarray, target: float, max_gain: float = 2.5) -> np.ndarray:
    """Raise the finest skin detail (about a pixel) until its Laplacian variance reaches ``target`` (the
    contributors' own, measured at the same framing): every warp and resample of the morph softens it a little.
    Never lowers it, never more than ``max_gain``."""
    import cv2

    skin = skin_region(image.shape[:2], lm68)
    current = laplacian_variance(image, skin)
    if current <= 0 or current >= target:
        return image
    gain = min(max_gain, float(np.sqrt(target / current)))
    f = image.astype(np.float32)
    fine = f - cv2.GaussianBlur(f, (0, 0), 1.0)
    where = feather(skin.astype(np.uint8) * 255, face_axes(lm68)[2] * 0.03)[..., None]
    return np.clip(f + (gain - 1.0) * fine * where + 0.5, 0, 255).astype(np.uint8)


def embedding_of_aligned(image: np.ndarray, lm68: np.ndarray) -> np.ndarray:
    """dlib embedding of a morphed crop: landmarks are refitted in the box the mesh implies."""
    from gpu_worker.face.detect import face_at
    from gpu_worker.face.embed import embedding

    x0, y0 = lm68.min(0)
    x1, y1 = lm68.max(0)
    # dlib boxes run from about the brow line to the chin; widen slightly like its detector does.
    pad = 0.05 * (x1 - x0)
    box = (int(x0 - pad), int(y0 - pad), int(x1 + pad), int(y1 + pad))
    return embedding(image, face_at(image, box))
