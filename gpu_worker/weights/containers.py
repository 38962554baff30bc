"""Load official checkpoint files into the models of ``gpu_worker.models``.

Each model name maps to an *unwrapper* that turns the official container into
``(state_dict for the model, extras)``; ``load_checkpoint`` then loads the state_dict with
``strict=True``. Files are read with ``torch.load(..., weights_only=True)``: no pickled code
runs, so containers that pickle Python objects (e.g. rosinality ``train.py`` checkpoints with
an ``argparse.Namespace`` under ``'args'``) are refused — re-save their ``g_ema`` first.

Containers (see each fixture's ``manifest.json["checkpoint_container"]``):

* ``stylegan2``: ``{'g_ema': state_dict, 'latent_avg': [512], ...}`` (convert_weight.py);
  extras: ``latent_avg`` when present.
* ``gpen``: a plain state_dict (GPEN-BFR-*.pth), or ``{'g_ema': state_dict, ...}`` from train_simple.py.
* ``arcface_ir_se50``: a plain state_dict (model_ir_se50.pth).
* ``psp_encoder``: ``{'state_dict': {'encoder.*', 'decoder.*'}, 'latent_avg': [18, 512], 'opts': {...}}``;
  extras: ``latent_avg``, ``decoder`` (a stylegan2 ``Generator(1024, 512, 8)`` state_dict, prefix
  stripped, loadable with ``load_checkpoint('stylegan2', extras['decoder'], generator)``) and ``opts``.
* ``aei_net`` (FaceShifter ``G_latest.pth``), ``hear_net`` (``HEAR_latest.pth``), ``psgan`` (PSGAN
  ``assets/models/G.pth``), ``bisenet_parsing`` (face-parsing ``79999_iter.pth``): bare state_dicts, validated
  by ``plain_state_dict``; a ``module.`` prefix on *every* key (``nn.DataParallel`` re-trainings) is stripped.

Every model has one entry in ``UNWRAPPERS``; an entry may return just the state_dict or ``(state_dict, extras)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

_DATA_PARALLEL_PREFIX = "module."

StateDict = dict[str, torch.Tensor]
# An unwrapper returns the model's state_dict, or (state_dict, extras) when the container carries more.
Unwrapper = Callable[[Mapping[str, Any]], StateDict | tuple[StateDict, dict[str, Any]]]
Source = str | os.PathLike[str] | Mapping[str, Any]


def read_container(source: Source) -> Mapping[str, Any]:
    """A checkpoint path (read safely on CPU) or an already loaded container -> the container."""
    if isinstance(source, Mapping):
        return source
    obj = torch.load(source, map_location="cpu", weights_only=True)
    if not isinstance(obj, Mapping):
        raise TypeError(f"{source}: expected a dict-like checkpoint, got {type(obj).__name__}")
    return obj


def is_state_dict(obj: Any) -> bool:
    """True for a non-empty mapping of str -> tensor."""
    return (
        isinstance(obj, Mapping)
        and bool(obj)
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    )


def strip_prefix(state_dict: Mapping[str, torch.Tensor], prefix: str) -> StateDict:
    """The entries whose key starts with ``prefix``, with the prefix removed."""
    return {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}


def plain_state_dict(obj: Any) -> dict[str, torch.Tensor]:
    """Validate a bare ``{key: tensor}`` container; strip a uniform ``module.`` prefix.

    Raises ``TypeError`` for anything that is not a mapping of string keys to tensors
    (for example a whole pickled model or a training-state dict with optimizer entries).
    """
    if not is_state_dict(obj):
        if not isinstance(obj, Mapping):
            raise TypeError(f"expected a state_dict mapping, got {type(obj).__name__}")
        if not obj:
            raise TypeError("empty state_dict")
        bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
        raise TypeError(f"not a plain state_dict; non-tensor entries: {bad[:5]}")
    state = dict(obj)
    if all(k.startswith(_DATA_PARALLEL_PREFIX) for k in state):
        state = {k[len(_DATA_PARALLEL_PREFIX) :]: v for k, v in state.items()}
    return state


def _plain_or_key(key: str) -> Unwrapper:
    """Unwrapper for a plain state_dict or a dict holding one under ``key``."""

    def unwrap(obj: Mapping[str, Any]) -> tuple[StateDict, dict[str, Any]]:
        if key in obj and is_state_dict(obj[key]):
            extras = {k: v for k, v in obj.items() if k == "latent_avg"}
            return dict(obj[key]), extras
        if is_state_dict(obj):
            return dict(obj), {}
        raise KeyError(f"checkpoint is neither a plain state_dict nor holds one under {key!r}: keys {list(obj)[:8]}")

    return unwrap


def _plain(obj: Mapping[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    if not is_state_dict(obj):
        raise KeyError(f"expected a plain state_dict, got keys {list(obj)[:8]}")
    return dict(obj), {}


def _psp(obj: Mapping[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    if "state_dict" not in obj:
        raise KeyError(f"expected a pSp checkpoint with 'state_dict', got keys {list(obj)[:8]}")
    full = obj["state_dict"]
    encoder = strip_prefix(full, "encoder.")
    if not encoder:
        raise KeyError("pSp checkpoint holds no 'encoder.*' weights")
    extras: dict[str, Any] = {"decoder": strip_prefix(full, "decoder.")}
    for key in ("latent_avg", "opts"):
        if key in obj:
            extras[key] = obj[key]
    return encoder, extras


UNWRAPPERS: dict[str, Unwrapper] = {
    "stylegan2": _plain_or_key("g_ema"),
    "gpen": _plain_or_key("g_ema"),
    "arcface_ir_se50": _plain,
    "psp_encoder": _psp,
    "aei_net": plain_state_dict,
    "hear_net": plain_state_dict,
    "psgan": plain_state_dict,
    "bisenet_parsing": plain_state_dict,
}


def _unwrapper(name: str) -> Unwrapper:
    if name not in UNWRAPPERS:
        raise KeyError(f"no checkpoint unwrapper for {name!r}; known: {', '.join(sorted(UNWRAPPERS))}")
    return UNWRAPPERS[name]


def unwrap_checkpoint(name: str, source: Source) -> tuple[StateDict, dict[str, Any]]:
    """Read ``source`` and return ``(model state_dict, extras)`` for model ``name``."""
    result = _unwrapper(name)(read_container(source))
    if isinstance(result, tuple):
        return result
    return result, {}


def load_checkpoint(name: str, source: Source, model: nn.Module, *, assign: bool = False) -> dict[str, Any]:
    """Load the official checkpoint ``source`` (path or loaded container) into ``model`` with strict=True.

    ``assign=True`` adopts the checkpoint tensors instead of copying (use it for models built on the
    meta device). Returns the container's extras (e.g. ``latent_avg``); raises on any key/shape mismatch.
    """
    state_dict, extras = unwrap_checkpoint(name, source)
    model.load_state_dict(state_dict, strict=True, assign=assign)
    return extras
