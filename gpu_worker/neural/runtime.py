"""Where neural models run and where their weights come from.

* ``device_for()`` decides between CUDA and CPU *when a job runs*: torch (and the CUDA driver) is only
  touched inside the call, so a Celery prefork parent that imports this module never initialises
  CUDA before it forks (``torch.cuda.is_available()`` itself initialises the driver).
* ``get_model(name, device)`` loads a model once per worker process and keeps it warm, keyed by
  (weight source, name, device, storage dtype). A cache inherited through ``fork`` is dropped.
* ``inference(device, dtype)`` is ``torch.inference_mode()`` plus CUDA autocast (fp16 or bf16) where
  the model is numerically safe in half precision; CPU always computes in fp32.
* Weight sources: ``InstalledWeights`` (``gpu_worker.models.install``: sha256-verified files) and
  ``RecipeWeights`` (deterministic *noise* weights from the conformance recipes, for tests only: the
  pipeline runs end to end with correct shapes, but the pictures are meaningless).

Environment: ``GASANG_NEURAL_ON_CPU=1`` allows neural engines without a GPU;
``GASANG_NEURAL_RECIPE_WEIGHTS=1`` selects recipe weights (tests); ``GASANG_NEURAL_DTYPE`` is
``fp16`` (default on CUDA), ``bf16`` or ``fp32``; ``GASANG_SHARED_DIR`` locates ``conformance/``.
"""

from __future__ import annotations

import importlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_ON_CPU = "GASANG_NEURAL_ON_CPU"
ENV_RECIPE = "GASANG_NEURAL_RECIPE_WEIGHTS"
ENV_DTYPE = "GASANG_NEURAL_DTYPE"
DTYPES = ("fp32", "fp16", "bf16")
# Models whose fp16 autocast is not trusted: PSGAN's attention multiplies 4096x4096 matrices whose
# sums overflow half precision with real weights.
AUTOCAST_UNSAFE = frozenset({"psgan"})
REPO_ROOT = Path(__file__).resolve().parents[2]


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


@dataclass
class LoadedModel:
    """A model ready for inference: ``module`` in eval mode on ``device``; ``weight_id`` is the file's
    sha256 (installed) or ``recipe:<name>``; ``extras`` holds container extras such as ``latent_avg``."""

    name: str
    module: Any
    weight_id: str
    device: str
    extras: dict[str, Any] = field(default_factory=dict)


class WeightSource:
    """Where weights come from. ``available(name)`` is cheap (no loading); ``load`` builds the model."""

    kind = "abstract"

    def cache_tag(self) -> str:
        """What distinguishes this source's models in the cache (same tag, same weights)."""
        return self.kind

    def version(self, name: str) -> str:
        """What identifies the weights of ``name`` now (a new value makes the cache reload the model)."""
        return ""

    def available(self, name: str) -> bool:
        raise NotImplementedError

    def load(self, name: str, device: str) -> LoadedModel:
        raise NotImplementedError


def _installer() -> Any | None:
    """``gpu_worker.models.install`` when it exists and exposes ``load_installed_with_extras`` and
    ``open_store``, else None (the registry is developed separately; tolerate its absence)."""
    try:
        module = importlib.import_module("gpu_worker.models.install")
    except ModuleNotFoundError as exc:
        if exc.name not in ("gpu_worker.models.install", "gpu_worker.models.registry", "gpu_worker.models.licences"):
            raise
        return None
    ready = all(hasattr(module, attr) for attr in ("load_installed_with_extras", "open_store"))
    return module if ready else None


MANIFEST_TTL_S = 30.0  # pick_engine runs per job; the manifest (maybe on S3) is re-read at most this often


class InstalledWeights(WeightSource):
    """Installed, sha256-verified weight files (``gpu_worker.models.install`` and its ``installed.json``).

    ``available(model)`` is true when an installed entry builds ``model`` and the licence gate admits
    it (``GASANG_ENV=production`` refuses non-commercial weights without the operator's opt-in), so a
    refused licence falls back to the classical engine instead of failing the job. ``load`` calls
    ``load_installed_with_extras`` (licence gate, sha256 check, strict load) and names the weights
    ``sha256:<hex>``. Without the installer module nothing is available and ``load`` raises
    ``NotImplementedError``.
    """

    kind = "installed"

    def __init__(self) -> None:
        self._manifest: tuple[float, dict[str, Any]] | None = None

    def entries(self) -> dict[str, Any]:
        """``installed.json["files"]`` (cached for ``MANIFEST_TTL_S``); empty without the installer."""
        import time

        installer = _installer()
        if installer is None:
            return {}
        now = time.monotonic()
        if self._manifest is None or now - self._manifest[0] > MANIFEST_TTL_S:
            self._manifest = (now, dict(installer.open_store().read_manifest().get("files", {})))
        return self._manifest[1]

    def entry_for(self, model: str) -> tuple[str, dict[str, Any]] | None:
        """(weight name, manifest entry) of the installed file that builds ``model``, if any."""
        for weight_name, entry in sorted(self.entries().items()):
            if entry.get("model", weight_name) == model:
                return weight_name, entry
        return None

    def version(self, name: str) -> str:
        found = self.entry_for(name)
        return str(found[1].get("sha256", "")) if found else ""

    def available(self, name: str) -> bool:
        found = self.entry_for(name)
        if found is None:
            return False
        from gpu_worker.models.licences import LicenceRefused, check_licence_from_env

        weight_name, entry = found
        holder = _Licence(weight_name, str(entry.get("licence", "")), bool(entry.get("commercial_use", False)))
        try:
            check_licence_from_env(holder)
        except LicenceRefused:
            return False
        return True

    def load(self, name: str, device: str) -> LoadedModel:
        installer = _installer()
        if installer is None:
            raise NotImplementedError(
                "gpu_worker.models.install.load_installed_with_extras is not available: install weights with "
                f"the model registry, or set {ENV_RECIPE}=1 (tests only: recipe weights produce noise)"
            )
        self._manifest = None  # load against the current manifest, not a cached one
        found = self.entry_for(name)
        if found is None:
            raise KeyError(f"no installed weight file builds {name!r}")
        weight_name, entry = found
        module, extras = installer.load_installed_with_extras(weight_name, device)
        module = module.to(device).eval().requires_grad_(False)
        return LoadedModel(name, module, f"sha256:{entry['sha256']}", device, dict(extras or {}))


@dataclass(frozen=True)
class _Licence:
    name: str
    licence: str
    commercial_use: bool


def shared_dir() -> Path:
    """``GASANG_SHARED_DIR`` or the ``shared`` folder next to the repository."""
    return Path(os.environ.get("GASANG_SHARED_DIR", REPO_ROOT.parent / "shared"))


def conformance_io(name: str) -> dict[str, Any]:
    """The conformance ``io.json`` of ``name`` (recipe rules and small build kwargs). FileNotFoundError if absent."""
    path = shared_dir() / "conformance" / name / "io.json"
    if not path.exists():
        raise FileNotFoundError(f"recipe weights need {path} (the shared conformance fixtures)")
    return json.loads(path.read_text())


class RecipeWeights(WeightSource):
    """Deterministic recipe weights (TESTS ONLY: outputs are noise, but shapes and plumbing are real).

    Models are built with the conformance ``io.json`` build kwargs (small configs where the fixture uses
    one: StyleGAN2 size 32, GPEN 128 narrow 0.25; full size for AEI-Net, HEAR-Net, IR-SE50, pSp,
    BiSeNet), updated by ``overrides[name]``. ``names`` restricts which models count as installed.
    """

    kind = "recipe"

    def __init__(self, names: set[str] | None = None, overrides: Mapping[str, Mapping[str, Any]] | None = None):
        self.names = set(names) if names is not None else None
        self.overrides = {k: dict(v) for k, v in (overrides or {}).items()}

    def available(self, name: str) -> bool:
        if self.names is not None and name not in self.names:
            return False
        return (shared_dir() / "conformance" / name / "io.json").exists()

    def cache_tag(self) -> str:
        return "recipe:" + json.dumps(self.overrides, sort_keys=True)

    def build_kwargs(self, name: str) -> dict[str, Any]:
        return {**conformance_io(name)["build_kwargs"], **self.overrides.get(name, {})}

    def load(self, name: str, device: str) -> LoadedModel:
        from gpu_worker.models import build
        from gpu_worker.models.recipe import recipe_state_dict

        if not self.available(name):
            raise KeyError(f"recipe weights for {name!r} are not offered by this source")
        rules = conformance_io(name)["weights"]["rules"]
        module = build(name, **self.build_kwargs(name))
        module.load_state_dict(recipe_state_dict(module, rules), strict=True)
        module = module.to(device).eval().requires_grad_(False)
        return LoadedModel(name, module, f"recipe:{name}", device, {})


_override: WeightSource | None = None
_installed: InstalledWeights | None = None


def weight_source() -> WeightSource:
    """The active source: a test override, recipe weights with ``GASANG_NEURAL_RECIPE_WEIGHTS=1``, else the
    process's ``InstalledWeights`` (one instance, so its manifest cache lives across jobs)."""
    global _installed
    if _override is not None:
        return _override
    if env_flag(ENV_RECIPE):
        return RecipeWeights()
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
