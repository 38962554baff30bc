"""Face detection, landmarks and the ``Face`` record every engine works with.

In:  an RGB uint8 image. Out: ``Face`` records sorted left to right.
Detection runs dlib's HOG detector (default; Boost licence) or the MMOD CNN (``detector="mmod"``, CC0, slower,
better on non-frontal faces) on a copy no larger than ``DETECT_MAX_SIDE``, plus MediaPipe's BlazeFace
(Apache-2.0) for faces dlib misses, above all tight crops where the face fills the frame; a BlazeFace box
overlapping a dlib box is dropped (dlib's boxes are what the 5-point model was trained on).
Landmarks are then fitted at full resolution: the 5-point dlib model (CC0, embedding alignment) and the dense
68-point layout, by default derived from MediaPipe's 478-point mesh (``landmarks_mesh.py``, Apache-2.0);
``GASANG_LANDMARKS=ibug68`` opts into dlib's iBUG-trained 68-point model (non-commercial, see ``models.py``).
Deterministic: no randomness anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gpu_worker.face import landmarks_mesh, models
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
    landmarks68: np.ndarray | None  # (68, 2) float, iBUG order (mesh-derived by default); None if not fitted
    pose: HeadPose
    mesh: np.ndarray | None = None  # (478, 3) MediaPipe mesh in pixels (z: relative depth), when fitted

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
            mesh=None if self.mesh is None else self.mesh * factor,
        )

    def require_dense(self) -> np.ndarray:
        """The 68 landmarks, or ``license_restricted`` when they were not computed."""
        if self.landmarks68 is None:
            raise FaceEngineError(
                "no_face", "the landmarks of this face could not be fitted (too small, blurred, covered or turned)"
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


def _dlib_boxes(image: np.ndarray, *, detector: str = "hog", upsample: int = 1) -> list[tuple[tuple, float]]:
    """dlib face boxes with scores on ``image`` (RGB uint8). ``detector`` is ``hog`` or ``mmod``."""
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


def _overlaps(a: tuple, b: tuple) -> bool:
    """True when box ``a``'s centre lies in ``b`` or their intersection over union is above 0.25."""
    cx, cy = (a[0] + a[2]) / 2, (a[1] + a[3]) / 2
    if b[0] <= cx <= b[2] and b[1] <= cy <= b[3]:
        return True
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return union > 0 and iw * ih / union > 0.25


def _mediapipe_boxes(image: np.ndarray, taken: list[tuple]) -> list[tuple[tuple, float]]:
    """BlazeFace faces not already in ``taken``, as dlib-like boxes (around their mesh-derived 68 points)."""
    import cv2

    models.check_licence("blazeface")
    scale = min(1.0, DETECT_MAX_SIDE / max(image.shape[:2]))
    small = image if scale == 1.0 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = []
    for small_box, score in landmarks_mesh.detect_boxes(small):
        box = tuple(int(round(v / scale)) for v in small_box)
        if any(_overlaps(box, t) or _overlaps(t, box) for t in taken):
            continue
        mesh = landmarks_mesh.mesh_points(image, box)
        if mesh is None:
            continue
        box = landmarks_mesh.box_from68(landmarks_mesh.to68(mesh), image.shape)
        if box[2] > box[0] and box[3] > box[1] and not any(_overlaps(box, t) for t in taken):
            found.append((box, score))
            taken = [*taken, box]
    return found


def detect_boxes(image: np.ndarray, *, detector: str = "hog", upsample: int = 1) -> list[tuple[tuple, float]]:
    """Face boxes with scores on ``image`` (RGB uint8): dlib's (``hog`` or ``mmod``) plus BlazeFace's others."""
    found = _dlib_boxes(image, detector=detector, upsample=upsample)
    return found + _mediapipe_boxes(image, [b for b, _ in found])


def _shape_points(predictor, image: np.ndarray, box: tuple) -> np.ndarray:
    import dlib

    shape = predictor(image, dlib.rectangle(*box))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def _fit(image: np.ndarray, box: tuple, score: float, dense: bool) -> Face:
    """Landmarks and pose for the face in ``box``. When the mesh cannot be fitted the face is still returned,
    without dense landmarks, so that ``face_index`` (counted over every detected face) keeps naming the same
    person; engines that need the dense layout refuse that face with a clear reason."""
    lm5 = _shape_points(models.load("landmarks5"), image, box)
    lm68 = mesh = None
    if dense and models.landmark_model() == "ibug68":
        lm68 = _shape_points(models.load("landmarks68"), image, box)
    elif dense:
        models.check_licence("mesh")
        mesh = landmarks_mesh.mesh_points(image, box)
        lm68 = None if mesh is None else landmarks_mesh.to68(mesh)
    pose = estimate_pose(lm68 if lm68 is not None else lm5)
    return Face(box=tuple(int(v) for v in box), score=score, landmarks5=lm5, landmarks68=lm68, pose=pose, mesh=mesh)


def analyze(image: np.ndarray, *, detector: str = "hog", upsample: int = 1, dense: bool = True) -> list[Face]:
    """Detect every face and fit landmarks and pose. Returns faces sorted left to right (may be empty).

    ``dense`` also fits the 68-point layout (mesh-derived unless ``GASANG_LANDMARKS=ibug68``); a face whose
    mesh cannot be fitted is kept with ``landmarks68=None`` (its index must not shift).
    """
    image = as_rgb(image)
    faces = [_fit(image, box, score, dense) for box, score in detect_boxes(image, detector=detector, upsample=upsample)]
    faces.sort(key=lambda f: (f.box[0], f.box[1]))
    return faces


def face_at(image: np.ndarray, box: tuple[int, int, int, int], *, dense: bool = True) -> Face:
    """Fit landmarks inside a known box (e.g. an aligned crop) without running the detector."""
    face = _fit(as_rgb(image), box, 0.0, dense)
    if dense and face.landmarks68 is None:
        raise FaceEngineError("no_face", "no face could be fitted in the given box")
    return face


def check_usable(face: Face, role: str, *, min_size: int = MIN_FACE_SIZE, max_yaw: float = MAX_YAW) -> None:
    """Refuse faces below ``min_size`` px or turned beyond ``max_yaw`` degrees (clear reasons)."""
    if face.size < min_size:
        raise FaceEngineError("face_too_small", f"{role} face is {face.size}px, the minimum is {min_size}px",
                              input=role)
    if abs(face.pose.yaw) > max_yaw:
        raise FaceEngineError(
            "face_turned", f"{role} face is turned {abs(face.pose.yaw):.0f} degrees, the limit is {max_yaw:.0f}",
            input=role,
        )
