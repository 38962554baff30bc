"""Load installed weights: manifest entry -> licence gate -> sha256 check -> safe ``torch.load`` -> the one
container unwrapper (``containers``) -> ``load_state_dict(strict=True)``. torch is imported only when loading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpu_worker.weights import registry
from gpu_worker.weights.install import hash_stream
from gpu_worker.weights.licences import check_licence, gate_from_env
from gpu_worker.weights.stores import ChecksumMismatch, InstallError, ModelStore, S3Store, open_store

__all__ = ["load_installed", "load_installed_with_extras", "open_store"]


# (path, sha256) -> (size, mtime_ns) of the file when it last hashed correctly in this process.
_VERIFIED: dict[tuple[str, str], tuple[int, int]] = {}


def _verified_local_file(path: Path, sha256: str) -> Path:
    stat = path.stat()
    key = (str(path.resolve()), sha256)
    if _VERIFIED.get(key) == (stat.st_size, stat.st_mtime_ns):
        return path
    with open(path, "rb") as f:
        actual, _ = hash_stream(f)
    if actual != sha256:
        _VERIFIED.pop(key, None)
        raise ChecksumMismatch(f"{path}: sha256 {actual} does not match the installed {sha256}; re-install it")
    _VERIFIED[key] = (stat.st_size, stat.st_mtime_ns)
    return path


def load_installed_with_extras(
    name: str, device: Any = "cpu", *, store: ModelStore | None = None, env: Mapping[str, str] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Build model ``name`` from its installed weights: ``(nn.Module in eval mode on device, extras)``.

    Order: manifest lookup -> licence gate (``LicenceRefused``) -> sha256 check (cached per process)
    -> ``torch.load(weights_only=True)`` -> unwrap the container -> ``load_state_dict(strict=True)``.
    ``extras`` holds container entries besides the state_dict (e.g. StyleGAN2 ``latent_avg``).
    Raises ``InstallError`` when not installed, ``ChecksumMismatch`` when the file changed, and
    ``NotImplementedError`` when no container loader exists for the model yet.
    """
    store = store if store is not None else open_store()
    entry = store.read_manifest().get("files", {}).get(name)
    if entry is None:
        raise InstallError(f"{name} is not installed in {store.location}; run: models install {name} --from ...")
    weight = registry.WEIGHTS.get(name)
    licence_holder = weight if weight is not None else _ManifestLicence(name, entry["licence"], entry["commercial_use"])
    production, allow = gate_from_env(env)
    check_licence(licence_holder, production=production, allow_noncommercial=allow)

    path = store.local_path(entry["filename"], entry["sha256"])
    try:
        path = _verified_local_file(path, entry["sha256"])
    except ChecksumMismatch:
        if not isinstance(store, S3Store):
            raise
        path.unlink(missing_ok=True)  # a damaged cache copy: fetch it once more from the model directory
        path = _verified_local_file(store.local_path(entry["filename"], entry["sha256"]), entry["sha256"])

    import torch

    from gpu_worker.models import build
    from gpu_worker.weights.containers import load_checkpoint

    model_name = entry["model"]
    container = torch.load(path, map_location="cpu", weights_only=True)
    model = build(model_name, **entry.get("build_kwargs", {}))
    extras = dict(load_checkpoint(model_name, container, model) or {})
    return model.to(device).eval(), extras


def load_installed(name: str, device: Any = "cpu", **kwargs: Any) -> Any:
    """``load_installed_with_extras(...)[0]``: the ready ``nn.Module``."""
    return load_installed_with_extras(name, device, **kwargs)[0]


@dataclass(frozen=True)
class _ManifestLicence:
    name: str
    licence: str
    commercial_use: bool
