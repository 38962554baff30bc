"""Second-generation engine (classical, CPU): predict a child's face from two parent photos.

Inputs: ``parent_a``, ``parent_b`` (largest face of each). Params: ``weight_a`` 0..1 (share of
parent A, default 0.5); ``sex`` ("girl" | "boy", optional); ``age_band`` ("3-6" |
"7-12", default "3-6"); ``size`` (256 | 512 | 1024, default 1024); ``min_face_size``; ``max_yaw``.
Procedure: FFHQ-align both parents, morph them (shape and texture) with the weights, apply the age band's
child-face shape prior (``CHILD_PRIOR``: larger and wider-set eyes, shorter nose and much shorter lower face, a
smaller jaw, the whole face smaller in the head so the forehead is higher; a girl gets a slightly narrower jaw
and fuller lips, a boy a slightly wider jaw and lower brows), smooth the skin, take the lipstick off
(``natural_lips``) and frame it on a generated studio backdrop (``generate.studio``). A heuristic illustration,
not a genetic prediction; the hair is still the heavier parent's.
Output: the child portrait; metadata holds its dlib distances to both parents and ``resemblance`` (the nearer
parent, or "both" within 0.03).
Codes: ``no_face``, ``face_too_small``, ``face_turned``, ``bad_parameter``, ``license_restricted``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import EngineResult, Timer
from gpu_worker.engines.generate.morph import analyze_contributors, embedding_of_aligned, morph
from gpu_worker.engines.generate.shape_edits import apply_edits
from gpu_worker.engines.generate.studio import NEUTRAL, studio_portrait
from gpu_worker.engines.second_generation.params import INPUTS, parse, resemblance

NAME = "second_generation"
VERSION = "classical-1.0"
PARAMS = {"weight_a", "sex", "size", "min_face_size", "max_yaw", "age_band"}

# A child's face relative to an adult's (relative amounts of shape_edits.EDITS), per age band. From the
# anthropometric growth data (Farkas, "Anthropometry of the Head and Face", 1994): the eyes reach near-adult size
# early while the face keeps widening and lengthening, so eyes are larger relative to the face; the nose and the
# lower face (subnasale-gnathion) grow most after early childhood, so both are shorter; the forehead is relatively
# higher; the jaw is smaller and rounder. 3-6 is further from the adult than 7-12.
CHILD_PRIOR = {
    "3-6": {"eye_spacing": 0.07, "eye_size": 0.24, "nose_length": -0.10, "nose_width": -0.10,
            "mouth_width": -0.14, "jaw_width": -0.08, "brow_height": 0.04, "lower_face": -0.30,
            "face_scale": -0.10},
    "7-12": {"eye_spacing": 0.04, "eye_size": 0.13, "nose_length": -0.05, "nose_width": -0.06,
             "mouth_width": -0.08, "jaw_width": -0.04, "brow_height": 0.02, "lower_face": -0.17,
             "face_scale": -0.05},
}
SEX_PRIOR = {
    "girl": {"jaw_width": -0.03, "lip_height": 0.08, "brow_height": 0.02},
    "boy": {"jaw_width": 0.03, "brow_height": -0.02},
}


CLEAR_SKIN_DARKER = 14.0  # 8-bit L below the face's median skin that counts as beard, stubble or a crease
CHILD_GRAIN = 0.3  # share of the skin's finest grain kept on the child's smoothed skin
# Share of weight_a's lean (away from 0.5) the skin texture follows; the shape follows all of it. Measured with
# bench/virtual_faces.py, 20 pairs at 0.3 / 0.7: 0.7 left 4 children over 0.75 from the lighter parent, 0.5 one.
TEXTURE_LEAN = 0.5

# A child wears no lipstick: the lips keep this share of their colour's distance from the skin's.
LIP_COLOUR_KEEP = {"3-6": 0.35, "7-12": 0.45}


def natural_lips(image: np.ndarray, lm68: np.ndarray, keep: float) -> np.ndarray:
    """Bring the lips' colour (and darkness) most of the way back to a natural pink near the skin's own
    colour, so a parent's lipstick does not end up on the child."""
    import cv2

    from gpu_worker.face.blend import feather
    from gpu_worker.face.mask import skin_sample_mask
    from gpu_worker.face.mesh import MOUTH_OUTER, face_axes

    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    lips = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(lips, [lm68[MOUTH_OUTER].round().astype(np.int32)], 255)
    skin = lab[skin_sample_mask(image.shape[:2], lm68) > 0]
    if not lips.any() or len(skin) < 20:
        return image
    natural = np.median(skin, axis=0) + np.array([-8.0, 14.0, 4.0])  # a little darker and pinker than skin
    mean = lab[lips > 0].mean(0)
    where = feather(lips, face_axes(lm68)[2] * 0.01)[..., None]
    shifted = lab + (1 - keep) * (natural - mean)
    out = lab * (1 - where) + shifted * where
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def child_skin(image: np.ndarray, lm68: np.ndarray) -> np.ndarray:
    """Young skin: no beard, stubble, wrinkles or blemishes. On the face's skin (features left alone) the colour
    becomes the local average of the clear skin only (pixels much darker than the face's skin — hair, stubble,
    creases — do not count), with a trace of the fine grain kept so it does not look painted."""
    import cv2

    from gpu_worker.engines.generate.morph import skin_region
    from gpu_worker.face.blend import feather, normalised_blur
    from gpu_worker.face.mesh import face_axes

    scale = face_axes(lm68)[2]
    skin = skin_region(image.shape[:2], lm68)
    if skin.sum() < 100:
        return image
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    level = np.median(lab[..., 0][skin])
    clear = (skin & (lab[..., 0] > level - CLEAR_SKIN_DARKER)).astype(np.float32)
    # Where a wide patch has no clear skin (a full beard) the wider neighbourhood, then the face's median, fills.
    near = cv2.GaussianBlur(clear, (0, 0), scale * 0.05)[..., None]
    wide = cv2.GaussianBlur(clear, (0, 0), scale * 0.2)[..., None]
    median = np.median(lab[clear > 0], axis=0) if clear.sum() > 50 else np.median(lab[skin], axis=0)
    base_near = np.dstack([normalised_blur(lab[..., c], clear, scale * 0.05) for c in range(3)])
    base_wide = np.dstack([normalised_blur(lab[..., c], clear, scale * 0.2) for c in range(3)])
    trust_near, trust_wide = np.clip(near / 0.3, 0, 1), np.clip(wide / 0.3, 0, 1)
    base = trust_near * base_near + (1 - trust_near) * (trust_wide * base_wide + (1 - trust_wide) * median)
    grain = lab - cv2.GaussianBlur(lab, (0, 0), 1.2)
    young = base + CHILD_GRAIN * grain
    where = feather(skin.astype(np.uint8) * 255, scale * 0.03)[..., None]
    out = lab * (1 - where) + young * where
    return cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def child_edits(sex: str | None, age_band: str = "3-6") -> dict[str, float]:
    """The child prior of ``age_band``, adjusted for the chosen sex."""
    edits = dict(CHILD_PRIOR[age_band])
    for name, value in SEX_PRIOR.get(sex or "", {}).items():
        edits[name] = edits.get(name, 0.0) + value
    return edits


def run(inputs: dict[str, np.ndarray], params: dict[str, Any] | None = None) -> EngineResult:
    """Morph the two parents, apply the child prior, smooth the skin and report parent distances."""
    params, images, weight_a, sex, size, age_band = parse(inputs, params, PARAMS)
    timer = Timer()
    from gpu_worker.face.embed import distance

    faces, refs, aligned = analyze_contributors(images, INPUTS, params, size, timer)
    weights = np.array([weight_a, 1.0 - weight_a])
    with timer.stage("morph"):
        mixed = weights[0] * aligned[0].lm68 + weights[1] * aligned[1].lm68
        lm = apply_edits(mixed, child_edits(sex, age_band))
        # The face's texture leans less than its shape: a child takes colouring from both parents.
        texture = 0.5 + TEXTURE_LEAN * (weights - 0.5)
        image, _, inside = morph(aligned, texture, target_lm=lm, base=int(np.argmax(weights)), frame_follows=True)
        image = child_skin(image, lm)
        image = natural_lips(image, lm, LIP_COLOUR_KEEP[age_band])
    with timer.stage("studio"):
        image, lm, zoom = studio_portrait(image, lm, inside, NEUTRAL, 0)
    with timer.stage("distances"):
        emb = embedding_of_aligned(image, lm)
        dists = {k: round(distance(emb, r), 4) for k, r in zip(INPUTS, refs)}
    return EngineResult(
        image=image,
        metadata={
            "engine": NAME,
            "version": VERSION,
            "size": size,
            "weight_a": weight_a,
            "sex": sex,
            "age_band": age_band,
            "background": "generated",
            "framing": {"zoom": round(zoom, 3)},
            "parent_faces": {k: f.to_dict() for k, f in zip(INPUTS, faces)},
            "distances": dists,
            "resemblance": resemblance(dists),
            "timings": timer.timings,
        },
    )
