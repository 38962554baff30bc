"""The second_generation capability's inputs and parameters, shared by its classical and neural engines."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import check_params, choice, require_inputs, unit_float
from gpu_worker.engines.generate.params import parse_size
from gpu_worker.spec import RESEMBLANCE_TIE

INPUTS = ("parent_a", "parent_b")
AGE_BANDS = ("3-6", "7-12")


def parse(
    inputs: dict[str, np.ndarray], params: dict[str, Any] | None, allowed: set[str]
) -> tuple[dict[str, Any], dict[str, np.ndarray], float, str | None, int, str]:
    """(params, parent images, ``weight_a`` 0..1 (0.5), ``sex`` girl|boy|None, ``size``, ``age_band`` "3-6" |
    "7-12" ("3-6")); ``bad_parameter`` else."""
    params = check_params(params, allowed)
    images = require_inputs(inputs, INPUTS)
    weight_a = unit_float(params, "weight_a", 0.5)
    sex = choice(params, "sex", ("girl", "boy"), None)
    age_band = choice(params, "age_band", AGE_BANDS, None) or AGE_BANDS[0]
    return params, images, weight_a, sex, parse_size(params), age_band


def resemblance(distances: dict[str, float], tie: float = RESEMBLANCE_TIE) -> dict[str, Any]:
    """Which parent the child is nearer to (``"both"`` within ``tie``), with the distances behind it."""
    a, b = distances["parent_a"], distances["parent_b"]
    nearer = "both" if abs(a - b) < tie else ("parent_a" if a < b else "parent_b")
    return {"nearer": nearer, "parent_a": a, "parent_b": b, "tie": tie}
