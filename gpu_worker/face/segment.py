"""Person segmentation (head, hair, shoulders vs background) for the generated portraits' studio backdrop.

Model: ``mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite`` (in the ``mediapipe`` wheel; the
general 256x256 model), licence **Apache-2.0** (MediaPipe), commercial use allowed (``models.MODEL_FILES`` key
``selfie``). Run by the legacy ``solutions.selfie_segmentation`` graph; nothing is downloaded.
"""

from __future__ import annotations

import threading
from functools import cache

import numpy as np

_lock = threading.Lock()  # a MediaPipe graph is not re-entrant


@cache
def _segmenter():
    from mediapipe.python.solutions import selfie_segmentation

    return selfie_segmentation.SelfieSegmentation(model_selection=0)


def person_mask(image: np.ndarray) -> np.ndarray:
    """(H, W) float32 in 0..1: how sure the model is that a pixel is the person (hair included)."""
    from gpu_worker.face.models import check_licence

    check_licence("selfie")
    with _lock:
        result = _segmenter().process(np.ascontiguousarray(image))
    if result.segmentation_mask is None:
        return np.zeros(image.shape[:2], np.float32)
    return np.clip(result.segmentation_mask.astype(np.float32), 0.0, 1.0)
