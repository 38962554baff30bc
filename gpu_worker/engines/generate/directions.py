"""Latent directions (age, gender, smile, ...): load them and move W / W+ codes along them.

A direction file is ``.npy`` or ``.pt``/``.pth`` holding one float array of shape (512,), (1, 512)
(applied to every layer of W+) or (n_latent, 512), e.g. (18, 512) for a 1024 generator (per layer).
``.pt`` files are read with ``weights_only=True``: a tensor, or a dict holding exactly one tensor.
Named directions live in ``GASANG_DIRECTIONS_DIR`` as ``<name>.npy`` or ``<name>.pt``.

Params form (presets, second generation): ``{"directions": {"age": 1.5, "smile": -0.5}}``: name ->
strength, the multiple of the direction added to the code (InterFaceGAN-style edits use -3..3).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gpu_worker.face.errors import FaceEngineError

ENV_DIR = "GASANG_DIRECTIONS_DIR"
MAX_STRENGTH = 10.0
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class DirectionError(ValueError):
    """A direction file that cannot be used (unreadable, wrong shape, wrong layer count)."""


@dataclass(frozen=True)
class Direction:
    name: str
    vector: np.ndarray  # float32 (1, D) or (L, D)
    sha256: str


def load_direction(path: str | os.PathLike[str], style_dim: int = 512) -> Direction:
    """Read a direction file -> ``Direction`` with a (1, D) or (L, D) float32 vector.

    Raises ``DirectionError`` for an unknown suffix, unreadable content, non-finite values or a shape
    other than (D,), (1, D), (L, D).
    """
    path = Path(path)
    raw = path.read_bytes()
    if path.suffix == ".npy":
        import io

        try:
            array = np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as exc:
            raise DirectionError(f"{path.name}: not a plain .npy array ({exc})") from exc
    elif path.suffix in (".pt", ".pth"):
        import io

        import torch

        obj = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
        if isinstance(obj, dict):
            tensors = [v for v in obj.values() if isinstance(v, torch.Tensor)]
            if len(tensors) != 1:
                raise DirectionError(f"{path.name}: a dict direction must hold one tensor, found {len(tensors)}")
            obj = tensors[0]
        if not isinstance(obj, torch.Tensor):
            raise DirectionError(f"{path.name}: expected a tensor, got {type(obj).__name__}")
        array = obj.detach().float().numpy()
    else:
        raise DirectionError(f"{path.name}: direction files are .npy, .pt or .pth")
    vector = check_shape(np.asarray(array, dtype=np.float32), style_dim, path.name)
    return Direction(path.stem, vector, hashlib.sha256(raw).hexdigest())


def check_shape(array: np.ndarray, style_dim: int, label: str = "direction") -> np.ndarray:
    """(D,) -> (1, D); (1, D) and (L, D) pass; anything else raises ``DirectionError``."""
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != style_dim or array.shape[0] < 1:
        expected = f"({style_dim},), (1, {style_dim}) or (L, {style_dim})"
        raise DirectionError(f"{label}: shape {array.shape}; expected {expected}")
    if not np.isfinite(array).all():
        raise DirectionError(f"{label}: contains NaN or infinite values")
    return array


def apply_directions(latent, edits: list[tuple[Direction, float]]):
    """Move ``latent`` (torch W [N, D] or W+ [N, L, D]) by ``strength * direction`` for each edit.

    A (1, D) direction moves every layer; an (L, D) one needs W+ with the same L (else ``DirectionError``:
    e.g. an (18, 512) direction on a 256 generator, whose W+ has 14 layers). Returns a new tensor.
    """
    import torch

    out = latent.clone()
    for direction, strength in edits:
        vec = torch.from_numpy(direction.vector).to(out.device, out.dtype)
        if vec.shape[0] == 1:
            out = out + strength * (vec[0] if out.ndim == 2 else vec)
        elif out.ndim == 3 and out.shape[1] == vec.shape[0]:
            out = out + strength * vec
        else:
            layers = out.shape[1] if out.ndim == 3 else 1
            raise DirectionError(
                f"direction {direction.name!r} has {vec.shape[0]} layers but the code has {layers} "
                f"(shape {tuple(out.shape)}); use a (1, {vec.shape[1]}) direction or one made for this generator"
            )
    return out


def directions_dir() -> Path:
    return Path(os.environ.get(ENV_DIR, "/var/lib/gasang/directions"))


def exists(name: str) -> bool:
    """Whether a direction file ``name`` is in ``GASANG_DIRECTIONS_DIR`` (cheap: no loading)."""
    return any((directions_dir() / f"{name}{suffix}").exists() for suffix in (".npy", ".pt", ".pth"))


def resolve(name: str, style_dim: int = 512) -> Direction:
    """Load the named direction from ``GASANG_DIRECTIONS_DIR``. ``bad_parameter`` for a bad or unknown name."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise FaceEngineError("bad_parameter", f"direction names are lowercase letters, digits, - and _: {name!r}")
    for suffix in (".npy", ".pt", ".pth"):
        path = directions_dir() / f"{name}{suffix}"
        if path.exists():
            try:
                return load_direction(path, style_dim)
            except DirectionError as exc:
                raise FaceEngineError("bad_parameter", str(exc)) from exc
    raise FaceEngineError("bad_parameter", f"unknown latent direction {name!r} (not in {directions_dir()})")


def parse_edits(value: Any, style_dim: int = 512) -> list[tuple[Direction, float]]:
    """``{"age": 1.5, ...}`` (or None) -> loaded directions with strengths. ``bad_parameter`` when malformed."""
    if value is None:
        return []
    if not isinstance(value, dict):
        raise FaceEngineError("bad_parameter", 'directions must be an object {"name": strength}')
    edits = []
    for name, strength in sorted(value.items()):
        if isinstance(strength, bool) or not isinstance(strength, int | float) or abs(strength) > MAX_STRENGTH:
            raise FaceEngineError("bad_parameter", f"strength of {name!r} must be a number in [-10, 10]")
        edits.append((resolve(name, style_dim), float(strength)))
    return edits


def describe(edits: list[tuple[Direction, float]]) -> list[dict[str, Any]]:
    """JSON-able record of the edits for job metadata (name, strength, file sha256)."""
    return [{"name": d.name, "strength": s, "sha256": d.sha256} for d, s in edits]
