"""Convert NVIDIA stylegan2-ada-pytorch generator pickles (``*.pkl``) to the rosinality layout.

The official pickles are plain ``pickle.dump`` output of ``dict(G, D, G_ema, training_set_kwargs,
augment_pipe)``. Every network is a ``torch_utils.persistence`` object: it unpickles through
``torch_utils.persistence._reconstruct_persistent_obj(meta)``, which ``exec``s the module source
stored in ``meta['module_src']``. Loading such a file with ``pickle.load`` therefore runs code from
the file. Here nothing from the file runs and nothing is imported: the file is read with
``gpu_worker.tools.safe_unpickle`` (an allow-list unpickler), and names from NVIDIA's and numpy's modules
become inert placeholder objects that only record their arguments and state (the persistent ``meta``
dict, with the module's ``__dict__`` under ``state``). This module maps those objects to rosinality keys.
Offline tool: never imported by the worker.

Mapping (``G_ema`` parameter -> rosinality ``Generator`` key), res = 2**(i+3) for block i >= 0:

=====================================  ==============================================
``mapping.fc{k}.weight|bias``          ``style.{k+1}.weight|bias`` (same lr-mul parametrisation)
``mapping.w_avg``                      ``latent_avg`` (container entry, not in the state_dict)
``synthesis.b4.const`` [C,4,4]         ``input.input`` [1,C,4,4]
``synthesis.b4.conv1.*``               ``conv1.*``
``synthesis.b4.torgb.*``               ``to_rgb1.*``
``synthesis.b{res}.conv0.*``           ``convs.{2i}.*`` (weight already flipped like rosinality's)
``synthesis.b{res}.conv1.*``           ``convs.{2i+1}.*``
``synthesis.b{res}.torgb.*``           ``to_rgbs.{i}.*``
SynthesisLayer ``weight`` [O,I,k,k]    ``conv.weight`` [1,O,I,k,k]
``affine.weight|bias``                 ``conv.modulation.weight|bias``
``noise_strength`` []                  ``noise.weight`` [1]
``bias`` [O]                           ``activate.bias`` (ToRGB: ``bias`` [1,3,1,1])
``noise_const`` [r,r] (in order)       ``noises.noise_{n}`` [1,1,r,r]
``resample_filter`` [4,4] x 4          ``convs.{2i}.conv.blur.kernel`` / ``to_rgbs.{i}.upsample.kernel``
=====================================  ==============================================

Supported: unconditional (``c_dim == 0``) generators with the 'skip' synthesis architecture,
noise inputs, z_dim == w_dim, lrelu activations, mapping lr multiplier 0.01 and the config-e/f
channel tables (channel_base 16384 or 32768, channel_max 512). Anything else is refused with
``UnsupportedAdaConfig`` rather than converted approximately. ``conv_clamp`` (256 in the ADA
configs) has no rosinality equivalent; it is reported in ``AdaConversion.notes``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import torch

from gpu_worker.tools import safe_unpickle
from gpu_worker.tools.safe_unpickle import InertObject, UnsafePickleError

__all__ = ["AdaConversion", "UnsafePickleError", "UnsupportedAdaConfig", "convert_ada_pickle",
           "convert_ada_pickle_to_file", "convert_generator", "safe_load_pickle"]

# Modules whose names become inert placeholders: NVIDIA's own code (never imported, never run)
# and numpy (non-tensor attributes such as weight_gain are numpy scalars).
ADA_INERT_PREFIXES = ("torch_utils", "dnnlib", "training", "legacy", "metrics", "numpy", "_imported_module_")
_PERSISTENT_RECONSTRUCT = ("torch_utils.persistence", "_reconstruct_persistent_obj")
_MAPPING_LR_MULTIPLIER = 0.01


class UnsupportedAdaConfig(ValueError):
    """The generator's configuration has no faithful rosinality equivalent."""


def safe_load_pickle(source: str | Path | IO[bytes]) -> Any:
    """Unpickle an ADA network pickle without running or importing anything from it."""
    return safe_unpickle.safe_load_pickle(source, ADA_INERT_PREFIXES)


# ---------------------------------------------------------------------------------------------
# Walking the module tree of inert persistent objects


def _module_state(obj: Any, where: str) -> dict[str, Any]:
    """The ``__dict__`` an nn.Module pickled with (persistent or plain) carries."""
    if isinstance(obj, InertObject):
        if (obj._module, obj._name) == _PERSISTENT_RECONSTRUCT and obj.args and isinstance(obj.args[0], Mapping):
            meta = obj.args[0]
            if meta.get("type") != "class" or not isinstance(meta.get("state"), Mapping):
                raise UnsupportedAdaConfig(f"{where}: unexpected persistent object meta {sorted(meta)}")
            return dict(meta["state"])
        state = obj.state[0] if isinstance(obj.state, tuple) else obj.state
        if isinstance(state, Mapping):
            return dict(state)
    raise UnsupportedAdaConfig(f"{where}: expected a pickled torch module, got {obj!r}")


def _class_name(obj: Any) -> str:
    if isinstance(obj, InertObject) and (obj._module, obj._name) == _PERSISTENT_RECONSTRUCT:
        return str(obj.args[0].get("class_name", "?"))
    return getattr(type(obj), "_name", type(obj).__name__)


@dataclass
class ModuleTree:
    """Flattened view of a pickled module: tensors by dotted name, plain attributes by module path."""

    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    classes: dict[str, str] = field(default_factory=dict)


def flatten_module(obj: Any, prefix: str = "", tree: ModuleTree | None = None) -> ModuleTree:
    """Collect ``_parameters``/``_buffers`` recursively through ``_modules`` like ``state_dict()``."""
    tree = tree if tree is not None else ModuleTree()
    state = _module_state(obj, prefix.rstrip(".") or "<root>")
    path = prefix.rstrip(".")
    tree.classes[path] = _class_name(obj)
    tree.attributes[path] = {k: v for k, v in state.items() if isinstance(v, str | int | float | bool | type(None))}
    for group in ("_parameters", "_buffers"):
        for name, value in (state.get(group) or {}).items():
            if value is None:
                continue
            if not isinstance(value, torch.Tensor):
                raise UnsupportedAdaConfig(f"{prefix}{name}: expected a tensor, got {type(value).__name__}")
            tree.tensors[prefix + name] = value
    for name, child in (state.get("_modules") or {}).items():
        if child is not None:
            flatten_module(child, f"{prefix}{name}.", tree)
    return tree


# ---------------------------------------------------------------------------------------------
# ADA -> rosinality


@dataclass
class AdaConversion:
    """Result of a conversion: the rosinality container plus what was inferred and noted."""

    g_ema: dict[str, torch.Tensor]
    latent_avg: torch.Tensor
    build_kwargs: dict[str, int]
    notes: list[str]

    def container(self) -> dict[str, Any]:
        """``{'g_ema', 'latent_avg'}`` like rosinality's convert_weight.py output."""
        return {"g_ema": self.g_ema, "latent_avg": self.latent_avg}


def _rosinality_channels(channel_multiplier: int) -> dict[int, int]:
    base = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}
    return {res: ch if res <= 32 else ch * channel_multiplier for res, ch in base.items()}


def _infer_channel_multiplier(channels: Mapping[int, int], default: int) -> int:
    candidates = [cm for cm in (1, 2) if all(_rosinality_channels(cm).get(r) == c for r, c in channels.items())]
    if not candidates:
        raise UnsupportedAdaConfig(f"synthesis channels {dict(channels)} match no rosinality channel_multiplier")
    return default if default in candidates else candidates[0]


def _fir_kernel(resample_filter: torch.Tensor, where: str) -> torch.Tensor:
    """ADA's normalised FIR filter -> rosinality's blur kernel (which folds in the up^2 = 4 gain)."""
    f = resample_filter.to(torch.float32)
    if f.ndim == 1:
        f = torch.outer(f, f)
    if f.shape != (4, 4):
        raise UnsupportedAdaConfig(f"{where}: only 4-tap resample filters are supported, got {tuple(f.shape)}")
    return f * 4


def _check_attr(tree: ModuleTree, path: str, name: str, expected: Any) -> None:
    value = tree.attributes.get(path, {}).get(name, expected)
    if isinstance(expected, float):
        ok = isinstance(value, int | float) and math.isclose(float(value), expected, rel_tol=1e-6)
    else:
        ok = value == expected
    if not ok:
        raise UnsupportedAdaConfig(f"{path}.{name} = {value!r}; only {expected!r} converts faithfully")


def _mapping_layout(tree: ModuleTree) -> tuple[list[int], int]:
    """(fc layer ids, style_dim) of the mapping network; refuses what rosinality cannot express."""
    t = tree.tensors
    if any(k.startswith("mapping.embed.") for k in t):
        raise UnsupportedAdaConfig("conditional generator (mapping.embed, c_dim > 0) has no rosinality equivalent")
    fc_ids = sorted(int(m.group(1)) for k in t if (m := re.fullmatch(r"mapping\.fc(\d+)\.weight", k)))
    if not fc_ids or fc_ids != list(range(len(fc_ids))):
        raise UnsupportedAdaConfig(f"mapping layers are not fc0..fcN: {fc_ids}")
    z_dim = t["mapping.fc0.weight"].shape[1]
    style_dim = t[f"mapping.fc{len(fc_ids) - 1}.weight"].shape[0]
    if z_dim != style_dim or any(t[f"mapping.fc{i}.weight"].shape != (style_dim, style_dim) for i in fc_ids):
        raise UnsupportedAdaConfig("rosinality needs z_dim == w_dim == every mapping layer width")
    for i in fc_ids:
        _check_attr(tree, f"mapping.fc{i}", "bias_gain", _MAPPING_LR_MULTIPLIER)
        _check_attr(tree, f"mapping.fc{i}", "activation", "lrelu")
    if "mapping.w_avg" not in t:
        raise UnsupportedAdaConfig("mapping.w_avg missing (w_avg_beta=None); rosinality needs latent_avg")
    return fc_ids, style_dim


def _synthesis_resolutions(t: Mapping[str, torch.Tensor]) -> list[int]:
    """b4..b<size> of a 'skip' synthesis network with a ToRGB per block; refuses other architectures."""
    resolutions = sorted(int(m.group(1)) for k in t if (m := re.fullmatch(r"synthesis\.b(\d+)\.conv1\.weight", k)))
    size = resolutions[-1] if resolutions else 0
    if size < 8 or resolutions != [2**i for i in range(2, int(math.log2(size)) + 1)]:
        raise UnsupportedAdaConfig(f"synthesis blocks {resolutions} are not b4..b<size> with size >= 8")
    if any(k.startswith("synthesis.") and ".skip." in k for k in t):
        raise UnsupportedAdaConfig("'resnet' synthesis architecture has no rosinality equivalent")
    if any(f"synthesis.b{r}.torgb.weight" not in t for r in resolutions):
        raise UnsupportedAdaConfig("'orig' synthesis architecture (ToRGB only at the end) is not supported")
    return resolutions


@dataclass
class _SynthesisMapper:
    """Copies synthesis layers into rosinality keys, collecting noise buffers and conv_clamp values."""

    tree: ModuleTree
    out: dict[str, torch.Tensor]
    noises: list[torch.Tensor] = field(default_factory=list)
    clamps: set[Any] = field(default_factory=set)

    def layer(self, src: str, dst: str, upsample: bool) -> None:
        t, out = self.tree.tensors, self.out
        if f"{src}.noise_const" not in t:
            raise UnsupportedAdaConfig(f"{src}: use_noise=False has no rosinality equivalent")
        _check_attr(self.tree, src, "activation", "lrelu")
        self.clamps.add(self.tree.attributes.get(src, {}).get("conv_clamp"))
        out[f"{dst}.conv.weight"] = t[f"{src}.weight"].unsqueeze(0)
        if upsample:
            out[f"{dst}.conv.blur.kernel"] = _fir_kernel(t[f"{src}.resample_filter"], src)
        out[f"{dst}.conv.modulation.weight"] = t[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = t[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = t[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = t[f"{src}.bias"]
        self.noises.append(t[f"{src}.noise_const"])

    def torgb(self, src: str, dst: str, block: str | None) -> None:
        t, out = self.tree.tensors, self.out
        if block is not None:
            out[f"{dst}.upsample.kernel"] = _fir_kernel(t[f"{block}.resample_filter"], block)
        out[f"{dst}.bias"] = t[f"{src}.bias"].reshape(1, -1, 1, 1)
        out[f"{dst}.conv.weight"] = t[f"{src}.weight"].unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = t[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = t[f"{src}.affine.bias"]

    def synthesis(self, resolutions: list[int]) -> None:
        self.layer("synthesis.b4.conv1", "conv1", upsample=False)
        self.torgb("synthesis.b4.torgb", "to_rgb1", None)
        for i, res in enumerate(resolutions[1:]):
            block = f"synthesis.b{res}"
            self.layer(f"{block}.conv0", f"convs.{2 * i}", upsample=True)
            self.layer(f"{block}.conv1", f"convs.{2 * i + 1}", upsample=False)
            self.torgb(f"{block}.torgb", f"to_rgbs.{i}", block)
        for n, noise in enumerate(self.noises):
            self.out[f"noises.noise_{n}"] = noise.reshape(1, 1, *noise.shape[-2:])


def convert_generator(g_ema: Any, *, channel_multiplier: int = 2) -> AdaConversion:
    """Map an unpickled ADA ``G_ema`` (inert persistent object) to rosinality ``g_ema`` + ``latent_avg``.

    ``channel_multiplier`` only breaks the tie for sizes <= 32, where both tables agree.
    Raises ``UnsupportedAdaConfig`` for configurations without a faithful equivalent.
    """
    tree = flatten_module(g_ema)
    t = tree.tensors
    fc_ids, style_dim = _mapping_layout(tree)
    resolutions = _synthesis_resolutions(t)
    channels = {r: t[f"synthesis.b{r}.conv1.weight"].shape[0] for r in resolutions}
    channel_multiplier = _infer_channel_multiplier(channels, channel_multiplier)

    out: dict[str, torch.Tensor] = {}
    for i in fc_ids:
        out[f"style.{i + 1}.weight"] = t[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = t[f"mapping.fc{i}.bias"]
    out["input.input"] = t["synthesis.b4.const"].unsqueeze(0)
    mapper = _SynthesisMapper(tree, out)
    mapper.synthesis(resolutions)
    if t["synthesis.b4.torgb.weight"].shape[0] != 3:
        raise UnsupportedAdaConfig("only 3-channel (RGB) generators are supported")

    notes: list[str] = []
    clamps = mapper.clamps - {None}
    if clamps:
        notes.append(
            f"source uses conv_clamp={sorted(clamps)}; rosinality has no clamp, so outputs differ only where "
            "pre-activation values exceed that bound"
        )
    out = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in out.items()}
    build_kwargs = {"size": resolutions[-1], "style_dim": style_dim, "n_mlp": len(fc_ids),
                    "channel_multiplier": channel_multiplier}
    latent_avg = t["mapping.w_avg"].detach().to(torch.float32).clone()
    return AdaConversion(g_ema=out, latent_avg=latent_avg, build_kwargs=build_kwargs, notes=notes)


def convert_ada_pickle(
    source: str | Path | IO[bytes], *, channel_multiplier: int = 2, check: bool = True
) -> AdaConversion:
    """Safely read an ADA network pickle and convert its ``G_ema``.

    With ``check`` the result is loaded with strict=True into ``build("stylegan2", **build_kwargs)``,
    so a key/shape mismatch fails here and not at serving time. Raises ``UnsafePickleError`` for a
    pickle referencing anything outside the allow-list, ``UnsupportedAdaConfig`` otherwise.
    """
    data = safe_load_pickle(source)  # ADA's own modules load as inert placeholders
    if not isinstance(data, Mapping) or "G_ema" not in data:
        kind = type(data).__name__
        raise UnsupportedAdaConfig(f"not a stylegan2-ada network pickle (expected a dict with 'G_ema', got {kind})")
    result = convert_generator(data["G_ema"], channel_multiplier=channel_multiplier)
    if check:
        from gpu_worker.models import build

        model = build("stylegan2", **result.build_kwargs)
        model.load_state_dict(result.g_ema, strict=True)
    return result


def convert_ada_pickle_to_file(source: str | Path, out: str | Path, *, channel_multiplier: int = 2) -> AdaConversion:
    """Convert ``source`` and ``torch.save`` ``{'g_ema', 'latent_avg'}`` to ``out``."""
    result = convert_ada_pickle(source, channel_multiplier=channel_multiplier)
    torch.save(result.container(), out)
    return result
