"""Deterministic weights from a conformance recipe (see shared/conformance/README.md).

Used by the conformance tests and by the neural pipeline test, which runs the
real models with reproducible (meaningless) weights when no checkpoint is installed.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import torch


def make_weights(
    shapes: Mapping[str, tuple[Sequence[int], torch.dtype]], rules: Sequence[Mapping[str, Any]]
) -> dict[str, torch.Tensor]:
    """Return ``{key: tensor}`` drawn per key from its own CRC32-seeded generator.

    ``shapes`` maps each state_dict key to ``(shape, dtype)``; the first rule whose
    ``match`` regex fully matches the key (and whose optional ``ndim`` agrees) decides.
    Raises ``LookupError`` when no rule matches a key.
    """
    out: dict[str, torch.Tensor] = {}
    for key, (shape, dtype) in shapes.items():
        shape = list(shape)
        rule = next(
            (r for r in rules if re.fullmatch(r["match"], key) and r.get("ndim", len(shape)) == len(shape)),
            None,
        )
        if rule is None:
            raise LookupError(f"no weight rule matches {key!r}")
        generator = torch.Generator().manual_seed(zlib.crc32(key.encode("utf-8")))
        kind = rule["init"]
        if kind == "normal":
            t = torch.randn(shape, generator=generator, dtype=torch.float64) * float(rule.get("std", 1.0))
            t = t + float(rule.get("mean", 0.0))
        elif kind == "normal_fan_in":
            if rule["fan_in"] == "dims[1:]":
                fan_in = math.prod(shape[1:])
            else:
                fan_in = shape[0] * math.prod(shape[2:])
            t = torch.randn(shape, generator=generator, dtype=torch.float64)
            t = t * (float(rule["gain"]) / math.sqrt(fan_in))
        elif kind == "uniform":
            t = torch.rand(shape, generator=generator, dtype=torch.float64)
            t = t * (rule["high"] - rule["low"]) + rule["low"]
        elif kind == "constant":
            t = torch.full(shape, rule["value"], dtype=dtype)
        elif kind == "literal":
            t = torch.tensor(rule["value"], dtype=dtype)
        else:
            raise ValueError(f"unknown init {kind!r} for {key!r}")
        out[key] = t.to(dtype)
    return out


def recipe_state_dict(model: torch.nn.Module, rules: Sequence[Mapping[str, Any]]) -> dict[str, torch.Tensor]:
    """Recipe weights for every entry of ``model.state_dict()``."""
    shapes = {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}
    return make_weights(shapes, rules)
