"""A virtual model's face asset: prepared once when the face enters a gallery, used by every job that shows it.

``prepare_asset(photo)`` finds the face (MediaPipe mesh, see ``landmarks_mesh.py``), and stores, in Gasang's
canonical frontal layout (``layout.py``, ``TEXTURE`` px square):
- ``texture``: the face's skin and features with the photo's **lighting removed**: second-order spherical-harmonic
  shading fitted on the skin with the mesh normals is divided out, then what is left of low-frequency light and
  shadow on the skin (highlights, cast shadows) is flattened, keeping the fine texture and the features;
- the photo's **own occluders masked and filled**: hair on the forehead, glasses frames and other non-skin colours
  inside the face (``mask.face_mask``) and the side of a turned head the camera saw at a grazing angle are replaced by
  the mirrored texel of the other side where that one is clean, otherwise inpainted; an open mouth is closed. Only the
  face inside the mesh outline is stored, so background and the photo's hair never travel with the asset;
- ``shape``: the face's identity shape (its mesh turned frontal, inter-ocular distance 1), and ``embedding``: the
  dlib 128-D descriptor of the photo (the reference the catalogue consistency score is measured against).

Limits: face at least ``MIN_SIZE`` px, turned at most ``MAX_YAW`` degrees. Versioned (``ASSET_VERSION``): an
asset of another version is refused on load and must be prepared again (``manage.py prepare_face_assets``).
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np

from gpu_worker.face.errors import FaceEngineError

ASSET_VERSION = 2
MIN_SIZE = 80  # px, the face box: smaller faces do not hold the detail a catalogue of shots needs
MAX_YAW = 55.0  # degrees; beyond, less than half of the far cheek is seen even at a grazing angle
EDGE_BAND = 0.03  # of the texture side: the band inside the mesh outline filled from further in


@dataclass
class FaceAsset:
    texture: np.ndarray  # (T, T, 3) uint8 RGB, lighting removed, canonical layout
    shape: np.ndarray  # (478, 3) float32 identity shape in the layout frame
    embedding: np.ndarray  # (128,) float32 dlib descriptor of the photo
    skin_lab: np.ndarray  # (3,) float32 mean Lab (8-bit OpenCV scale) of the de-lit skin
    info: dict = field(default_factory=dict)
    _normals: np.ndarray | None = field(default=None, repr=False, compare=False)

    def normal_map(self) -> np.ndarray:
        """(T, T, 3) normals of the face's own shape at the layout's texture positions (computed once per asset)."""
        if self._normals is None:
            from gpu_worker.face.layout import normal_map

            self._normals = normal_map(self.shape)
        return self._normals

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            version=np.int32(ASSET_VERSION),
            texture=self.texture,
            shape=self.shape.astype(np.float32),
            embedding=self.embedding.astype(np.float32),
            skin_lab=self.skin_lab.astype(np.float32),
            info=np.frombuffer(_json(self.info).encode(), dtype=np.uint8),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> FaceAsset:
        import json

        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                version = int(npz["version"])
                if version != ASSET_VERSION:
                    raise FaceEngineError(
                        "asset_outdated", f"the face asset is version {version}, this worker needs {ASSET_VERSION}"
                    )
                return cls(
                    texture=npz["texture"],
                    shape=npz["shape"].astype(np.float64),
                    embedding=npz["embedding"].astype(np.float64),
                    skin_lab=npz["skin_lab"].astype(np.float64),
                    info=json.loads(npz["info"].tobytes().decode()),
                )
        except FaceEngineError:
            raise
        except (ValueError, KeyError, OSError) as exc:
            raise FaceEngineError("bad_asset", f"the face asset cannot be read: {exc}") from exc

    def summary(self) -> dict:
        return {"version": ASSET_VERSION, **self.info}


def _json(value: dict) -> str:
    import json

    return json.dumps(value, sort_keys=True)


def find_asset_face(image: np.ndarray, role: str = "source"):
    """The largest fitted face of ``image``, checked against the asset's limits."""
    from gpu_worker.face.detect import analyze, check_usable
    from gpu_worker.face.select import select_face

    face = select_face(analyze(image), largest=True, role=role)
    check_usable(face, role, min_size=MIN_SIZE, max_yaw=MAX_YAW)
    if face.mesh is None:
        raise FaceEngineError(
            "no_face", f"the {role} face could not be fitted (too small, blurred, covered or turned)"
        )
    return face


def layout_maps(face) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.remap`` maps (and coverage) taking ``face``'s photo into the canonical layout."""
    from gpu_worker.face.layout import TEXTURE, layout
    from gpu_worker.face.mesh import affine_maps

    lay = layout()
    return affine_maps(face.mesh[:, :2], lay.uv, (TEXTURE, TEXTURE), lay.triangles)


def unwrap(image: np.ndarray, face, maps: tuple | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple]:
    """(texture float32 RGB, per-texel visibility 0..1, per-texel normals in the camera frame, pose fit) of
    ``face`` in ``image`` resampled into the canonical layout; ``maps``: its ``layout_maps`` when already made."""
    import cv2

    from gpu_worker.face.layout import pose_fit, texture_maps

    normals_uv, region, _ = texture_maps()
    scale, rot, trans = pose_fit(face.mesh)
    map_x, map_y, covered = maps or layout_maps(face)
    texture = cv2.remap(image.astype(np.float32), map_x, map_y, cv2.INTER_AREA if scale > 1 else cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT_101)
    camera_normals = normals_uv @ rot.T
    # Facing = how squarely the camera saw the texel; a grazing texel is smeared over few photo pixels.
    facing = np.clip(-camera_normals[:, :, 2], 0, 1)
    visibility = np.clip((facing - 0.2) / 0.35, 0, 1) * (covered > 0) * (region > 0)
    return texture, visibility.astype(np.float32), camera_normals.astype(np.float32), (scale, rot, trans)


def occluder_visibility(image: np.ndarray, face, maps: tuple | None = None) -> np.ndarray:
    """1 where the photo shows the face's own skin or features, 0 on its occluders (hair, frames), in the layout."""
    import cv2

    from gpu_worker.face.mask import face_mask
    from gpu_worker.face.mesh import dense_points, outline_polygon

    mask, _ = face_mask(image, face.landmarks68, occlusion=True)
    mask_full = mask.astype(np.float32) / 255.0
    map_x, map_y, _ = maps or layout_maps(face)
    # Pixels outside face_mask's own outline (its forehead arc is lower than the mesh's top) count as visible.
    outline = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(outline, [outline_polygon(dense_points(face.landmarks68))], 255)
    mask_full = np.where(outline > 0, mask_full, 1.0).astype(np.float32)
    return cv2.remap(mask_full, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def texture_occluders(texture: np.ndarray, trust: np.ndarray) -> np.ndarray:
    """0..1 trust of each texel that it shows the face's own skin or features (1) rather than an occluder (0),
    judged in the frontal layout where every face has its cheeks, eyes and lips at the same place:
    - colour: Lab distance to a robust skin model fitted on the trusted skin texels (flowers, fabric, a hand in a
      glove, dark or coloured hair);
    - strands: thin lines much brighter or darker than their surroundings (fair hair on fair skin has skin-like
      colour but is drawn in strands);
    - asymmetry: a texel far from its mirror partner while being the less skin-like of the two (a fringe or a lock
      on one side).
    The eyes, brows, nostrils and lips of the layout are never called occluders."""
    import cv2

    from gpu_worker.face.layout import TEXTURE, layout68, texture_maps
    from gpu_worker.face.mask import feature_mask

    _, region, skin = texture_maps()
    lab = cv2.cvtColor(np.clip(texture, 0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    sample = (skin > 0) & (trust > 0.5)
    if sample.sum() < 100:
        return trust
    px = lab[sample]
    for _ in range(2):  # robust: refit on the 70 % nearest to the first fit
        mean = px.mean(0)
        cov = np.cov(px.T) + np.diag([9.0, 2.0, 2.0])
        inv = np.linalg.inv(cov)
        d2 = np.einsum("ni,ij,nj->n", px - mean, inv, px - mean)
        px = px[d2 <= np.percentile(d2, 70)]
    diff = lab - mean
    maha = np.einsum("hwi,ij,hwj->hw", diff, inv, diff)
    colour_off = maha > 16.0
    lum = lab[:, :, 0]
    local = cv2.medianBlur(np.clip(lum, 0, 255).astype(np.uint8), 7).astype(np.float32)
    strands = np.abs(lum - local) > 14.0
    strands = cv2.morphologyEx(strands.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
    lm = layout68()
    forehead = np.zeros((TEXTURE, TEXTURE), bool)
    forehead[: int(lm[17:27, 1].mean())] = True
    # Above the brows fringes are the usual occluder: finer strands and hair shadow count there.
    wide = cv2.medianBlur(np.clip(lum, 0, 255).astype(np.uint8), 15).astype(np.float32)
    strands |= forehead & ((np.abs(lum - local) > 9.0) | (np.abs(lum - wide) > 12.0))
    colour_off |= forehead & (lum < float(mean[0]) - 28.0)
    mirror_gap = np.abs(lum - lum[:, ::-1]) > 22.0
    less_skin = maha > maha[:, ::-1]
    features = feature_mask((TEXTURE, TEXTURE), lm, grow=0.14) > 0
    # The brows with a generous band: a brow tail is a line too, and mirroring it would double the brow.
    brows = np.zeros((TEXTURE, TEXTURE), np.uint8)
    for brow in (lm[17:22], lm[22:27]):
        ends = np.vstack([brow[0] + 0.25 * (brow[0] - brow[1]), brow, brow[-1] + 0.25 * (brow[-1] - brow[-2])])
        cv2.polylines(brows, [ends.round().astype(np.int32)], False, 255, int(TEXTURE * 0.045))
    features |= brows > 0
    # Strands and one-sided locks are looked for where hair falls (forehead, temples, the sides of the face), not in
    # the middle of the face, where lashes, makeup edges and wrinkles are lines too.
    outer = forehead | (cv2.distanceTransform(region, cv2.DIST_L2, 5) < TEXTURE * 0.1)
    occluder = ((strands | (mirror_gap & less_skin) | (maha > 6.0)) & outer | colour_off) & ~features
    occluder &= region > 0
    occluder = cv2.morphologyEx(occluder.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    occluder = cv2.dilate(occluder, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    soft = cv2.GaussianBlur(occluder.astype(np.float32), (0, 0), 4.0)
    return (trust * (1.0 - np.clip(soft * 1.5, 0, 1))).astype(np.float32)


def divide_shading(texture: np.ndarray, normals: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The texture (float32 RGB) with second-order SH shading, fitted on the trusted skin (``weight``) with the
    camera-frame ``normals``, divided out of its lightness."""
    import cv2

    from gpu_worker.face.layout import fit_shading, sh_basis, texture_maps

    _, _, skin = texture_maps()
    lab = cv2.cvtColor(np.clip(texture, 0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    skin_w = (skin > 0) * weight
    shading = sh_basis(normals) @ fit_shading(lab[:, :, 0], normals, skin_w)
    trusted = skin_w > 0.5
    level = float(np.average(shading[trusted], weights=skin_w[trusted])) if trusted.any() else 128.0
    lab[:, :, 0] = lab[:, :, 0] / np.clip(shading / max(level, 1.0), 0.35, 2.0)
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32)


def flatten_skin(texture: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(texture float32 RGB, median skin Lab): what SH cannot explain (highlights, hair shadows, a hot cheek)
    flattened out of the skin's low frequencies, the fine texture and the features kept."""
    import cv2

    from gpu_worker.face.blend import normalised_blur
    from gpu_worker.face.layout import TEXTURE, texture_maps

    _, region, skin = texture_maps()
    lab = cv2.cvtColor(np.clip(texture, 0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    skin_w = ((skin > 0) * weight).astype(np.float32)
    trusted = skin_w > 0.5
    skin_soft = cv2.GaussianBlur((skin > 0).astype(np.float32), (0, 0), TEXTURE * 0.02) * (region > 0)
    for ch, strength in ((0, 1.0), (1, 0.8), (2, 0.8)):
        low = normalised_blur(lab[:, :, ch], skin_w, TEXTURE * 0.05)
        target = float(np.median(lab[:, :, ch][trusted])) if trusted.any() else float(low.mean())
        lab[:, :, ch] += strength * skin_soft * (target - low)
    skin_lab = np.array([np.median(lab[:, :, c][trusted]) if trusted.any() else 128.0 for c in range(3)])
    rgb = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB).astype(np.float32)
    return rgb, skin_lab.astype(np.float32)


def fill_hidden(texture: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, float]:
    """Texels with low ``weight`` taken from their mirror (when that one is trusted), the rest inpainted.
    Returns (texture uint8, share of the face region taken from the mirror)."""
    import cv2

    from gpu_worker.face.layout import texture_maps

    _, region, _ = texture_maps()
    mirrored, mirrored_w = texture[:, ::-1], weight[:, ::-1]
    take = np.clip(1.0 - weight, 0, 1) * mirrored_w
    total = weight + take
    out = (texture * weight[..., None] + mirrored * take[..., None]) / np.maximum(total, 1e-6)[..., None]
    trusted = (total >= 0.3) & (region > 0)
    hole = ((total < 0.3) & (region > 0)).astype(np.uint8) * 255
    out8 = np.clip(out, 0, 255).astype(np.uint8)
    if hole.any() and trusted.any():
        # Inpaint from the trusted face only: outside the face outline the texture is empty (black), and a band
        # along the outline inpainted from there turns grey. Those texels take the face's median colour first.
        out8[region == 0] = np.median(out8[trusted], axis=0).astype(np.uint8)
        out8 = cv2.inpaint(out8, hole, 5, cv2.INPAINT_TELEA)
        out8[region == 0] = 0
    mirrored_share = float(((take > weight) & (region > 0)).sum()) / max(1, int((region > 0).sum()))
    return out8, mirrored_share


def close_mouth(texture: np.ndarray) -> np.ndarray:
    """Inpaint between the inner lips in the layout, so a photo with an open mouth gives a closed texture. A smile's
    teeth and mouth cavity squeezed next to the lip line (much brighter and greyer, or much darker, than the lips)
    are inpainted too, so they do not come out as a dark or white line on a closed mouth."""
    import cv2

    from gpu_worker.face.layout import layout

    lay = layout()
    hole = np.zeros(texture.shape[:2], np.uint8)
    cv2.fillPoly(hole, [lay.uv[lay.inner_lips].round().astype(np.int32)], 255)
    lips = np.zeros(texture.shape[:2], np.uint8)
    cv2.fillPoly(lips, [cv2.convexHull(lay.uv[lay.lips].astype(np.float32))[:, 0].round().astype(np.int32)], 255)
    lab = cv2.cvtColor(texture, cv2.COLOR_RGB2LAB).astype(np.float32)
    ring = (lips > 0) & (hole == 0)
    if ring.sum() > 20:
        lip_l = float(np.median(lab[:, :, 0][ring]))
        chroma = np.hypot(lab[:, :, 1] - 128, lab[:, :, 2] - 128)
        lip_c = float(np.median(chroma[ring]))
        odd = (lab[:, :, 0] < lip_l - 35) | ((lab[:, :, 0] > lip_l + 25) & (chroma < 0.6 * lip_c))
        band = cv2.dilate(hole, np.ones((9, 9), np.uint8)) > 0
        hole[(odd & band & (lips > 0))] = 255
    hole = cv2.dilate(hole, np.ones((3, 3), np.uint8))
    return cv2.inpaint(texture, hole, 4, cv2.INPAINT_TELEA)


EYES_CLOSED_RATIO = 0.12  # eye aspect ratio (lid gap / eye width, both eyes' mean): 0.06 closed, >= 0.17 open here
GLASSES_RING_SHARE = 0.5  # share of the band under the eyes that is not skin: thick frames; thin metal ones pass
# What makes a photo unfit to be blended into new faces (generate contributors); it can still be a swap model.
CONTRIBUTOR_PROBLEMS = ("glasses", "turned", "small", "eyes_closed", "forehead_covered")


def eye_ratio(lm68: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes (lid gap over eye width)."""
    from gpu_worker.face.mesh import EYE_L, EYE_R

    def one(p: np.ndarray) -> float:
        return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * np.linalg.norm(p[0] - p[3])))

    return (one(lm68[EYE_L]) + one(lm68[EYE_R])) / 2


def _under_eye_band() -> np.ndarray:
    """Layout texels of a band below each eye, where a frame's lower rim crosses the cheek."""
    from gpu_worker.face.layout import TEXTURE, layout68
    from gpu_worker.face.mesh import EYE_L, EYE_R

    lm = layout68()
    yy, xx = np.mgrid[0:TEXTURE, 0:TEXTURE]
    band = np.zeros((TEXTURE, TEXTURE), bool)
    for eye in (lm[EYE_L], lm[EYE_R]):
        centre, width = eye.mean(0), np.linalg.norm(eye[0] - eye[3])
        d = np.hypot((xx - centre[0]) / (0.5 * width), (yy - centre[1]) / (0.32 * width))
        band |= (d > 1.5) & (d < 2.6) & (yy > centre[1])
    return band


def photo_warnings(face, weight: np.ndarray) -> list[str]:
    """What in the model's photo will show in its swaps (the asset is still made; the curator sees the list):
    ``forehead_covered`` (hair over most of the forehead: a fringe across the brows stays with the face),
    ``open_mouth`` (a smile's teeth are squeezed into the closed lips), ``turned`` (more than 30 degrees: the far
    side comes from the mirror), ``small`` (under 160 px: the face has less detail than a product shot needs),
    ``eyes_closed`` (the model keeps them closed in every shot), ``glasses`` (thick frames: measured as non-skin
    texels in the band under both eyes; thin metal frames are not detected)."""
    from gpu_worker.face.layout import TEXTURE, layout68, texture_maps
    from gpu_worker.face.mesh import mouth_open

    _, region, _ = texture_maps()
    lm = layout68()
    forehead = (region > 0) & (np.arange(TEXTURE)[:, None] < lm[17:27, 1].min())
    found = {
        "forehead_covered": forehead.any() and float((weight[forehead] < 0.5).mean()) > 0.5,
        "open_mouth": mouth_open(face.landmarks68, threshold=0.06),
        "turned": abs(face.pose.yaw) > 30,
        "small": face.size < 160,
        "eyes_closed": eye_ratio(face.landmarks68) < EYES_CLOSED_RATIO,
        "glasses": float((weight[_under_eye_band()] < 0.5).mean()) > GLASSES_RING_SHARE,
    }
    return [name for name, hit in found.items() if hit]


def prepare_asset(image: np.ndarray, face=None) -> FaceAsset:
    """The asset of the largest face in ``image`` (RGB uint8), or of ``face`` when given. Raises FaceEngineError."""
    import cv2

    from gpu_worker.face.embed import embedding
    from gpu_worker.face.imageio import as_rgb
    from gpu_worker.face.layout import TEXTURE, texture_maps
    from gpu_worker.face.mesh import face_axes

    started = time.perf_counter()
    image = as_rgb(image)
    face = face or find_asset_face(image)
    maps = layout_maps(face)
    texture, visible, normals, (scale, rot, trans) = unwrap(image, face, maps)
    unoccluded = occluder_visibility(image, face, maps)
    # The mesh outline often runs a little beyond the face's real edge (background, hair, the ear's shadow): the
    # texels near it are never trusted, and are filled from further in.
    edge = cv2.distanceTransform(texture_maps()[1], cv2.DIST_L2, 5) / (TEXTURE * EDGE_BAND)
    weight = visible * unoccluded * np.clip(edge - 0.5, 0, 1).astype(np.float32)
    shaded_out = divide_shading(texture, normals, weight)
    weight = texture_occluders(shaded_out, weight)
    filled, mirrored_share = fill_hidden(shaded_out, weight)
    # Flattened after the fill, so a mirrored or inpainted patch takes its surroundings' level (no seam).
    delit, skin_lab = flatten_skin(filled.astype(np.float32), np.maximum(weight, 0.5))
    filled = np.clip(delit, 0, 255).astype(np.uint8)
    filled = close_mouth(filled)
    frontal = ((face.mesh - trans) @ rot) / scale  # R^T (p - t) / s, row-vector form
    _, region, _ = texture_maps()
    region_share = float(((weight < 0.5) & (region > 0)).sum() / max(1, int((region > 0).sum())))
    _, _, face_scale = face_axes(face.landmarks68)
    warnings = photo_warnings(face, weight)
    descriptor = embedding(image, face).astype(np.float32)
    info = {
        "warnings": warnings,
        "contributor_problems": [w for w in warnings if w in CONTRIBUTOR_PROBLEMS],
        # The web tier screens generated faces against every gallery face with these (numpy only, no models).
        "embedding": [round(float(v), 5) for v in descriptor],
        "face_px": int(face.size),
        "yaw": float(face.pose.yaw),
        "pitch": float(face.pose.pitch),
        "occluded_share": round(region_share, 4),
        "mirrored_share": round(mirrored_share, 4),
        "source_scale_px": round(float(face_scale), 1),
        "prepare_s": round(time.perf_counter() - started, 3),
    }
    return FaceAsset(
        texture=filled,
        shape=frontal.astype(np.float32),
        embedding=descriptor,
        skin_lab=skin_lab,
        info=info,
    )
