"""A pickle reader that runs nothing from the file (offline converters only; never imported by the worker).

* ``SafeUnpickler.find_class`` resolves only a short allow-list (tensor/storage rebuild functions,
  replaced by checked versions, ``collections.OrderedDict``, ``set``/``frozenset``);
* names under the caller's ``inert_prefixes`` become inert placeholder objects that only record their
  arguments and state;
* every other name (``os.system``, ``builtins.eval``, ``subprocess.*``, ...) is refused with
  ``UnsafePickleError``.

Tensor storages inside the pickle are nested legacy ``torch.save`` blobs; they are read with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch


class UnsafePickleError(pickle.UnpicklingError):
    """The pickle references a callable or class that is not on the allow-list."""


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

    Names under ``inert_prefixes`` (modules that must never be imported) load as ``InertObject``
    subclasses; all other names raise ``UnsafePickleError`` naming the refused global.
    """

    def __init__(self, file: IO[bytes], inert_prefixes: tuple[str, ...] = ()) -> None:
        super().__init__(file)
        self._inert: dict[tuple[str, str], type[InertObject]] = {}
        self._inert_prefixes = inert_prefixes

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in _ALLOWED:
            return _ALLOWED[key]
        if self._inert_prefixes and module.startswith(self._inert_prefixes):
            if key not in self._inert:
                self._inert[key] = type(name, (InertObject,), {"_module": module, "_name": name})
            return self._inert[key]
        raise UnsafePickleError(f"refused pickle global {module}.{name} (only tensors and plain containers are read)")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("persistent ids are not expected in a weight pickle")


def safe_load_pickle(source: str | Path | IO[bytes], inert_prefixes: tuple[str, ...] = ()) -> Any:
    """Unpickle ``source`` (a path or a binary file) with ``SafeUnpickler``."""
    if isinstance(source, str | Path):
        with open(source, "rb") as f:
            return SafeUnpickler(f, inert_prefixes).load()
    return SafeUnpickler(source, inert_prefixes).load()
