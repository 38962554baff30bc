"""Commercial-safe dense landmarks: MediaPipe Face Mesh (478 points with iris, 3-D) on a crop per face.

Model files (all shipped inside the ``mediapipe`` 0.10.21 wheel, loaded from the installed package, never
downloaded), licence **Apache-2.0** (commercial use allowed):
- ``mediapipe/modules/face_landmark/face_landmark_with_attention.tflite`` (478-point mesh with refined
  lips, eyes and iris), run by the legacy ``solutions.face_mesh`` graph (``face_landmark_front_cpu``);
- ``mediapipe/modules/face_detection/face_detection_short_range.tflite`` (BlazeFace short range), used by
  that graph inside the crop and by :func:`detect_boxes` for tight crops.

The wheel declares jax, jaxlib, opencv-contrib-python and sounddevice; none is needed here, so it is
installed with ``--no-deps`` (``requirements/gpu-nodeps.txt``) and its real runtime deps are pinned in
``requirements/gpu.txt`` (``import mediapipe`` also imports matplotlib, through ``solutions.drawing_utils``).

Each face is cropped square around its box (``CROP_PAD`` of the box side on every side), scaled to
``CROP_SIDE`` px (so faces of 36–90 px work) and meshed; points come back in image pixels, z in the same
pixel scale (relative depth, negative = towards the camera). :func:`to68` derives the iBUG 68-point
semantic layout (jaw, brows, nose, eyes, mouth) from the mesh with ``MESH_TO_68``.
"""

from __future__ import annotations

import threading
from functools import cache

import numpy as np

MESH_POINTS = 478
CROP_PAD = 0.55  # of the box side, each side: the in-crop detector needs some context around the face
CROP_SIDE = 320  # px; the mesh model itself runs at 192 px, the detector at 128 px
# BlazeFace probability for faces found by MediaPipe alone (tight crops). On ../shared/testdata the faces only it
# finds score 0.79 and 0.90; a coffee cup on a saucer (skimage coffee, re-encoded) scored 0.525 and became a "face"
# a swap was offered for, so the bar sits between.
MP_MIN_SCORE = 0.65

# MESH_TO_68[i] = ((vertex, weight), ...): iBUG point i as a fixed blend of mesh vertices. Derived by
# ``python -m gpu_worker.tools.mesh_to_68`` (dlib's 68-point model vs this mesh on the shared test photos:
# faces, makeup, identities, fashion); for each point the single vertex or midpoint of two vertices with the
# smallest mean error normalised by the inter-ocular distance. Measured on 115 faces (mean error / IOD of the
# derived 68 points vs dlib's): makeup portraits 0.030, fashion shots 0.039, identities (224 px crops) 0.050,
# group photos and small faces 0.063. Part of it is dlib's own error; the jaw line differs most.
MESH_TO_68: tuple[tuple[tuple[int, float], ...], ...] = (
    ((127, 1.0),), ((234, 0.5), (137, 0.5)), ((177, 0.5), (137, 0.5)), ((215, 1.0),),
    ((138, 0.5), (172, 0.5)), ((136, 1.0),), ((149, 1.0),), ((148, 0.5), (176, 0.5)),
    ((152, 1.0),), ((377, 0.5), (400, 0.5)), ((378, 1.0),), ((365, 0.5), (379, 0.5)),
    ((397, 0.5), (367, 0.5)), ((435, 1.0),), ((361, 0.5), (366, 0.5)), ((454, 0.5), (447, 0.5)),
    ((356, 1.0),), ((70, 0.5), (156, 0.5)), ((63, 1.0),), ((105, 0.5), (66, 0.5)),
    ((66, 0.5), (107, 0.5)), ((107, 0.5), (55, 0.5)), ((336, 0.5), (285, 0.5)), ((296, 0.5), (336, 0.5)),
    ((334, 0.5), (296, 0.5)), ((334, 0.5), (300, 0.5)), ((368, 0.5), (283, 0.5)), ((193, 0.5), (417, 0.5)),
    ((122, 0.5), (419, 0.5)), ((195, 0.5), (5, 0.5)), ((45, 0.5), (275, 0.5)), ((240, 0.5), (75, 0.5)),
    ((97, 0.5), (99, 0.5)), ((2, 1.0),), ((326, 0.5), (462, 0.5)), ((455, 0.5), (328, 0.5)),
    ((7, 0.5), (130, 0.5)), ((159, 0.5), (161, 0.5)), ((157, 0.5), (159, 0.5)), ((133, 0.5), (154, 0.5)),
    ((144, 0.5), (155, 0.5)), ((23, 0.5), (246, 0.5)), ((398, 0.5), (341, 0.5)), ((385, 0.5), (384, 0.5)),
    ((386, 0.5), (387, 0.5)), ((249, 0.5), (466, 0.5)), ((374, 0.5), (390, 0.5)), ((380, 1.0),),
    ((78, 0.5), (57, 0.5)), ((39, 0.5), (40, 0.5)), ((37, 1.0),), ((0, 0.5), (11, 0.5)),
    ((267, 1.0),), ((269, 0.5), (304, 0.5)), ((291, 1.0),), ((405, 0.5), (321, 0.5)),
    ((314, 1.0),), ((17, 1.0),), ((84, 1.0),), ((91, 0.5), (181, 0.5)),
    ((185, 0.5), (146, 0.5)), ((80, 0.5), (12, 0.5)), ((13, 1.0),), ((312, 1.0),),
    ((308, 0.5), (415, 0.5)), ((317, 1.0),), ((86, 0.5), (317, 0.5)), ((88, 0.5), (14, 0.5)),
)

_lock = threading.Lock()  # a MediaPipe graph is not re-entrant


@cache
def _face_mesh():
    from mediapipe.python.solutions import face_mesh

    return face_mesh.FaceMesh(
        static_image_mode=True, max_num_faces=4, refine_landmarks=True, min_detection_confidence=0.3
    )


@cache
def _face_detector():
    from mediapipe.python.solutions import face_detection

    return face_detection.FaceDetection(model_selection=0, min_detection_confidence=MP_MIN_SCORE)


def _square_crop(image: np.ndarray, box: tuple, pad: float) -> tuple[np.ndarray, float, float, float]:
    """A square crop around ``box`` (replicated border outside the image), resized to ``CROP_SIDE``."""
    import cv2

    left, top, right, bottom = box
    side = max(right - left, bottom - top) * (1 + 2 * pad)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    h, w = image.shape[:2]
    padded = cv2.copyMakeBorder(
        image[max(0, y0) : max(0, y0 + s), max(0, x0) : max(0, x0 + s)],
        max(0, -y0), max(0, y0 + s - h), max(0, -x0), max(0, x0 + s - w), cv2.BORDER_REPLICATE,
    )
    scale = CROP_SIDE / s
    interp = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(padded, (CROP_SIDE, CROP_SIDE), interpolation=interp), float(x0), float(y0), scale


def mesh_points(image: np.ndarray, box: tuple) -> np.ndarray | None:
    """(478, 3) mesh points in image pixels for the face in ``box`` (RGB uint8), or None if no face is found."""
    for pad in (CROP_PAD, 0.9, 0.3):
        crop, x0, y0, scale = _square_crop(image, box, pad)
        with _lock:
            result = _face_mesh().process(np.ascontiguousarray(crop))
        if result.multi_face_landmarks:  # a group shot's crop can hold neighbours: keep the centred face
            meshes = [np.array([(p.x, p.y, p.z) for p in f.landmark]) for f in result.multi_face_landmarks]
            pts = min(meshes, key=lambda m: float(np.abs(m[:, :2].mean(0) - 0.5).sum()))
            pts = pts * (CROP_SIDE / scale)
            pts[:, 0] += x0
            pts[:, 1] += y0
            return pts
    return None


def to68(mesh: np.ndarray) -> np.ndarray:
    """The (68, 2) iBUG-order points derived from a (478, 3) mesh."""
    out = np.zeros((68, 2), dtype=np.float64)
    for i, blend in enumerate(MESH_TO_68):
        for vertex, weight in blend:
            out[i] += weight * mesh[vertex, :2]
    return out


def box_from68(points: np.ndarray, shape: tuple) -> tuple[int, int, int, int]:
    """A dlib-like box (jaw width, brows to chin) around mesh-derived 68 points, clipped to the image."""
    h, w = shape[:2]
    left, top = points.min(0)
    right, bottom = points.max(0)
    return (
        int(max(0, round(left))), int(max(0, round(top))), int(min(w, round(right))), int(min(h, round(bottom)))
    )


def detect_boxes(image: np.ndarray) -> list[tuple[tuple[int, int, int, int], float]]:
    """BlazeFace (short range) boxes on ``image``, padded first so a face filling the frame is found."""
    import cv2

    h, w = image.shape[:2]
    pad = max(h, w) // 4
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    with _lock:
        result = _face_detector().process(np.ascontiguousarray(padded))
    found = []
    ph, pw = padded.shape[:2]
    for det in result.detections or ():
        if float(det.score[0]) < MP_MIN_SCORE:  # the graph's own min_detection_confidence lets lower ones through
            continue
        rb = det.location_data.relative_bounding_box
        left = int(round(rb.xmin * pw)) - pad
        top = int(round(rb.ymin * ph)) - pad
        right = left + int(round(rb.width * pw))
        bottom = top + int(round(rb.height * ph))
        box = (max(0, left), max(0, top), min(w, right), min(h, bottom))
        if box[2] > box[0] and box[3] > box[1]:
            found.append((box, float(det.score[0])))
    return found
