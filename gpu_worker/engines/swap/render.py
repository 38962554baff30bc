"""Render a virtual model's face asset into a product shot: the classical swap.

In: the face asset (``gpu_worker.face.asset``), the target image and its ``Face`` (with the MediaPipe mesh).
Out: the target image with the face replaced, same size; outside the face it stays bit-exact.

1. **Geometry.** The layout's frontal head is fitted to the target's mesh (pose). Each mesh vertex goes where the
   target has it (pose and expression) moved by ``identity`` of the way towards the asset's own shape posed the
   same way (its proportions: the identity). The inner lips always follow the target (its mouth opening, teeth),
   the outline follows it more (``outline``), so the face fits the head and hair.
2. **Visibility.** Triangles are drawn far to near (mesh depth), so on a head turned up to ``MAX_YAW`` the near
   side covers the folded far side; the far side's texels were filled from the mirror when the asset was prepared.
3. **Lighting and grain.** The asset's texture has no lighting of its own. Second-order spherical-harmonic
   shading is fitted on the target's skin with the posed mesh normals and multiplied in; what SH cannot express
   (a cast shadow, a hot spot of the target's light) is imposed on the skin's low frequencies
   (``residual_light``). Skin tone follows the
   target's skin (``tone``) so face and neck agree; the asset's fine texture is kept and the shot's own pixel-level
   grain is laid over it (``grain``), so the face is neither airbrushed nor sharper than the photo around it.
4. **Mask and blend.** The target's own occluders in front of the face (hair, glasses, non-skin objects:
   ``mask.face_mask``) and an open mouth's interior stay; the forehead fades out towards the hairline instead of
   stopping at a line; a Laplacian-pyramid blend joins the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpu_worker.face.asset import FaceAsset
from gpu_worker.face.blend import feather, pyramid_blend
from gpu_worker.face.detect import Face
from gpu_worker.face.landmarks_mesh import to68
from gpu_worker.face.layout import fit_shading, layout, pose_fit, sh_basis, texture_maps
from gpu_worker.face.mask import face_mask, feature_mask
from gpu_worker.face.mesh import MOUTH_INNER, affine_maps, face_axes, mouth_open

WORK_SCALE = 220.0  # px eye-to-chin in the working crop; smaller faces are upscaled to this
MAX_YAW = 55.0  # degrees, target face
RESIDUAL_PASSES = 4
RESIDUAL_LIMIT = 45.0  # 8-bit L levels: the most the residual light may change a pixel
_DEBUG: dict | None = None  # set to a dict to receive the intermediate images (bench and tests)


@dataclass(frozen=True)
class RenderSettings:
    # Share of the asset's own proportions carried into the target (0 = the target's geometry, 1 = the asset's
    # shape posed like the target). 0.6 is where bench/product_quality.py meets the identity goal with the landmark
    # error still under 0.03 of the inter-ocular distance.
    identity: float = 0.6
    outline: float = 0.15  # the same for the face outline (jaw, temples): the face must cover the target's
    residual_light: float = 0.7  # how much of the target's low-frequency light beyond SH is imposed
    tone: float = 0.8  # how far the skin tone moves to the target's
    grain: float = 0.7  # share of the shot's own fine skin grain (pores, sensor noise, JPEG) laid over the face
    occlusion: bool = True


def _crop_box(points: np.ndarray, shape: tuple[int, ...], pad: float) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    lo, hi = points.min(0), points.max(0)
    margin = (hi - lo).max() * pad
    x0, y0 = np.floor(lo - margin).astype(int)
    x1, y1 = np.ceil(hi + margin).astype(int)
    return max(0, x0), max(0, y0), min(w, x1), min(h, y1)


def destination(
    asset: FaceAsset, mesh: np.ndarray, settings: RenderSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(destination 2-D points of the 478 vertices, the posed asset shape (478, 3), the pose's rotation) in
    ``mesh``'s pixels."""
    lay = layout()
    scale, rot, trans = pose_fit(mesh)
    posed = scale * asset.shape @ rot.T + trans
    # The asset's shape is aligned to the target on the rigid vertices only, so its proportions are what differ.
    keep = np.full(len(mesh), settings.identity)
    keep[lay.oval] = settings.outline
    keep[lay.inner_lips] = 0.0
    dst = mesh[:, :2] + keep[:, None] * (posed[:, :2] - mesh[:, :2])
    return dst, posed, rot


def ordered_triangles(depth: np.ndarray) -> np.ndarray:
    """The layout's triangles ordered far to near by the target mesh's depth. None is culled: near the silhouette
    of a turned head the folded triangles are what covers the face up to its visible edge, and where they overlap
    the near side, the near side is drawn last and wins."""
    tri = layout().triangles
    return tri[np.argsort(-depth[tri].mean(1), kind="stable")]  # larger z = farther (MediaPipe)


def _skin_lab(lab: np.ndarray, region: np.ndarray) -> np.ndarray:
    px = lab[region > 0]
    return np.median(px, axis=0) if len(px) >= 20 else lab.reshape(-1, 3).mean(0)


def render(
    asset: FaceAsset, target: np.ndarray, tgt_face: Face, settings: RenderSettings | None = None
) -> tuple[np.ndarray, dict]:
    """(result image, info); see the module doc."""
    settings = settings or RenderSettings()
    import cv2

    lay = layout()
    _, region_uv, _ = texture_maps()
    mesh = tgt_face.mesh
    if mesh is None:
        raise ValueError("the target face has no mesh")
    x0, y0, x1, y1 = _crop_box(mesh[:, :2], target.shape, 0.12)
    crop = target[y0:y1, x0:x1]
    _, _, t_scale = face_axes(tgt_face.landmarks68)
    up = float(np.clip(WORK_SCALE / t_scale, 1.0, 4.0))
    work = cv2.resize(crop, None, fx=up, fy=up, interpolation=cv2.INTER_CUBIC) if up > 1.0 else crop.copy()
    mesh_w = np.column_stack([(mesh[:, :2] - [x0, y0]) * up, mesh[:, 2] * up])
    lm_w = (tgt_face.landmarks68 - [x0, y0]) * up
    scale = t_scale * up
    shape2 = work.shape[:2]

    dst, posed, rot = destination(asset, mesh_w, settings)
    tris = ordered_triangles(mesh_w[:, 2])
    # Maps from the work crop into the texture (each pixel's texel), so remap samples the texture.
    tex_x, tex_y, covered = affine_maps(lay.uv, dst, shape2, tris)
    texture = cv2.remap(asset.texture, tex_x, tex_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside_uv = cv2.remap(region_uv, tex_x, tex_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT)
    # The model's own head shape under the shot's light: its normals, not a generic head's.
    normals = cv2.remap(asset.normal_map(), tex_x, tex_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) @ rot.T
    normals /= np.linalg.norm(normals, axis=2, keepdims=True) + 1e-6
    # Thin slivers along a turned head's silhouette make a saw-tooth edge: open the coverage first.
    k = max(3, int(scale * 0.04) | 1)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    covered = cv2.morphologyEx(covered & inside_uv, cv2.MORPH_OPEN, disc)

    # The target's skin: its face minus occluders, features and the mouth.
    tgt_mask, occluded = face_mask(
        work, lm_w, occlusion=settings.occlusion, strict_edges=True, outline=mesh_w[lay.oval, :2]
    )
    # Skin of each face: the target's without its eyes, brows and lips, the render's without the model's.
    target_features = feature_mask(shape2, lm_w, grow=0.08)
    rendered_features = feature_mask(shape2, to68(np.column_stack([dst, posed[:, 2]])), grow=0.08)
    work_lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB).astype(np.float32)
    target_skin = (tgt_mask > 0) & (target_features == 0) & (covered > 0)
    skin = target_skin & (rendered_features == 0)
    coeffs = fit_shading(work_lab[:, :, 0], normals, skin.astype(np.float32))
    # SH extrapolates at grazing normals (the silhouette): never brighter or darker than the target's own skin.
    lo, hi = np.percentile(work_lab[:, :, 0][skin], [1, 99]) if skin.sum() > 50 else (5, 255)
    shading = np.clip(sh_basis(normals) @ coeffs, max(5.0, lo), hi).astype(np.float32)

    tex_lab = cv2.cvtColor(texture, cv2.COLOR_RGB2LAB).astype(np.float32)
    albedo = tex_lab[:, :, 0] / max(float(asset.skin_lab[0]), 1.0)
    out_lab = tex_lab.copy()
    out_lab[:, :, 0] = albedo * shading
    target_tone = _skin_lab(work_lab, skin)
    out_lab[:, :, 1:] += settings.tone * (target_tone[1:] - asset.skin_lab[1:])
    rendered = cv2.cvtColor(np.clip(out_lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)

    mask = (tgt_mask & covered).astype(np.uint8)
    target_mouth_open = mouth_open(lm_w)
    if target_mouth_open:
        cv2.fillPoly(mask, [lm_w[MOUTH_INNER].round().astype(np.int32)], 0)
    if settings.residual_light > 0:
        rendered_skin = (mask > 0) & (rendered_features == 0)
        rendered = _impose_residual_light(
            rendered, work_lab, target_skin, rendered_skin, mask, scale, settings.residual_light
        )

    if settings.grain > 0:
        rendered = _add_target_grain(rendered, work_lab, target_skin, up, settings.grain)

    alpha = feather(mask, radius=scale * 0.045) * _forehead_fade(shape2, lm_w, mesh_w)
    blended = pyramid_blend(rendered, work, alpha)
    if _DEBUG is not None:
        _DEBUG.update(work=work, rendered=rendered, skin=skin, mask=mask, alpha=alpha)
    if up > 1.0:
        blended = cv2.resize(blended, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    out = target.copy()
    region = out[y0:y1, x0:x1]
    touched = cv2.dilate((alpha > 0).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    region[touched] = blended[touched]
    info = {
        "occluded_fraction": round(occluded, 4),
        "target_mouth_open": target_mouth_open,
        "work_scale": round(up, 3),
        "shading_sh": [round(float(c), 2) for c in coeffs],
    }
    return out, info


def _impose_residual_light(
    rendered: np.ndarray, work_lab: np.ndarray, target_skin: np.ndarray, rendered_skin: np.ndarray,
    mask: np.ndarray, scale: float, strength: float,
) -> np.ndarray:
    """Scale the rendered lightness by the ratio of the target's to the render's low-frequency skin lightness.

    Each low-pass image is taken over its own face's skin only (the target's without its eyes, brows and lips, the
    render's without the model's), so the ratio compares light on skin with light on skin: the target's dark brows
    do not come back as a smudge on the model's forehead, and the model's red lips leave no halo. Chroma is left
    alone (imposing it tints the skin around the lips green). Additive passes (``RESIDUAL_PASSES``): one pass leaves
    the low-pass short of the target's, because the correction is blurred again by the very low-pass it corrects."""
    import cv2

    from gpu_worker.face.blend import normalised_blur

    lab = cv2.cvtColor(rendered, cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = mask.shape
    # The correction is smooth (a sum of low-pass fields): it is computed on a copy ``f`` times smaller.
    f = max(1.0, scale * 0.12 / 12.0)
    size = (max(8, round(w / f)), max(8, round(h / f)))

    def small(image: np.ndarray) -> np.ndarray:
        return cv2.resize(image.astype(np.float32), size, interpolation=cv2.INTER_AREA)

    sigma = scale * 0.12 / f
    low_t = normalised_blur(small(work_lab[:, :, 0]), small(target_skin), sigma)
    weight = small(rendered_skin)
    inside = small(mask > 0) > 0.5
    start = small(lab[:, :, 0])
    lum = start.copy()
    for _ in range(RESIDUAL_PASSES):
        lum = np.where(inside, lum + strength * (low_t - normalised_blur(lum, weight, sigma)), lum)
    delta = cv2.resize(np.clip(lum - start, -RESIDUAL_LIMIT, RESIDUAL_LIMIT), (w, h), interpolation=cv2.INTER_LINEAR)
    lab[:, :, 0] = np.clip(lab[:, :, 0] + np.where(mask > 0, delta, 0.0), 0, 255)
    return cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2RGB)


def _add_target_grain(
    rendered: np.ndarray, work_lab: np.ndarray, target_skin: np.ndarray, up: float, strength: float
) -> np.ndarray:
    """Lay the shot's finest lightness detail (about one original pixel: pores, noise, compression) over the
    rendered skin, so the face has the same grain as the neck and the rest of the photo instead of looking
    airbrushed; the model's own features and larger detail are untouched (the band is below their scale)."""
    import cv2

    sigma = max(0.8, 0.9 * up)
    lum = work_lab[:, :, 0]
    grain = lum - cv2.GaussianBlur(lum, (0, 0), sigma)
    where = cv2.GaussianBlur(target_skin.astype(np.float32), (0, 0), 2.0 * up)
    lab = cv2.cvtColor(rendered, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[:, :, 0] = np.clip(lab[:, :, 0] + strength * where * np.clip(grain, -20, 20), 0, 255)
    return cv2.cvtColor(lab.astype(np.uint8), cv2.COLOR_LAB2RGB)


def _forehead_fade(shape: tuple[int, int], lm68: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """1 up to a little above the brows, fading to 0 at the top of the mesh: the hairline keeps the target's skin."""
    _, up, scale = face_axes(lm68)
    brow = lm68[17:27].mean(0)
    top = float(((mesh[:, :2] - brow) @ up).max())
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    height = (xx - brow[0]) * up[0] + (yy - brow[1]) * up[1]
    start = 0.12 * scale
    ramp = np.clip((top - height) / max(top - start, 1.0), 0, 1)
    return np.where(height < start, 1.0, ramp**0.7).astype(np.float32)
