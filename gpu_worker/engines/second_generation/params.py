"""The second_generation capability's inputs and parameters, shared by its classical and neural engines."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpu_worker.engines.base import check_params, choice, require_inputs, unit_float
from gpu_worker.engines.generate.params import parse_size

INPUTS = ("parent_a", "parent_b")


def parse(
    inputs: dict[str, np.ndarray], params: dict[str, Any] | None, allowed: set[str]
) -> tuple[dict[str, Any], dict[str, np.ndarray], float, str | None, int]:
    """(params, parent images, ``weight_a`` 0..1 (0.5), ``sex`` girl|boy|None, ``size``); ``bad_parameter`` else."""
    params = check_params(params, allowed)
    images = require_inputs(inputs, INPUTS)
    weight_a = unit_float(params, "weight_a", 0.5)
    sex = choice(params, "sex", ("girl", "boy"), None)
    return params, images, weight_a, sex, parse_size(params)
