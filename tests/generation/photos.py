"""Encoded test photos for the job path (the images themselves come from tests/gpu_worker/face_photos.py)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from tests.gpu_worker.face_photos import astronaut, grace_hopper

__all__ = ["astronaut", "grace_hopper", "jpeg_bytes", "png_bytes"]


def jpeg_bytes(image: np.ndarray, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()
