"""Choosing the engine for a capability: neural when it can run, classical otherwise.

A neural engine is chosen when every model it requires is available from the active weight source
(installed, sha256-verified weights; or recipe weights in tests), the latent directions it needs are
installed, *and* a device is there: a visible
GPU, or ``GASANG_NEURAL_ON_CPU=1`` as an explicit opt-in. The check imports torch only after the
weights are known to be installed, and only inside the call (after the worker has forked).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from gpu_worker.neural import runtime


@dataclass(frozen=True)
class NeuralSpec:
    module: str  # the engine module (NAME, VERSION, INPUTS, run)
    required: tuple[str, ...]  # models that must be available; optional ones are used when present
    directions: tuple[str, ...] = ()  # latent direction files that must be installed


NEURAL_ENGINES: dict[str, NeuralSpec] = {
    "swap": NeuralSpec("gpu_worker.neural.swap", ("arcface_ir_se50", "aei_net")),
    "restore": NeuralSpec("gpu_worker.neural.restore", ("gpen",)),
    "makeup": NeuralSpec("gpu_worker.neural.makeup", ("psgan", "bisenet_parsing")),
    # generate_face jobs bring contributor faces, which pSp encodes.
    "generate": NeuralSpec("gpu_worker.neural.generate", ("psp_encoder", "stylegan2")),
    "second_generation": NeuralSpec(
        "gpu_worker.neural.second_generation", ("psp_encoder", "stylegan2"), directions=("age", "gender")
    ),
}


def choose_engine(capability: str, source: runtime.WeightSource | None = None) -> tuple[ModuleType, str]:
    """(engine module, reason). The reason says why neural or classical was chosen (for logs and metrics).
    ``source`` defaults to the active weight source, which is also the one the neural engines load from.

    Raises ``FaceEngineError("bad_parameter")`` for an unknown capability (from the classical registry).
    """
    from gpu_worker.engines.base import get_engine

    spec = NEURAL_ENGINES.get(capability)
    if spec is None:
        return get_engine(capability), "no neural engine for this capability"
    source = source or runtime.weight_source()
    missing = [name for name in spec.required if not source.available(name)]
    if missing:
        return get_engine(capability), f"weights not installed: {', '.join(missing)}"
    if spec.directions:
        from gpu_worker.neural.directions import exists

        absent = [name for name in spec.directions if not exists(name)]
        if absent:
            return get_engine(capability), f"latent directions not installed: {', '.join(absent)}"
    device = runtime.device_for()
    if device is None:
        return get_engine(capability), f"no GPU and {runtime.ENV_ON_CPU} is not set"
    return importlib.import_module(spec.module), f"neural on {device}"


def pick_engine(capability: str) -> ModuleType:
    """The engine module for ``capability`` (``swap``, ``restore``, ``makeup``, ``generate``,
    ``second_generation``): neural when its weights are installed and a device is available, else the
    classical ``gpu_worker.engines.<capability>``. Both expose NAME, VERSION, INPUTS and ``run``."""
    return choose_engine(capability)[0]


def preload(capabilities: tuple[str, ...] = tuple(NEURAL_ENGINES)) -> dict[str, str]:
    """Load (and keep warm) the models of every capability that would run neurally; returns the reason
    per capability. Call it in the forked worker process (e.g. Celery's ``worker_process_init``), never in
    the parent: it initialises CUDA."""
    from gpu_worker.neural import runtime as rt

    reasons = {}
    for capability in capabilities:
        module, reason = choose_engine(capability)
        reasons[capability] = reason
        if module.__name__ == NEURAL_ENGINES[capability].module:
            device, source = rt.device_for(), rt.weight_source()
            optional = getattr(module, "OPTIONAL_MODELS", ())
            for name in NEURAL_ENGINES[capability].required + tuple(n for n in optional if source.available(n)):
                rt.get_model(name, device, source)
    return reasons
