"""Where neural weights come from: ``WeightSource`` (``available`` is cheap, ``load`` builds the model) and
``InstalledWeights`` (the sha256-verified files of ``gpu_worker.weights.install``, licence-gated).
Tests and benchmarks bring their own sources (tests/gpu_worker/conformance_support.py: recipe weights).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
    """The loader (``gpu_worker.weights.loading``: ``open_store``, ``load_installed_with_extras``). Tests replace
    it with ``lambda: None`` to model a worker without the installer: then nothing is available."""
    from gpu_worker.weights import loading

    return loading


MANIFEST_TTL_S = 30.0  # selection runs per job; the manifest (maybe on S3) is re-read at most this often


class InstalledWeights(WeightSource):
    """Installed, sha256-verified weight files (``gpu_worker.weights.install`` wrote them and ``installed.json``).

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
        from gpu_worker.weights.licences import LicenceRefused, check_licence_from_env

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
                "gpu_worker.weights.loading.load_installed_with_extras is not available: install weights with "
                "the model registry, or use a test weight source"
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


