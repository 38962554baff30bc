"""FFHQ-style alignment: the oriented square used to build FFHQ and by StyleGAN encoders.

Procedure (re-implemented from the published description): take the eye centres and the mouth
corners; the square's x axis is the eye-to-eye vector corrected by the eye-to-mouth direction, its
half-side is max(2 x eye distance, 1.8 x eye-to-mouth distance), its centre sits 0.1 of the
eye-to-mouth vector below the eye midpoint. The quad is resampled to ``size`` x ``size`` with one
affine warp; pixels outside the photo are filled by reflection and blurred, as FFHQ does, so the
crop has no black corners.
"""

from __future__ import annotations

import numpy as np

from gpu_worker.face.detect import Face
from gpu_worker.face.errors import FaceEngineError

ALIGN_SIZES = (256, 512, 1024)


def ffhq_quad(face: Face) -> np.ndarray:
    """The (4, 2) quad (top-left, bottom-left, bottom-right, top-right) in image pixels."""
    eye_left, eye_right = face.eye_centres
    if face.landmarks68 is not None:
        mouth_left, mouth_right = face.landmarks68[48], face.landmarks68[54]
        mouth_avg = (mouth_left + mouth_right) / 2
    else:
        # Commercial-only mode has no mouth points: the mouth midpoint sits about 1.45 times the
        # eye-to-nose-base vector below the eyes on adult faces.
        eye_mid = (eye_left + eye_right) / 2
        mouth_avg = eye_mid + (face.landmarks5[4] - eye_mid) * 1.45
    eye_avg = (eye_left + eye_right) / 2
    eye_to_eye = eye_right - eye_left
    eye_to_mouth = mouth_avg - eye_avg
    x = eye_to_eye - np.array([-eye_to_mouth[1], eye_to_mouth[0]])
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.array([-x[1], x[0]])
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def align_matrix(face: Face, size: int) -> np.ndarray:
    """2x3 affine matrix mapping image pixels to the aligned ``size`` crop."""
    import cv2

    quad = ffhq_quad(face).astype(np.float32)
    dst = np.array([[0, 0], [0, size], [size, size]], dtype=np.float32)
    return cv2.getAffineTransform(quad[:3], dst)


def align_face(image: np.ndarray, face: Face, size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Return (aligned RGB crop of ``size``, 2x3 image->crop matrix). ``size`` in 256/512/1024."""
    import cv2

    if size not in ALIGN_SIZES:
        raise FaceEngineError("bad_parameter", f"alignment size must be one of {ALIGN_SIZES}")
    matrix = image_to_crop = align_matrix(face, size)
    scale = np.sqrt(abs(np.linalg.det(matrix[:, :2])))
    src = image
    if scale < 0.5:
        # Shrink first so the affine resample does not alias (FFHQ does the same "shrink" step).
        factor = max(scale * 1.5, 1e-3)
        src = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        matrix = matrix @ np.array([[1 / factor, 0, 0], [0, 1 / factor, 0], [0, 0, 1]])
    out = cv2.warpAffine(src, matrix, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)
    # Blur what came from outside the photo so reflected content does not look like a second face.
    inside = cv2.warpAffine(np.full(src.shape[:2], 255, np.uint8), matrix, (size, size), flags=cv2.INTER_NEAREST)
    if inside.min() == 0:
        dist = cv2.distanceTransform((inside == 0).astype(np.uint8), cv2.DIST_L2, 3)
        weight = np.clip(dist / (size * 0.1), 0, 1)[..., None]
        blurred = cv2.GaussianBlur(out, (0, 0), size * 0.02)
        out = (out * (1 - weight) + blurred * weight).astype(np.uint8)
    return out, image_to_crop


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to (N, 2) points."""
    return points @ matrix[:, :2].T + matrix[:, 2]
