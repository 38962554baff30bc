"""Conformance of aei_net, hear_net, psgan and bisenet_parsing with their reference checkpoints.

See shared/conformance/README.md: layout (full config, meta device), numerics (recipe
weights, io.pt inputs, per-output tolerance) and the official checkpoint containers.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from gpu_worker.models import build
from gpu_worker.weights.containers import UNWRAPPERS, plain_state_dict
from tests.gpu_worker.conformance_support import (
    assert_full_layout,
    assert_outputs_match,
    load_io,
    load_io_tensors,
    load_manifest,
)

MODELS = ("aei_net", "hear_net", "psgan", "bisenet_parsing")
Outputs = dict[str, torch.Tensor]


# ---- io.json["call"] as Python ---------------------------------------------------------------


def _run_aei_net(model: torch.nn.Module, x: Outputs) -> Outputs:
    y, attr = model(x["Xt"], x["z_id"])
    assert len(attr) == 8
    out = {"Y": y, **{f"attr{k + 1}": attr[k] for k in range(5)}}
    out["attr6_sub"] = attr[5][:, ::4]
    out["attr7_sub"] = attr[6][:, ::8, ::2, ::2]
    out["attr8_sub"] = attr[7][:, ::8, ::4, ::4]
    return out


def _run_hear_net(model: torch.nn.Module, x: Outputs) -> Outputs:
    return {"y": model(x["x"])}


def _run_psgan(model: torch.nn.Module, x: Outputs) -> Outputs:
    args = (x["c"], x["s"], x["mask_c"].float(), x["mask_s"].float(), x["diff_c"], x["diff_s"])
    gamma, beta = model(*args, ret=True)
    out = model(*args, gamma=gamma, beta=beta)
    out_single = model(*args)
    return {"gamma": gamma, "beta": beta, "out": out, "out_single": out_single}


def _run_bisenet(model: torch.nn.Module, x: Outputs) -> Outputs:
    out, out16, out32 = model(x["x"])
    top2 = out.topk(2, dim=1).values
    return {
        "out": out,
        "out16_sub": out16[:, :, ::4, ::4],
        "out32_sub": out32[:, :, ::4, ::4],
        "parsing": out.argmax(1),
        "parsing_margin": top2[:, 0] - top2[:, 1],
    }


RUNNERS: dict[str, Callable[[torch.nn.Module, Outputs], Outputs]] = {
    "aei_net": _run_aei_net,
    "hear_net": _run_hear_net,
    "psgan": _run_psgan,
    "bisenet_parsing": _run_bisenet,
}


# ---- fixtures --------------------------------------------------------------------------------


# The io_model fixture and the two-thread limit live in tests/gpu_worker/conftest.py.


# ---- layout and numerics ---------------------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_full_layout_matches_manifest(name: str) -> None:
    assert_full_layout(name)


@pytest.mark.parametrize("name", MODELS)
def test_outputs_match_reference(name: str, io_model: Callable[[str], torch.nn.Module]) -> None:
    model = io_model(name)
    assert not model.training
    inputs = load_io_tensors(name)["inputs"]
    with torch.no_grad():
        actual = RUNNERS[name](model, inputs)
    for out_name, spec in load_io(name)["outputs"].items():
        if "same_as" in spec:
            assert torch.equal(actual[out_name], actual[spec["same_as"]]), f"{out_name} != {spec['same_as']}"
    assert_outputs_match(name, actual)


def test_bisenet_parsing_argmax_matches_except_near_ties(io_model: Callable[[str], torch.nn.Module]) -> None:
    name = "bisenet_parsing"
    expected = load_io_tensors(name)
    with torch.no_grad():
        actual = _run_bisenet(io_model(name), expected["inputs"])
    atol = load_io(name)["tolerance"]["per_output"]["parsing_margin"]["atol"]
    near_tie = expected["outputs"]["parsing_margin"] < 2 * atol
    differs = actual["parsing"] != expected["outputs"]["parsing"]
    assert actual["parsing"].dtype == torch.int64
    assert not (differs & ~near_tie).any(), f"{int((differs & ~near_tie).sum())} confident pixels differ"


def test_psgan_attention_ignores_pixels_outside_masks(io_model: Callable[[str], torch.nn.Module]) -> None:
    """Source pixels outside every region mask receive gamma = beta = 0 (sparsified attention)."""
    inputs = load_io_tensors("psgan")["inputs"]
    model = io_model("psgan")
    args = (inputs["c"], inputs["s"], inputs["mask_c"].float(), inputs["mask_s"].float())
    with torch.no_grad():
        gamma, beta = model(*args, inputs["diff_c"], inputs["diff_s"], ret=True)
    outside = torch.nn.functional.interpolate(args[2], size=(64, 64)).sum(0, keepdim=True) == 0
    assert outside.any() and (~outside).any()
    assert (gamma[outside] == 0).all() and (beta[outside] == 0).all()
    assert gamma[~outside].abs().sum() > 0


# ---- checkpoint containers ---------------------------------------------------------------------


def _build_on_meta(name: str) -> torch.nn.Module:
    with torch.device("meta"):
        return build(name, **load_manifest(name)["build_kwargs"])


@pytest.mark.parametrize("name", MODELS)
def test_official_container_loads_strict(name: str, io_model, tmp_path) -> None:
    """A file saved like the authors' ``torch.save(model.state_dict(), path)`` loads strictly."""
    assert set(UNWRAPPERS) >= set(MODELS)
    manifest = load_manifest(name)
    assert "plain state_dict" in manifest["checkpoint_container"]["structure"]
    reference = io_model(name).state_dict()
    path = tmp_path / f"{name}.pth"
    torch.save(reference, path)
    del reference
    loaded = UNWRAPPERS[name](torch.load(path, map_location="cpu", weights_only=True))
    model = _build_on_meta(name)
    model.load_state_dict(loaded, strict=True, assign=True)
    for key, value in model.state_dict().items():
        assert value.device.type == "cpu", key
    assert sum(p.numel() for p in model.parameters()) == manifest["params"]
    probe = next(iter(io_model(name).state_dict().items()))
    assert torch.equal(model.state_dict()[probe[0]], probe[1])


def test_data_parallel_prefix_is_stripped(io_model, tmp_path) -> None:
    state = io_model("hear_net").state_dict()
    path = tmp_path / "hear_dp.pth"
    torch.save({f"module.{k}": v for k, v in state.items()}, path)
    loaded = UNWRAPPERS["hear_net"](torch.load(path, map_location="cpu", weights_only=True))
    assert list(loaded) == list(state)
    _build_on_meta("hear_net").load_state_dict(loaded, strict=True, assign=True)


@pytest.mark.parametrize(
    "obj",
    [
        [torch.zeros(1)],
        {},
        {"state_dict": {"w": torch.zeros(1)}, "epoch": 3},
    ],
    ids=["list", "empty", "training-state"],
)
def test_unwrapper_rejects_non_state_dicts(obj) -> None:
    with pytest.raises(TypeError):
        plain_state_dict(obj)
