"""What every neural engine does the same way: pick the device, load its models, describe the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gpu_worker.engines import runtime


@dataclass
class Session:
    """One engine run: the device, the autocast dtype and the models it loaded (for metadata)."""

    device: str
    dtype: str
    source: runtime.WeightSource
    models: dict[str, runtime.LoadedModel] = field(default_factory=dict)

    def model(self, name: str) -> runtime.LoadedModel:
        """Load (or fetch warm) ``name`` and remember it for the metadata."""
        if name not in self.models:
            self.models[name] = runtime.get_model(name, self.device, self.source)
        return self.models[name]

    def optional(self, name: str) -> runtime.LoadedModel | None:
        """``model(name)`` when the source has it, else None."""
        return self.model(name) if self.source.available(name) else None

    def metadata(self, engine: str, version: str) -> dict[str, Any]:
        """engine, version, device, dtype and the weight id (sha256 or recipe:<name>) of every model used."""
        return {
            "engine": engine,
            "version": version,
            "device": self.device,
            "dtype": self.dtype,
            "weights": {name: m.weight_id for name, m in sorted(self.models.items())},
        }


def start(model_names: tuple[str, ...]) -> Session:
    """A session on the job's device. Raises RuntimeError when neither a GPU nor the CPU opt-in is there
    (``selection.choose_engine`` would have chosen the classical engine)."""
    device = runtime.device_for()
    if device is None:
        raise RuntimeError(f"neural engines need a GPU or {runtime.ENV_ON_CPU}=1; use selection.choose_engine")
    return Session(device, runtime.compute_dtype(device, model_names), runtime.weight_source())
