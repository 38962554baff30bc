"""Torch modules that match the official checkpoint layouts.

``build(name, **kwargs)`` is the one entry point: ``name`` is the conformance
fixture's directory name and ``kwargs`` the reference constructor's own
parameter names. Model modules are imported lazily so that importing
``gpu_worker.models`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_BUILDERS: dict[str, str] = {
    "stylegan2": "gpu_worker.models.stylegan2",
    "psp_encoder": "gpu_worker.models.psp",
    "arcface_ir_se50": "gpu_worker.models.ir_se",
    "gpen": "gpu_worker.models.gpen",
    "aei_net": "gpu_worker.models.aei_net",
    "hear_net": "gpu_worker.models.hear_net",
    "psgan": "gpu_worker.models.psgan",
    "bisenet_parsing": "gpu_worker.models.bisenet",
}

MODEL_NAMES: tuple[str, ...] = tuple(_BUILDERS)


def build(name: str, **kwargs: Any):
    """Build the named model (an ``nn.Module``) with the reference constructor's kwargs.

    Raises ``KeyError`` for an unknown name.
    """
    if name not in _BUILDERS:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(MODEL_NAMES)}")
    module = importlib.import_module(_BUILDERS[name])
    return module.build(**kwargs)
