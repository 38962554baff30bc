"""Reading, validating and writing images as RGB uint8 arrays (H, W, 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gpu_worker.face.errors import FaceEngineError

MAX_PIXELS = 64_000_000  # refuse decompression bombs before allocating


def as_rgb(image: object, name: str = "image") -> np.ndarray:
    """Return ``image`` as a C-contiguous RGB uint8 array; grey and RGBA are converted.

    Raises ``FaceEngineError("unreadable_image")`` for anything else (wrong dtype, shape, empty).
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.size == 0:
        raise FaceEngineError("unreadable_image", f"{name} must be a non-empty uint8 numpy array")
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or min(image.shape[:2]) < 8:
        raise FaceEngineError("unreadable_image", f"{name} has unsupported shape {image.shape}")
    return np.ascontiguousarray(image[:, :, :3])


def read_image(path: str | Path) -> np.ndarray:
    """Decode a file into RGB uint8 (EXIF orientation applied). Fails with ``unreadable_image``."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                raise FaceEngineError("unreadable_image", f"{path} is larger than {MAX_PIXELS} pixels")
            im = ImageOps.exif_transpose(im)
            return np.asarray(im.convert("RGB")).copy()
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise FaceEngineError("unreadable_image", f"cannot read {path}: {exc.__class__.__name__}") from exc


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Encode an RGB uint8 array; the format follows the file extension (PNG, JPEG, WebP)."""
    from PIL import Image

    Image.fromarray(as_rgb(image)).save(path)
