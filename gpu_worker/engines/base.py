"""The common engine interface the job runner and the CLI call.

Every engine module ``gpu_worker.engines.<name>.classical`` and ``.neural`` exposes::

    NAME: str                      # "swap", "restore", ...
    VERSION: str                   # bumped whenever outputs change for the same inputs
    INPUTS: tuple[str, ...]        # required keys of ``inputs``
    def run(inputs: dict[str, np.ndarray], params: dict) -> EngineResult
    REQUIRED_MODELS: tuple[str, ...]  # neural only: the models that must be installed (checked by selection)

``inputs`` are RGB uint8 arrays (H, W, 3); ``params`` are JSON-able values. ``run`` is deterministic
for the same inputs and params, and raises ``FaceEngineError(code, message)`` for bad input or a
refused result (codes in ``gpu_worker.face.errors.ERROR_CODES``). Any other exception is a bug.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from gpu_worker.face.errors import ERROR_CODES, FaceEngineError
from gpu_worker.face.imageio import as_rgb

ENGINE_NAMES = ("swap", "restore", "makeup", "generate", "second_generation")

__all__ = ["ENGINE_KINDS", "ENGINE_NAMES", "ERROR_CODES", "EngineResult", "FaceEngineError", "Timer", "get_engine"]


@dataclass
class EngineResult:
    """An engine's output: the RGB uint8 image and JSON-able metadata.

    ``metadata`` always holds ``engine``, ``version`` and ``timings`` (seconds per stage); engines
    add the face boxes they used, identity distances and the parameters they applied.
    """

    image: np.ndarray
    metadata: dict[str, Any] = field(default_factory=dict)


class Timer:
    """Collects per-stage wall-clock seconds for ``metadata["timings"]``."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - start, 4)


ENGINE_KINDS = ("classical", "neural")
INTERFACE = {"classical": ("NAME", "VERSION", "INPUTS", "run"), "neural": ("NAME", "VERSION", "INPUTS", "run",
                                                                          "REQUIRED_MODELS")}


def get_engine(name: str, kind: str = "classical") -> ModuleType:
    """Import ``gpu_worker.engines.<name>.<kind>`` and check it has the interface (neural engines also declare
    ``REQUIRED_MODELS``, the one list ``selection`` checks). ``bad_parameter`` if unknown."""
    if name not in ENGINE_NAMES:
        raise FaceEngineError("bad_parameter", f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}")
    if kind not in ENGINE_KINDS:
        raise FaceEngineError("bad_parameter", f"unknown engine kind {kind!r}; choose from {', '.join(ENGINE_KINDS)}")
    module = importlib.import_module(f"gpu_worker.engines.{name}.{kind}")
    missing = [attr for attr in INTERFACE[kind] if not hasattr(module, attr)]
    if missing or name != module.NAME:
        raise TypeError(f"engine {module.__name__} lacks {missing or ['NAME == ' + repr(name)]}")
    return module


def require_inputs(inputs: dict[str, Any], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Validate the named inputs as RGB uint8 (``bad_parameter`` if absent, ``unreadable_image`` if bad)."""
    if not isinstance(inputs, dict):
        raise FaceEngineError("bad_parameter", "inputs must be a dict of images")
    out = {}
    for name in names:
        if name not in inputs:
            raise FaceEngineError("bad_parameter", f"missing input image {name!r}")
        out[name] = as_rgb(inputs[name], name)
    return out


def check_params(params: Any, allowed: set[str]) -> dict[str, Any]:
    """``params`` as a dict; unknown keys are a ``bad_parameter`` (a typo must not pass silently)."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise FaceEngineError("bad_parameter", "params must be a dict")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise FaceEngineError("bad_parameter", f"unknown parameter(s) {unknown}; allowed: {sorted(allowed)}")
    return params


def unit_float(params: dict[str, Any], key: str, default: float) -> float:
    """A float in [0, 1] (strengths). ``bad_parameter`` otherwise."""
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise FaceEngineError("bad_parameter", f"{key} must be a number between 0 and 1, got {value!r}")
    return float(value)


def optional_int(params: dict[str, Any], key: str, low: int = 0, high: int | None = None) -> int | None:
    """An optional int within [low, high]. ``bad_parameter`` otherwise."""
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise FaceEngineError("bad_parameter", f"{key} must be an integer >= {low}, got {value!r}")
    return value


def choice(params: dict[str, Any], key: str, options: tuple[str, ...], default: str | None) -> str | None:
    """One of ``options`` (or ``default`` when absent). ``bad_parameter`` otherwise."""
    value = params.get(key, default)
    if value is not None and value not in options:
        raise FaceEngineError("bad_parameter", f"{key} must be one of {options}, got {value!r}")
    return value
