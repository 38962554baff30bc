"""Head-pose (yaw, pitch, roll in degrees) from 2-D landmarks with a generic 3-D head.

The 3-D points are a rough average adult head in millimetres (x to the subject's left as seen in
the image, y down, z toward the camera), eyeballed from anthropometric tables. Accuracy is a few
degrees, which is all the yaw limit needs. Sign convention: positive yaw = the face turns toward
the image's right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# 68-point indices -> generic head coordinates (mm).
_HEAD_68 = {
    30: (0.0, 0.0, 0.0),  # nose tip
    8: (0.0, 68.0, -14.0),  # chin
    36: (-44.0, -34.0, -28.0),  # outer eye corner, image-left
    45: (44.0, -34.0, -28.0),
    39: (-14.0, -33.0, -24.0),  # inner eye corners
    42: (14.0, -33.0, -24.0),
    48: (-26.0, 30.0, -22.0),  # mouth corners
    54: (26.0, 30.0, -22.0),
    33: (0.0, 14.0, -12.0),  # nose base
}
# dlib 5-point order: 0/1 outer/inner corner of the image-right eye, 2/3 image-left eye, 4 nose base.
_HEAD_5 = {
    0: (44.0, -34.0, -28.0),
    1: (14.0, -33.0, -24.0),
    2: (-44.0, -34.0, -28.0),
    3: (-14.0, -33.0, -24.0),
    4: (0.0, 14.0, -12.0),
}


@dataclass(frozen=True)
class HeadPose:
    yaw: float
    pitch: float
    roll: float


def estimate_pose(landmarks: np.ndarray) -> HeadPose:
    """Pose from a (68, 2) or (5, 2) landmark array (image pixels). Never raises for finite input."""
    import cv2

    table = _HEAD_68 if len(landmarks) == 68 else _HEAD_5
    idx = list(table)
    model = np.array([table[i] for i in idx], dtype=np.float64)
    image_pts = landmarks[idx].astype(np.float64)
    span = float(np.ptp(image_pts[:, 0]) + np.ptp(image_pts[:, 1])) + 1.0
    centre = image_pts.mean(axis=0)
    # A plausible focal length (about 2.5x the face span) keeps perspective mild and the solve stable.
    focal = 2.5 * span
    camera = np.array([[focal, 0, centre[0]], [0, focal, centre[1]], [0, 0, 1]], dtype=np.float64)
    flag = cv2.SOLVEPNP_ITERATIVE if len(idx) >= 6 else cv2.SOLVEPNP_EPNP
    ok, rvec, _ = cv2.solvePnP(model, image_pts, camera, None, flags=flag)
    if not ok:
        return HeadPose(0.0, 0.0, _roll_from_eyes(landmarks))
    rot, _ = cv2.Rodrigues(rvec)
    # Euler angles (Y-X-Z order suits heads: yaw about the vertical axis first).
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, -rot[2, 0]))))
    pitch = math.degrees(math.atan2(rot[2, 1], rot[2, 2]))
    roll = math.degrees(math.atan2(rot[1, 0], rot[0, 0]))
    pitch = (pitch + 180.0) % 360.0 - 180.0
    if abs(pitch) > 90:  # the solve sometimes lands on the mirrored solution
        pitch = pitch - math.copysign(180.0, pitch)
    return HeadPose(round(-yaw, 2), round(pitch, 2), round(roll, 2))


def _roll_from_eyes(landmarks: np.ndarray) -> float:
    if len(landmarks) == 68:
        left, right = landmarks[36:42].mean(0), landmarks[42:48].mean(0)
    else:
        left, right = landmarks[2:4].mean(0), landmarks[0:2].mean(0)
    return math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
