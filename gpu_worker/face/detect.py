"""Face detection, landmarks and the ``Face`` record every engine works with.

In:  an RGB uint8 image. Out: ``Face`` records sorted left to right.
Detection runs dlib's HOG detector (default) or the MMOD CNN (``detector="mmod"``, slower, better
on non-frontal faces) on a copy no larger than ``DETECT_MAX_SIDE``; landmarks are then fitted at
full resolution. Deterministic: no randomness anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gpu_worker.face import models
from gpu_worker.face.errors import FaceEngineError
from gpu_worker.face.imageio import as_rgb
from gpu_worker.face.pose import HeadPose, estimate_pose

DETECT_MAX_SIDE = 2000  # HOG at one upsample costs ~0.4 s per megapixel; bigger inputs are shrunk first
MIN_FACE_SIZE = 36  # px, box side; dlib's HOG with one upsample cannot find smaller faces anyway
MAX_YAW = 40.0  # degrees; beyond this the far cheek is hidden and a 2-D warp smears it
MIN_SCORE = 0.25  # HOG margin; below it false positives (badges, patterns) outnumber real faces


@dataclass(frozen=True)
class Face:
    """One detected face. Coordinates are in pixels of the analysed image (x right, y down)."""

    box: tuple[int, int, int, int]  # left, top, right, bottom
    score: float
    landmarks5: np.ndarray  # (5, 2) float, dlib 5-point order (CC0 model)
    landmarks68: np.ndarray | None  # (68, 2) float, iBUG order; None in commercial-only mode
    pose: HeadPose

    @property
    def size(self) -> int:
        return max(self.box[2] - self.box[0], self.box[3] - self.box[1])

    @property
    def eye_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(image-left eye, image-right eye) centres."""
        if self.landmarks68 is not None:
            return self.landmarks68[36:42].mean(0), self.landmarks68[42:48].mean(0)
        return self.landmarks5[2:4].mean(0), self.landmarks5[0:2].mean(0)

    @property
    def eye_distance(self) -> float:
        left, right = self.eye_centres
        return float(np.hypot(*(right - left)))

    def scaled(self, factor: int) -> Face:
        """This face in an image ``factor`` times larger (box and landmarks scaled; pose unchanged)."""
        if factor == 1:
            return self
        return replace(
            self,
            box=tuple(v * factor for v in self.box),
            landmarks5=self.landmarks5 * factor,
            landmarks68=None if self.landmarks68 is None else self.landmarks68 * factor,
        )

    def require_dense(self) -> np.ndarray:
        """The 68 landmarks, or ``license_restricted`` when they were not computed."""
        if self.landmarks68 is None:
            raise FaceEngineError(
                "license_restricted", "dense (68-point) landmarks are disabled in commercial-only mode"
            )
        return self.landmarks68

    def to_dict(self) -> dict:
        return {
            "box": list(self.box),
            "score": round(self.score, 3),
            "yaw": self.pose.yaw,
            "pitch": self.pose.pitch,
            "roll": self.pose.roll,
        }


def _rect_to_box(rect, scale: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    left = int(round(max(0, rect.left()) / scale))
    top = int(round(max(0, rect.top()) / scale))
    right = int(round(min(w * scale, rect.right()) / scale))
    bottom = int(round(min(h * scale, rect.bottom()) / scale))
    return left, top, right, bottom


def detect_boxes(image: np.ndarray, *, detector: str = "hog", upsample: int = 1) -> list[tuple[tuple, float]]:
    """Face boxes with scores on ``image`` (RGB uint8). ``detector`` is ``hog`` or ``mmod``."""
    import cv2

    if detector not in ("hog", "mmod"):
        raise FaceEngineError("bad_parameter", f"detector must be 'hog' or 'mmod', not {detector!r}")
    if not 0 <= upsample <= 2:
        raise FaceEngineError("bad_parameter", "upsample must be 0, 1 or 2")
    scale = min(1.0, DETECT_MAX_SIDE / max(image.shape[:2]))
    small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found: list[tuple[tuple, float]] = []
    if detector == "hog":
        rects, scores, _ = models.load("hog").run(small, upsample, 0.0)
        found = [(_rect_to_box(r, scale, image.shape), float(s)) for r, s in zip(rects, scores) if s >= MIN_SCORE]
    else:
        for det in models.load("mmod")(small, upsample):
            found.append((_rect_to_box(det.rect, scale, image.shape), float(det.confidence)))
    return [(b, s) for b, s in found if b[2] > b[0] and b[3] > b[1]]


def _shape_points(predictor, image: np.ndarray, box: tuple) -> np.ndarray:
    import dlib

    shape = predictor(image, dlib.rectangle(*box))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def analyze(image: np.ndarray, *, detector: str = "hog", upsample: int = 1, dense: bool | None = None) -> list[Face]:
    """Detect every face and fit landmarks and pose. Returns faces sorted left to right (may be empty).

    ``dense`` (default: on unless commercial-only mode) also fits the 68-point model; asking for it
    explicitly in commercial-only mode raises ``license_restricted``.
    """
    image = as_rgb(image)
    if dense is None:
        dense = not models.commercial_only()
    p5 = models.load("landmarks5")
    p68 = models.load("landmarks68") if dense else None
    faces = []
    for box, score in detect_boxes(image, detector=detector, upsample=upsample):
        lm5 = _shape_points(p5, image, box)
        lm68 = _shape_points(p68, image, box) if p68 is not None else None
        pose = estimate_pose(lm68 if lm68 is not None else lm5)
        faces.append(Face(box=box, score=score, landmarks5=lm5, landmarks68=lm68, pose=pose))
    faces.sort(key=lambda f: (f.box[0], f.box[1]))
    return faces


def face_at(image: np.ndarray, box: tuple[int, int, int, int], *, dense: bool | None = None) -> Face:
    """Fit landmarks inside a known box (e.g. an aligned crop) without running the detector."""
    image = as_rgb(image)
    if dense is None:
        dense = not models.commercial_only()
    lm5 = _shape_points(models.load("landmarks5"), image, box)
    lm68 = _shape_points(models.load("landmarks68"), image, box) if dense else None
    return Face(
        box=tuple(int(v) for v in box),
        score=0.0,
        landmarks5=lm5,
        landmarks68=lm68,
        pose=estimate_pose(lm68 if lm68 is not None else lm5),
    )


def check_usable(face: Face, role: str, *, min_size: int = MIN_FACE_SIZE, max_yaw: float = MAX_YAW) -> None:
    """Refuse faces below ``min_size`` px or turned beyond ``max_yaw`` degrees (clear reasons)."""
    if face.size < min_size:
        raise FaceEngineError("face_too_small", f"{role} face is {face.size}px, the minimum is {min_size}px")
    if abs(face.pose.yaw) > max_yaw:
        raise FaceEngineError(
            "face_turned", f"{role} face is turned {abs(face.pose.yaw):.0f} degrees, the limit is {max_yaw:.0f}"
        )
