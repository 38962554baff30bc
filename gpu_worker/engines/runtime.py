"""Where neural models run and where their weights come from.

* ``device_for()`` decides between CUDA and CPU *when a job runs*: torch (and the CUDA driver) is only
  touched inside the call, so a Celery prefork parent that imports this module never initialises
  CUDA before it forks (``torch.cuda.is_available()`` itself initialises the driver).
* ``get_model(name, device)`` loads a model once per worker process and keeps it warm, keyed by
  (weight source, name, device, storage dtype). A cache inherited through ``fork`` is dropped.
* ``inference(device, dtype)`` is ``torch.inference_mode()`` plus CUDA autocast (fp16 or bf16) where
  the model is numerically safe in half precision; CPU always computes in fp32.
* ``weight_source()``: the active weight source (``gpu_worker.weights.sources``): the process's
  ``InstalledWeights`` (sha256-verified files), or the one a test or benchmark set with ``use_weight_source``.

Environment: ``GASANG_NEURAL_ON_CPU=1`` allows neural engines without a GPU;
``GASANG_NEURAL_DTYPE`` is ``fp16`` (default on CUDA), ``bf16`` or ``fp32``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from gpu_worker.weights.sources import InstalledWeights, LoadedModel, WeightSource

__all__ = ["InstalledWeights", "LoadedModel", "WeightSource"]  # re-exported: engines type against them

ENV_ON_CPU = "GASANG_NEURAL_ON_CPU"
ENV_DTYPE = "GASANG_NEURAL_DTYPE"
DTYPES = ("fp32", "fp16", "bf16")
# Models whose fp16 autocast is not trusted: PSGAN's attention multiplies 4096x4096 matrices whose
# sums overflow half precision with real weights.
AUTOCAST_UNSAFE = frozenset({"psgan"})


def env_flag(name: str) -> bool:
    """True when the environment variable is 1/true/yes (read on every call, never cached)."""
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def cuda_available() -> bool:
    """Whether a CUDA device is visible. Imports torch and initialises the driver: call after fork only."""
    import torch

    return torch.cuda.is_available()


def device_for() -> str | None:
    """``"cuda"`` when a GPU is visible, ``"cpu"`` with ``GASANG_NEURAL_ON_CPU=1``, else ``None``.

    Call it while a job runs (inside the forked worker child), never at import time.
    """
    if cuda_available():
        return "cuda"
    if env_flag(ENV_ON_CPU):
        return "cpu"
    return None


def compute_dtype(device: str, model_names: tuple[str, ...] = ()) -> str:
    """The autocast dtype for ``device``: ``fp32`` on CPU or for unsafe models, else ``GASANG_NEURAL_DTYPE``."""
    if device != "cuda" or AUTOCAST_UNSAFE.intersection(model_names):
        return "fp32"
    wanted = os.environ.get(ENV_DTYPE, "fp16").strip().lower() or "fp16"
    if wanted not in DTYPES:
        raise ValueError(f"{ENV_DTYPE} must be one of {DTYPES}, got {wanted!r}")
    return wanted


@contextmanager
def inference(device: str, dtype: str = "fp32") -> Iterator[None]:
    """``torch.inference_mode()`` plus, on CUDA with fp16/bf16, autocast. Never autocasts on CPU."""
    import torch

    with torch.inference_mode():
        if device.startswith("cuda") and dtype in ("fp16", "bf16"):
            half = torch.float16 if dtype == "fp16" else torch.bfloat16
            with torch.autocast("cuda", dtype=half):
                yield
        else:
            yield


_override: WeightSource | None = None
_installed: InstalledWeights | None = None


def weight_source() -> WeightSource:
    """The active source: a test's or benchmark's override, else the process's ``InstalledWeights`` (one
    instance, so its manifest cache lives across jobs)."""
    global _installed
    if _override is not None:
        return _override
    if _installed is None:
        _installed = InstalledWeights()
    return _installed


@contextmanager
def use_weight_source(source: WeightSource) -> Iterator[WeightSource]:
    """Make ``source`` the active weight source inside the block (tests, benchmarks)."""
    global _override
    previous, _override = _override, source
    try:
        yield source
    finally:
        _override = previous


_cache: dict[tuple[str, str, str, str, str], LoadedModel] = {}
_cache_pid = os.getpid()
_lock = threading.Lock()


def get_model(name: str, device: str, source: WeightSource | None = None) -> LoadedModel:
    """The cached model (loaded on first use in this process), keyed by (source, name, weights version,
    device, storage dtype): re-installed weights (new sha256) are reloaded. Storage is fp32; autocast
    does the rest."""
    global _cache_pid
    source = source or weight_source()
    with _lock:
        if _cache_pid != os.getpid():  # inherited through fork: tensors may live in the parent's CUDA context
            _cache.clear()
            _cache_pid = os.getpid()
        key = (source.cache_tag(), name, source.version(name), device, "float32")
        if key not in _cache:
            _cache[key] = source.load(name, device)
        return _cache[key]


def clear_cache() -> None:
    """Forget every cached model (tests; or to free GPU memory)."""
    with _lock:
        _cache.clear()


def cached_models() -> list[tuple[str, str]]:
    """(name, device) of every model held warm by this process."""
    return [(k[1], k[3]) for k in _cache]
