"""The one place that decides which engine runs a capability: the worker (``pipelines``), the CLI
(``--engine``) and the benchmarks all call ``choose_engine``.

``engine="auto"`` (the worker's choice) runs the neural engine when it can run, else the classical one;
``"classical"`` always runs the classical engine; ``"neural"`` runs the neural engine or raises
``EngineUnavailable`` saying what is missing. A neural engine can run when every model in its
``REQUIRED_MODELS`` is available from the active weight source (installed, sha256-verified weights, or a
test's source), the latent directions in its ``REQUIRED_DIRECTIONS`` are installed, *and* a device is there:
a visible GPU, or ``GASANG_NEURAL_ON_CPU=1`` as an explicit opt-in. torch is imported only inside the
call, after the weights are known to be there (and so only after the worker has forked).
"""

from __future__ import annotations

from types import ModuleType

from gpu_worker.engines import runtime
from gpu_worker.engines.base import ENGINE_NAMES, get_engine

ENGINE_CHOICES = ("auto", "classical", "neural")


class EngineUnavailable(RuntimeError):
    """``engine="neural"`` was asked for but cannot run; the message names the missing weights or device."""

    def __init__(self, capability: str, reason: str) -> None:
        super().__init__(f"the neural {capability} engine cannot run: {reason}")
        self.capability, self.reason = capability, reason


def neural_problem(capability: str, source: runtime.WeightSource | None = None) -> str | None:
    """Why the neural engine of ``capability`` cannot run now (weights, directions, device), or None."""
    module = get_engine(capability, "neural")
    source = source or runtime.weight_source()
    missing = [name for name in module.REQUIRED_MODELS if not source.available(name)]
    if missing:
        return f"weights not installed: {', '.join(missing)}"
    required_directions = getattr(module, "REQUIRED_DIRECTIONS", ())
    if required_directions:
        from gpu_worker.engines.generate.directions import exists

        absent = [name for name in required_directions if not exists(name)]
        if absent:
            return f"latent directions not installed: {', '.join(absent)}"
    if runtime.device_for() is None:
        return f"no GPU and {runtime.ENV_ON_CPU} is not set"
    return None


def choose_engine(
    capability: str, source: runtime.WeightSource | None = None, *, engine: str = "auto"
) -> tuple[ModuleType, str]:
    """(engine module, reason): the reason says why neural or classical was chosen (for logs and metrics).
    ``source`` defaults to the active weight source, which is also the one the neural engines load from.

    Raises ``FaceEngineError("bad_parameter")`` for an unknown capability or ``engine``, and
    ``EngineUnavailable`` when ``engine="neural"`` cannot run.
    """
    from gpu_worker.face.errors import FaceEngineError

    if engine not in ENGINE_CHOICES:
        raise FaceEngineError("bad_parameter", f"unknown engine choice {engine!r}; choose from {ENGINE_CHOICES}")
    if capability not in ENGINE_NAMES or engine == "classical":
        return get_engine(capability, "classical"), "classical engine requested"
    problem = neural_problem(capability, source)
    if problem is None:
        return get_engine(capability, "neural"), f"neural on {runtime.device_for()}"
    if engine == "neural":
        raise EngineUnavailable(capability, problem)
    return get_engine(capability, "classical"), problem


def pick_engine(capability: str, engine: str = "auto") -> ModuleType:
    """``choose_engine(capability, engine=engine)[0]``: the module only (NAME, VERSION, INPUTS, ``run``)."""
    return choose_engine(capability, engine=engine)[0]


def preload(capabilities: tuple[str, ...] = ENGINE_NAMES) -> dict[str, str]:
    """Load (and keep warm) the models of every capability that would run neurally; returns the reason
    per capability. Call it in the forked worker process (e.g. Celery's ``worker_process_init``), never in
    the parent: it initialises CUDA."""
    reasons = {}
    for capability in capabilities:
        module, reason = choose_engine(capability)
        reasons[capability] = reason
        if module.__name__.endswith(".neural"):
            device, source = runtime.device_for(), runtime.weight_source()
            optional = getattr(module, "OPTIONAL_MODELS", ())
            for name in module.REQUIRED_MODELS + tuple(n for n in optional if source.available(n)):
                runtime.get_model(name, device, source)
    return reasons
