"""Convert NVIDIA stylegan2-ada-pytorch generator pickles (``*.pkl``) to the rosinality layout.

The official pickles are plain ``pickle.dump`` output of ``dict(G, D, G_ema, training_set_kwargs,
augment_pipe)``. Every network is a ``torch_utils.persistence`` object: it unpickles through
``torch_utils.persistence._reconstruct_persistent_obj(meta)``, which ``exec``s the module source
stored in ``meta['module_src']``. Loading such a file with ``pickle.load`` therefore runs code from
the file. Here nothing from the file runs and nothing is imported:

* ``SafeUnpickler.find_class`` resolves only a short allow-list (tensor/storage rebuild functions,
  replaced by our own checked versions, and ``collections.OrderedDict``);
* names from NVIDIA's and numpy's modules become inert placeholder objects that only record their
  arguments and state (the persistent ``meta`` dict, with the module's ``__dict__`` under ``state``);
* every other name (``os.system``, ``builtins.eval``, ``subprocess.*``, ...) is refused with
  ``UnsafePickleError``.

Tensor storages inside the pickle are nested legacy ``torch.save`` blobs; they are read with
``torch.load(..., weights_only=True)``.

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

import io
import math
import pickle
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import torch

# Modules whose names become inert placeholders: NVIDIA's own code (never imported, never run)
# and numpy (non-tensor attributes such as weight_gain are numpy scalars).
_INERT_MODULE_PREFIXES = ("torch_utils", "dnnlib", "training", "legacy", "metrics", "numpy", "_imported_module_")
_PERSISTENT_RECONSTRUCT = ("torch_utils.persistence", "_reconstruct_persistent_obj")
_MAPPING_LR_MULTIPLIER = 0.01


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references a callable or class that is not on the allow-list."""


class UnsupportedAdaConfig(ValueError):
    """The generator's configuration has no faithful rosinality equivalent."""


class InertObject:
    """Stand-in for an object of a class that is never imported: records args, items and state."""

    _module = "?"
    _name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> InertObject:
        obj = object.__new__(cls)
        obj.args, obj.kwargs, obj.state, obj.items, obj.listitems = args, kwargs, None, {}, []
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # __new__ already recorded everything; REDUCE calls the class, NEWOBJ calls __new__.

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.items[key] = value

    def append(self, value: Any) -> None:
        self.listitems.append(value)

    def extend(self, values: Any) -> None:
        self.listitems.extend(values)

    @classmethod
    def qualified_name(cls) -> str:
        return f"{cls._module}.{cls._name}"

    def __repr__(self) -> str:
        return f"<inert {self.qualified_name()}>"


def _check_storage(storage: Any) -> None:
    if not isinstance(storage, torch.TypedStorage | torch.UntypedStorage):
        raise UnsafePickleError(f"tensor rebuild got {type(storage).__name__}, not a torch storage")


def _rebuild_tensor(storage: Any, storage_offset: int, size: Any, stride: Any, *_ignored: Any) -> torch.Tensor:
    """Checked replacement for torch._utils._rebuild_tensor(_v2); backward hooks are dropped."""
    _check_storage(storage)
    if not all(isinstance(v, int) for v in (storage_offset, *size, *stride)):
        raise UnsafePickleError("tensor rebuild with non-integer geometry")
    return torch._utils._rebuild_tensor(storage, storage_offset, tuple(size), tuple(stride))


def _rebuild_parameter(data: Any, *_ignored: Any) -> torch.Tensor:
    """Parameters become plain tensors: only their values matter for conversion."""
    if not isinstance(data, torch.Tensor):
        raise UnsafePickleError(f"parameter rebuild got {type(data).__name__}, not a tensor")
    return data.detach()


def _load_storage_bytes(blob: Any) -> Any:
    """torch.storage._load_from_bytes runs torch.load(weights_only=False); this one does not."""
    if not isinstance(blob, bytes | bytearray):
        raise UnsafePickleError("storage payload is not bytes")
    return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)


_ALLOWED: dict[tuple[str, str], Callable[..., Any]] = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage_bytes,
    ("collections", "OrderedDict"): OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
}


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that never imports or calls anything outside ``_ALLOWED``.

    Names under NVIDIA's/numpy's module prefixes load as ``InertObject`` subclasses; all other
    names raise ``UnsafePickleError`` naming the refused global.
    """

    def __init__(self, file: IO[bytes]) -> None:
        super().__init__(file)
        self._inert: dict[tuple[str, str], type[InertObject]] = {}

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _ALLOWED:
            return _ALLOWED[key]
        if module.startswith(_INERT_MODULE_PREFIXES):
            if key not in self._inert:
                self._inert[key] = type(name, (InertObject,), {"_module": module, "_name": name})
            return self._inert[key]
        raise UnsafePickleError(f"refused pickle global {module}.{name} (only tensors and plain containers are read)")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("persistent ids are not expected in a stylegan2-ada pickle")


def safe_load_pickle(source: str | Path | IO[bytes]) -> Any:
    """Unpickle ``source`` (a path or a binary file) with ``SafeUnpickler``."""
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            return SafeUnpickler(f).load()
    return SafeUnpickler(source).load()


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


def convert_generator(g_ema: Any, *, channel_multiplier: int = 2) -> AdaConversion:
    """Map an unpickled ADA ``G_ema`` (inert persistent object) to rosinality ``g_ema`` + ``latent_avg``.

    ``channel_multiplier`` only breaks the tie for sizes <= 32, where both tables agree.
    Raises ``UnsupportedAdaConfig`` for configurations without a faithful equivalent.
    """
    tree = flatten_module(g_ema)
    t = tree.tensors
    notes: list[str] = []
    if any(k.startswith("mapping.embed.") for k in t):
        raise UnsupportedAdaConfig("conditional generator (mapping.embed, c_dim > 0) has no rosinality equivalent")

    fc_ids = sorted(int(m.group(1)) for k in t if (m := re.fullmatch(r"mapping\.fc(\d+)\.weight", k)))
    if not fc_ids or fc_ids != list(range(len(fc_ids))):
        raise UnsupportedAdaConfig(f"mapping layers are not fc0..fcN: {fc_ids}")
    n_mlp = len(fc_ids)
    z_dim = t["mapping.fc0.weight"].shape[1]
    style_dim = t[f"mapping.fc{n_mlp - 1}.weight"].shape[0]
    if z_dim != style_dim or any(t[f"mapping.fc{i}.weight"].shape != (style_dim, style_dim) for i in fc_ids):
        raise UnsupportedAdaConfig("rosinality needs z_dim == w_dim == every mapping layer width")
    for i in fc_ids:
        _check_attr(tree, f"mapping.fc{i}", "bias_gain", _MAPPING_LR_MULTIPLIER)
        _check_attr(tree, f"mapping.fc{i}", "activation", "lrelu")
    if "mapping.w_avg" not in t:
        raise UnsupportedAdaConfig("mapping.w_avg missing (w_avg_beta=None); rosinality needs latent_avg")

    resolutions = sorted(int(m.group(1)) for k in t if (m := re.fullmatch(r"synthesis\.b(\d+)\.conv1\.weight", k)))
    size = resolutions[-1] if resolutions else 0
    if size < 8 or resolutions != [2**i for i in range(2, int(math.log2(size)) + 1)]:
        raise UnsupportedAdaConfig(f"synthesis blocks {resolutions} are not b4..b<size> with size >= 8")
    if any(k.startswith("synthesis.") and ".skip." in k for k in t):
        raise UnsupportedAdaConfig("'resnet' synthesis architecture has no rosinality equivalent")
    if any(f"synthesis.b{r}.torgb.weight" not in t for r in resolutions):
        raise UnsupportedAdaConfig("'orig' synthesis architecture (ToRGB only at the end) is not supported")
    channels = {r: t[f"synthesis.b{r}.conv1.weight"].shape[0] for r in resolutions}
    channel_multiplier = _infer_channel_multiplier(channels, channel_multiplier)

    out: dict[str, torch.Tensor] = {}
    for i in fc_ids:
        out[f"style.{i + 1}.weight"] = t[f"mapping.fc{i}.weight"]
        out[f"style.{i + 1}.bias"] = t[f"mapping.fc{i}.bias"]
    out["input.input"] = t["synthesis.b4.const"].unsqueeze(0)

    noises: list[torch.Tensor] = []
    clamps: set[Any] = set()

    def layer(src: str, dst: str, upsample: bool) -> None:
        if f"{src}.noise_const" not in t:
            raise UnsupportedAdaConfig(f"{src}: use_noise=False has no rosinality equivalent")
        _check_attr(tree, src, "activation", "lrelu")
        clamps.add(tree.attributes.get(src, {}).get("conv_clamp"))
        out[f"{dst}.conv.weight"] = t[f"{src}.weight"].unsqueeze(0)
        if upsample:
            out[f"{dst}.conv.blur.kernel"] = _fir_kernel(t[f"{src}.resample_filter"], src)
        out[f"{dst}.conv.modulation.weight"] = t[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = t[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = t[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = t[f"{src}.bias"]
        noises.append(t[f"{src}.noise_const"])

    def torgb(src: str, dst: str, block: str | None) -> None:
        if block is not None:
            out[f"{dst}.upsample.kernel"] = _fir_kernel(t[f"{block}.resample_filter"], block)
        out[f"{dst}.bias"] = t[f"{src}.bias"].reshape(1, -1, 1, 1)
        out[f"{dst}.conv.weight"] = t[f"{src}.weight"].unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = t[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = t[f"{src}.affine.bias"]

    layer("synthesis.b4.conv1", "conv1", upsample=False)
    torgb("synthesis.b4.torgb", "to_rgb1", None)
    for i, res in enumerate(resolutions[1:]):
        block = f"synthesis.b{res}"
        layer(f"{block}.conv0", f"convs.{2 * i}", upsample=True)
        layer(f"{block}.conv1", f"convs.{2 * i + 1}", upsample=False)
        torgb(f"{block}.torgb", f"to_rgbs.{i}", block)
    for n, noise in enumerate(noises):
        out[f"noises.noise_{n}"] = noise.reshape(1, 1, *noise.shape[-2:])

    if t["synthesis.b4.torgb.weight"].shape[0] != 3:
        raise UnsupportedAdaConfig("only 3-channel (RGB) generators are supported")
    clamps.discard(None)
    if clamps:
        notes.append(
            f"source uses conv_clamp={sorted(clamps)}; rosinality has no clamp, so outputs differ only where "
            "pre-activation values exceed that bound"
        )
    out = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in out.items()}
    build_kwargs = {"size": size, "style_dim": style_dim, "n_mlp": n_mlp, "channel_multiplier": channel_multiplier}
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
    data = safe_load_pickle(source)
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
