"""Shared machinery for the model conformance tests (see shared/conformance/README.md).

Each model's test supplies only the glue that turns ``io.json["call"]`` into Python:
a function ``run(model, inputs) -> {output_name: tensor}``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import torch

from gpu_worker.models import build
from gpu_worker.weights.recipe import make_weights, recipe_state_dict
from gpu_worker.weights.sources import LoadedModel, WeightSource

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE_DIR = Path(os.environ.get("GASANG_SHARED_DIR", REPO_ROOT.parent / "shared")) / "conformance"


def fixture_dir(name: str) -> Path:
    path = CONFORMANCE_DIR / name
    if not (path / "io.json").exists():
        pytest.skip(f"conformance fixtures not found at {path} (../shared is absent)")
    return path


def load_manifest(name: str) -> dict[str, Any]:
    return json.loads((fixture_dir(name) / "manifest.json").read_text())


def load_io(name: str) -> dict[str, Any]:
    return json.loads((fixture_dir(name) / "io.json").read_text())


def load_io_tensors(name: str) -> dict[str, dict[str, torch.Tensor]]:
    return torch.load(fixture_dir(name) / "io.pt", map_location="cpu", weights_only=True)


def assert_full_layout(name: str) -> None:
    """The full official config has exactly the manifest's state_dict entries and parameter count."""
    manifest = load_manifest(name)
    with torch.device("meta"):
        model = build(name, **manifest["build_kwargs"])
    actual = {k: (list(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in model.state_dict().items()}
    expected = {k: (list(shape), dtype) for k, shape, dtype in manifest["state_dict"]}
    missing = sorted(set(expected) - set(actual))
    unexpected = sorted(set(actual) - set(expected))
    assert not missing and not unexpected, f"missing {missing[:10]}..., unexpected {unexpected[:10]}..."
    wrong = {k: (actual[k], expected[k]) for k in expected if actual[k] != expected[k]}
    assert not wrong, f"shape/dtype mismatches: {list(wrong.items())[:10]}"
    params = sum(p.numel() for p in model.parameters())
    assert params == manifest["params"]


def build_io_model(name: str) -> torch.nn.Module:
    """Build the IO config, load recipe weights with strict=True after checking their checksums."""
    io = load_io(name)
    model = build(name, **io["build_kwargs"])
    shapes = {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}
    weights = make_weights(shapes, io["weights"]["rules"])
    checksums = io["weights"]["checksums"]["values"]
    assert set(checksums) == set(weights), "IO model state_dict keys differ from the fixture's"
    for key, (total, abs_total) in checksums.items():
        t = weights[key].double()
        assert math.isclose(t.sum().item(), total, rel_tol=1e-6, abs_tol=1e-6), key
        assert math.isclose(t.abs().sum().item(), abs_total, rel_tol=1e-6, abs_tol=1e-6), key
    model.load_state_dict(weights, strict=True)
    return model.eval()


def assert_outputs_match(name: str, actual: dict[str, torch.Tensor]) -> None:
    """Compare every stored output with ``actual`` using the fixture's per-output tolerance."""
    io = load_io(name)
    expected = load_io_tensors(name)["outputs"]
    tolerance = io["tolerance"]
    missing = sorted(set(expected) - set(actual))
    assert not missing, f"outputs not produced: {missing}"
    for out_name, want in expected.items():
        got = actual[out_name].detach().cpu()
        assert tuple(got.shape) == tuple(want.shape), f"{out_name}: shape {tuple(got.shape)} != {tuple(want.shape)}"
        if not want.is_floating_point():
            continue  # integer outputs (argmax maps) are compared by the model's own test with their margin
        tol = tolerance["per_output"].get(out_name, tolerance)
        diff = (got.float() - want.float()).abs().max().item()
        assert torch.allclose(got.float(), want.float(), atol=tol["atol"], rtol=tol["rtol"]), (
            f"{out_name}: max abs diff {diff:.3g} exceeds atol {tol['atol']}"
        )


# ---- recipe weights: a weight source for the neural engine tests and the GPU benchmark -------------------


def shared_dir() -> Path:
    """``GASANG_SHARED_DIR`` or the ``shared`` folder next to the repository."""
    return CONFORMANCE_DIR.parent


def conformance_io(name: str) -> dict[str, Any]:
    """The conformance ``io.json`` of ``name`` (recipe rules and small build kwargs). FileNotFoundError if absent."""
    path = CONFORMANCE_DIR / name / "io.json"
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
        return (CONFORMANCE_DIR / name / "io.json").exists()

    def cache_tag(self) -> str:
        return "recipe:" + json.dumps(self.overrides, sort_keys=True)

    def build_kwargs(self, name: str) -> dict[str, Any]:
        return {**conformance_io(name)["build_kwargs"], **self.overrides.get(name, {})}

    def load(self, name: str, device: str) -> LoadedModel:
        if not self.available(name):
            raise KeyError(f"recipe weights for {name!r} are not offered by this source")
        rules = conformance_io(name)["weights"]["rules"]
        module = build(name, **self.build_kwargs(name))
        module.load_state_dict(recipe_state_dict(module, rules), strict=True)
        module = module.to(device).eval().requires_grad_(False)
        return LoadedModel(name, module, f"recipe:{name}", device, {})
