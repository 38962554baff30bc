"""Named, landmark-level edits of face proportions (upright faces, e.g. FFHQ-aligned crops).

Each edit takes a relative amount (0.1 = 10 % of the relevant length). ``generate`` uses them to
move a morph away from every contributor into a new identity; ``second_generation`` uses them for
its child-face prior. Inputs and outputs are (68, 2) landmark arrays; nothing here touches pixels.
"""

from __future__ import annotations

import numpy as np

from gpu_worker.face.mesh import EYE_L, EYE_R, JAW, MOUTH_INNER, MOUTH_OUTER, NOSE

EDITS = (
    "eye_spacing",
    "eye_size",
    "nose_length",
    "nose_width",
    "mouth_width",
    "lip_height",
    "jaw_width",
    "face_length",
    "brow_height",
    "lower_face",
    "face_scale",
)
_BROW_L, _BROW_R = list(range(17, 22)), list(range(22, 27))
_MOUTH = MOUTH_OUTER + MOUTH_INNER


def apply_edits(lm68: np.ndarray, edits: dict[str, float]) -> np.ndarray:
    """Return a copy of ``lm68`` with each named edit applied in ``EDITS`` order (unknown names raise)."""
    unknown = set(edits) - set(EDITS)
    if unknown:
        raise KeyError(f"unknown shape edits {sorted(unknown)}")
    lm = lm68.astype(np.float64).copy()
    eye_l, eye_r = lm[EYE_L].mean(0), lm[EYE_R].mean(0)
    iod = float(np.hypot(*(eye_r - eye_l)))
    eye_y = (eye_l[1] + eye_r[1]) / 2
    centre_x = (eye_l[0] + eye_r[0]) / 2
    for name in EDITS:
        s = float(edits.get(name, 0.0))
        if s == 0.0:
            continue
        if name == "eye_spacing":
            for group, sign in ((EYE_L + _BROW_L, -1), (EYE_R + _BROW_R, 1)):
                lm[group, 0] += sign * s * iod / 2
        elif name == "eye_size":
            for group in (EYE_L, EYE_R):
                c = lm[group].mean(0)
                lm[group] = c + (lm[group] - c) * (1 + s)
        elif name == "nose_length":
            top = lm[27, 1]
            lm[NOSE[1:], 1] = top + (lm[NOSE[1:], 1] - top) * (1 + s)
        elif name == "nose_width":
            cx = lm[33, 0]
            lm[31:36, 0] = cx + (lm[31:36, 0] - cx) * (1 + s)
        elif name == "mouth_width":
            cx = lm[_MOUTH, 0].mean()
            lm[_MOUTH, 0] = cx + (lm[_MOUTH, 0] - cx) * (1 + s)
        elif name == "lip_height":
            cy = lm[_MOUTH, 1].mean()
            lm[_MOUTH, 1] = cy + (lm[_MOUTH, 1] - cy) * (1 + s)
        elif name == "jaw_width":
            # Lower jaw points move more than the temples, so the outline keeps meeting the ears.
            low = np.clip((lm[JAW, 1] - eye_y) / max(1.0, lm[8, 1] - eye_y), 0, 1)
            lm[JAW, 0] = centre_x + (lm[JAW, 0] - centre_x) * (1 + s * low)
        elif name == "face_length":
            below = lm[:, 1] > eye_y
            lm[below, 1] = eye_y + (lm[below, 1] - eye_y) * (1 + s)
        elif name == "brow_height":
            lm[_BROW_L + _BROW_R, 1] -= s * iod
        elif name == "lower_face":
            # Mouth, chin and lower jaw towards the base of the nose (subnasale): a shorter lower face.
            sub_y = lm[33, 1]
            below = lm[:, 1] > sub_y
            lm[below, 1] = sub_y + (lm[below, 1] - sub_y) * (1 + s)
        elif name == "face_scale":
            # The whole face about a point on the hairline: smaller in the head, with a higher forehead.
            height = lm[8, 1] - eye_y
            anchor = np.array([centre_x, eye_y - 0.8 * height])
            lm = anchor + (lm - anchor) * (1 + s)
    return lm


def novelty_edits(seed: int, magnitude: float) -> dict[str, float]:
    """A deterministic edit vector for ``seed``: every edit gets +-``magnitude`` (signs from the seed),
    scaled per edit by how much that proportion varies between real people (eyes and jaw more
    than lip height)."""
    spread = {
        "eye_spacing": 0.8,
        "eye_size": 1.0,
        "nose_length": 1.0,
        "nose_width": 1.2,
        "mouth_width": 1.0,
        "lip_height": 0.8,
        "jaw_width": 1.0,
        "face_length": 0.6,
        "brow_height": 0.5,
    }
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=len(spread))
    return {name: float(sign * magnitude * spread[name]) for name, sign in zip(spread, signs)}
