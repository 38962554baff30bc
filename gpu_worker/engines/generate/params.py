"""The generate capability's parameters, shared by its classical and neural engines."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.face.errors import FaceEngineError

MIN_GALLERY_FACE = 80  # px: smaller faces would make a blurry 1024 px portrait


def gallery_keys(inputs: dict[str, Any]) -> list[str]:
    """``face_0..face_{K-1}`` in order; ``bad_parameter`` if fewer than 3 or numbering has gaps."""
    keys = sorted((k for k in inputs if k.startswith("face_")), key=lambda k: int(k[5:]) if k[5:].isdigit() else -1)
    if len(keys) < 3 or keys != [f"face_{i}" for i in range(len(keys))]:
        raise FaceEngineError("bad_parameter", "generate needs inputs face_0, face_1, face_2 (K >= 3, no gaps)")
    return keys


def parse_weights(value: Any, k: int) -> np.ndarray:
    """K non-negative weights with a positive sum, normalised to sum 1."""
    if value is None:
        return np.full(k, 1.0 / k)
    if not isinstance(value, list | tuple) or len(value) != k:
        raise FaceEngineError("bad_parameter", f"weights must be a list of {k} numbers")
    if any(isinstance(w, bool) or not isinstance(w, int | float) or w < 0 or not np.isfinite(w) for w in value):
        raise FaceEngineError("bad_parameter", "weights must be finite non-negative numbers")
    arr = np.asarray(value, dtype=np.float64)
    if arr.sum() <= 0:
        raise FaceEngineError("bad_parameter", "weights must not all be zero")
    return arr / arr.sum()


def parse_size(params: dict[str, Any]) -> int:
    size = params.get("size", 1024)
    if size not in (256, 512, 1024) or isinstance(size, bool):
        raise FaceEngineError("bad_parameter", f"size must be 256, 512 or 1024, got {size!r}")
    return size
