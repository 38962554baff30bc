"""The swap capability's ``face="similar"`` choice, shared by its classical and neural engines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gpu_worker.engines.base import FaceEngineError, Timer, require_inputs
from gpu_worker.face.detect import Face

SOURCE_SELECT = ("detector", "max_yaw")  # the only face-choice params that apply to the source photo


def reference_embedding(
    inputs: dict[str, Any], params: dict[str, Any], timer: Timer, find: Callable[[np.ndarray, str, dict], Face]
) -> np.ndarray | None:
    """With ``face="similar"``, the embedding of the ``reference`` input's face (the person to replace in the
    target); None otherwise. ``find(image, role, params)`` is the engine's face finder."""
    if params.get("face") != "similar":
        return None
    if "reference" not in inputs:
        raise FaceEngineError("bad_parameter", 'face="similar" needs a "reference" input image')
    from gpu_worker.face.embed import embedding

    ref_img = require_inputs(inputs, ("reference",))["reference"]
    with timer.stage("analyze_reference"):
        return embedding(ref_img, find(ref_img, "reference", {"max_yaw": 90}))
