"""The stylegan2-ada pickle converter reads tensors only and maps them onto the rosinality layout.

No real NVIDIA pickle is used: the fixtures below build a 32 px generator with the exact parameter
names and shapes of stylegan2-ada-pytorch ``training/networks.py`` and pickle it the way
``torch_utils.persistence`` does (``_reconstruct_persistent_obj(meta)`` with the module source in
``meta['module_src']``). The fake reconstruct function and module source both write a marker
file, so any attempt to run pickled code would be visible.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
import types

import numpy as np
import pytest
import torch
from torch import nn

from gpu_worker.models import build
from gpu_worker.tools.cli import main
from gpu_worker.tools.convert_stylegan2_ada import (
    UnsafePickleError,
    UnsupportedAdaConfig,
    convert_ada_pickle,
    convert_ada_pickle_to_file,
    safe_load_pickle,
)

SIZE, W_DIM, N_MLP = 32, 512, 8
FIR = torch.tensor([1.0, 3.0, 3.0, 1.0])
FIR_2D = torch.outer(FIR, FIR) / torch.outer(FIR, FIR).sum()


@pytest.fixture
def marker(tmp_path):
    return tmp_path / "pickled-code-ran"


@pytest.fixture
def fake_persistence(monkeypatch, marker):
    """Register a fake ``torch_utils.persistence`` only while pickling, like the real package would be."""
    package = types.ModuleType("torch_utils")
    persistence = types.ModuleType("torch_utils.persistence")

    def _reconstruct_persistent_obj(meta):  # what the real loader would call (it also exec()s module_src)
        marker.write_text("reconstruct ran")
        raise AssertionError("pickled code must never run")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    package.persistence = persistence
    monkeypatch.setitem(sys.modules, "torch_utils", package)
    monkeypatch.setitem(sys.modules, "torch_utils.persistence", persistence)
    return persistence


class _Persistent(nn.Module):
    """Pickles like ``persistence.persistent_class``: the reconstruct call carries class name and state."""

    module_src = ""

    def __reduce__(self):
        fields = list(super().__reduce__())
        fields += [None] * max(3 - len(fields), 0)
        meta = dict(
            type="class", version=6, module_src=self.module_src, class_name=type(self).__name__, state=fields[2]
        )
        return (sys.modules["torch_utils.persistence"]._reconstruct_persistent_obj, (meta,), None)


class FullyConnectedLayer(_Persistent):
    def __init__(self, in_features, out_features, lr_multiplier=1.0, bias_init=0.0, activation="linear"):
        super().__init__()
        self.activation = activation
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_multiplier)
        self.bias = nn.Parameter(torch.randn(out_features) * 0.1 + bias_init)
        self.weight_gain = np.float64(lr_multiplier / np.sqrt(in_features))  # numpy scalar, as upstream
        self.bias_gain = lr_multiplier


class MappingNetwork(_Persistent):
    def __init__(self, c_dim=0):
        super().__init__()
        self.num_layers = N_MLP
        if c_dim:
            self.embed = FullyConnectedLayer(c_dim, W_DIM)
        for i in range(N_MLP):
            setattr(self, f"fc{i}", FullyConnectedLayer(W_DIM, W_DIM, lr_multiplier=0.01, activation="lrelu"))
        self.register_buffer("w_avg", torch.randn(W_DIM))


class SynthesisLayer(_Persistent):
    def __init__(self, cin, cout, resolution, up=1):
        super().__init__()
        self.resolution, self.up, self.activation, self.conv_clamp = resolution, up, "lrelu", 256
        self.register_buffer("resample_filter", FIR_2D.clone())
        self.affine = FullyConnectedLayer(W_DIM, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(cout, cin, 3, 3))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.noise_strength = nn.Parameter(torch.randn([]))
        self.bias = nn.Parameter(torch.randn(cout) * 0.1)


class ToRGBLayer(_Persistent):
    def __init__(self, cin):
        super().__init__()
        self.affine = FullyConnectedLayer(W_DIM, cin, bias_init=1.0)
        self.weight = nn.Parameter(torch.randn(3, cin, 1, 1))
        self.bias = nn.Parameter(torch.randn(3) * 0.1)


class SynthesisBlock(_Persistent):
    def __init__(self, cin, cout, resolution, architecture="skip"):
        super().__init__()
        self.register_buffer("resample_filter", FIR_2D.clone())
        if cin == 0:
            self.const = nn.Parameter(torch.randn(cout, resolution, resolution))
        else:
            self.conv0 = SynthesisLayer(cin, cout, resolution, up=2)
        self.conv1 = SynthesisLayer(cout, cout, resolution)
        self.torgb = ToRGBLayer(cout)
        if cin and architecture == "resnet":
            self.skip = FullyConnectedLayer(cin, cout)


class SynthesisNetwork(_Persistent):
    def __init__(self, architecture="skip"):
        super().__init__()
        for res in (4, 8, 16, 32):
            cin = 0 if res == 4 else 512
            setattr(self, f"b{res}", SynthesisBlock(cin, 512, res, architecture))


class Generator(_Persistent):
    def __init__(self, c_dim=0, architecture="skip"):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.img_resolution, self.img_channels = W_DIM, c_dim, W_DIM, SIZE, 3
        self.synthesis = SynthesisNetwork(architecture)
        self.mapping = MappingNetwork(c_dim)


def _ada_pickle(marker, **generator_kwargs) -> tuple[bytes, Generator]:
    torch.manual_seed(0)
    _Persistent.module_src = f"open({str(marker)!r}, 'w').write('module_src ran')\n"
    g_ema = Generator(**generator_kwargs).eval()
    data = {
        "G": FullyConnectedLayer(4, 4),  # stands in for the training copy; only G_ema is converted
        "D": FullyConnectedLayer(4, 4),
        "G_ema": g_ema,
        "training_set_kwargs": {"class_name": "training.dataset.ImageFolderDataset", "resolution": SIZE},
        "augment_pipe": None,
    }
    return pickle.dumps(data), g_ema


def test_ada_pickle_converts_to_rosinality_layout_and_loads_strict(fake_persistence, marker, monkeypatch, tmp_path):
    blob, g_ema = _ada_pickle(marker)
    source = g_ema.state_dict()
    # The real loader would import torch_utils; ours must not even need it to exist.
    monkeypatch.delitem(sys.modules, "torch_utils.persistence")
    monkeypatch.delitem(sys.modules, "torch_utils")

    pkl = tmp_path / "network-snapshot.pkl"
    pkl.write_bytes(blob)
    out = tmp_path / "converted.pt"
    result = convert_ada_pickle_to_file(pkl, out)
    assert main(["convert-ada", str(pkl), "--out", str(tmp_path / "via-cli.pt")]) == 0

    assert not marker.exists()
    assert "torch_utils" not in sys.modules
    assert result.build_kwargs == {"size": 32, "style_dim": 512, "n_mlp": 8, "channel_multiplier": 2}
    assert any("conv_clamp" in note for note in result.notes)

    container = torch.load(out, map_location="cpu", weights_only=True)
    assert set(container) == {"g_ema", "latent_avg"}
    model = build("stylegan2", size=32, style_dim=512, n_mlp=8, channel_multiplier=2)
    model.load_state_dict(container["g_ema"], strict=True)

    g = container["g_ema"]
    assert torch.equal(container["latent_avg"], source["mapping.w_avg"])
    assert torch.equal(g["style.1.weight"], source["mapping.fc0.weight"])
    assert torch.equal(g["style.8.bias"], source["mapping.fc7.bias"])
    assert torch.equal(g["input.input"][0], source["synthesis.b4.const"])
    assert torch.equal(g["conv1.conv.weight"][0], source["synthesis.b4.conv1.weight"])
    assert torch.equal(g["conv1.conv.modulation.bias"], source["synthesis.b4.conv1.affine.bias"])
    assert torch.equal(g["to_rgb1.bias"].flatten(), source["synthesis.b4.torgb.bias"])
    # b16 is block index 1: conv0 -> convs.2, conv1 -> convs.3, torgb -> to_rgbs.1
    assert torch.equal(g["convs.2.conv.weight"][0], source["synthesis.b16.conv0.weight"])
    assert torch.equal(g["convs.3.activate.bias"], source["synthesis.b16.conv1.bias"])
    assert torch.equal(g["convs.3.noise.weight"], source["synthesis.b16.conv1.noise_strength"].reshape(1))
    assert torch.equal(g["to_rgbs.1.conv.modulation.weight"], source["synthesis.b16.torgb.affine.weight"])
    # noise order: b4.conv1, b8.conv0, b8.conv1, b16.conv0, ...
    assert torch.equal(g["noises.noise_0"][0, 0], source["synthesis.b4.conv1.noise_const"])
    assert torch.equal(g["noises.noise_3"][0, 0], source["synthesis.b16.conv0.noise_const"])
    assert torch.equal(g["noises.noise_6"][0, 0], source["synthesis.b32.conv1.noise_const"])
    # The FIR buffers equal what the rosinality constructor computes for blur_kernel [1, 3, 3, 1].
    built = model.state_dict()
    torch.testing.assert_close(built["convs.0.conv.blur.kernel"], g["convs.0.conv.blur.kernel"])
    torch.testing.assert_close(built["to_rgbs.2.upsample.kernel"], g["to_rgbs.2.upsample.kernel"])

    with torch.inference_mode():
        image, _ = model.eval()([torch.randn(1, 512)], randomize_noise=False)
    assert image.shape == (1, 3, 32, 32) and torch.isfinite(image).all()


class _RunsShell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_pickle_with_malicious_reduce_is_refused_and_never_runs(marker, tmp_path, capsys):
    payload = pickle.dumps({"G_ema": _RunsShell(marker), "training_set_kwargs": None})
    pkl = tmp_path / "evil.pkl"
    pkl.write_bytes(payload)

    assert main(["convert-ada", str(pkl), "--out", str(tmp_path / "out.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "refused pickle global" in err
    assert not (tmp_path / "out.pt").exists()

    with pytest.raises(UnsafePickleError, match=r"refused pickle global (posix|os|nt)\.system"):
        convert_ada_pickle(io.BytesIO(payload))
    with pytest.raises(UnsafePickleError):
        safe_load_pickle(io.BytesIO(payload))
    assert not marker.exists()


@pytest.mark.parametrize(
    "global_name",
    [
        b"builtins\neval\n",
        b"builtins\ngetattr\n",
        b"subprocess\nPopen\n",
        b"torch\nload\n",
        b"copyreg\n_reconstructor\n",
    ],
)
def test_only_allow_listed_globals_resolve(global_name):
    payload = b"c" + global_name + b"."  # protocol-0 GLOBAL opcode, then STOP
    with pytest.raises(UnsafePickleError, match="refused pickle global"):
        safe_load_pickle(io.BytesIO(payload))


def test_persistent_reconstruct_payload_stays_inert(fake_persistence, marker):
    """A persistent object whose module_src would write the marker is only recorded, never exec'd."""
    blob, _ = _ada_pickle(marker)
    data = safe_load_pickle(io.BytesIO(blob))
    meta = data["G_ema"].args[0]
    assert meta["class_name"] == "Generator" and "module_src ran" in meta["module_src"]
    assert not marker.exists()


def test_unsupported_configs_are_refused_not_approximated(fake_persistence, marker):
    blob, _ = _ada_pickle(marker, c_dim=10)
    with pytest.raises(UnsupportedAdaConfig, match="conditional"):
        convert_ada_pickle(io.BytesIO(blob), check=False)
    blob, _ = _ada_pickle(marker, architecture="resnet")
    with pytest.raises(UnsupportedAdaConfig, match="resnet"):
        convert_ada_pickle(io.BytesIO(blob), check=False)
    with pytest.raises(UnsupportedAdaConfig, match="G_ema"):
        convert_ada_pickle(io.BytesIO(pickle.dumps({"weights": [1, 2]})))
    assert not marker.exists()


# --- An independent forward pass with stylegan2-ada semantics (training/networks.py, noise_mode='const') ---


def _lrelu(x: torch.Tensor, bias: torch.Tensor, clamp: float | None = None) -> torch.Tensor:
    x = torch.nn.functional.leaky_relu(x + bias.reshape(1, -1, 1, 1), 0.2) * (2**0.5)
    return x.clamp(-clamp, clamp) if clamp is not None else x


def _fir(x: torch.Tensor, f: torch.Tensor, pad: tuple[int, int, int, int], gain: float) -> torch.Tensor:
    """upfirdn2d with up=down=1 (the upsampling is done by the caller): pad, then depthwise FIR (convolution)."""
    c = x.shape[1]
    x = torch.nn.functional.pad(x, pad)
    weight = (f * gain).flip([0, 1])[None, None].repeat(c, 1, 1, 1)
    return torch.nn.functional.conv2d(x, weight, groups=c)


def _ada_layer(sd, name, x, w, up):
    styles = w @ (sd[f"{name}.affine.weight"] / 512**0.5).t() + sd[f"{name}.affine.bias"]
    weight = sd[f"{name}.weight"][None] * styles[:, None, :, None, None]
    weight = weight * (weight.square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt()
    weight = weight[0]  # batch of one
    if up == 1:
        x = torch.nn.functional.conv2d(x, weight, padding=1)
    else:  # conv2d_resample(up=2, padding=1): transposed conv, then FIR with padding 1 and gain up**2
        x = torch.nn.functional.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
        x = _fir(x, sd[f"{name}.resample_filter"], (1, 1, 1, 1), 4.0)
    x = x + sd[f"{name}.noise_const"] * sd[f"{name}.noise_strength"]
    return _lrelu(x, sd[f"{name}.bias"], clamp=256.0)


def _ada_torgb(sd, name, x, w):
    cin = sd[f"{name}.weight"].shape[1]
    styles = (w @ (sd[f"{name}.affine.weight"] / 512**0.5).t() + sd[f"{name}.affine.bias"]) / cin**0.5
    weight = sd[f"{name}.weight"] * styles[0][None, :, None, None]
    return torch.nn.functional.conv2d(x, weight) + sd[f"{name}.bias"].reshape(1, -1, 1, 1)


def _ada_generator_forward(sd, z: torch.Tensor) -> torch.Tensor:
    x = z * (z.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
    for i in range(N_MLP):
        weight, bias = sd[f"mapping.fc{i}.weight"] * (0.01 / 512**0.5), sd[f"mapping.fc{i}.bias"] * 0.01
        x = torch.nn.functional.leaky_relu(x @ weight.t() + bias, 0.2) * (2**0.5)
    ws = [x] * 8  # num_ws = 2 * log2(32) - 2
    h = _ada_layer(sd, "synthesis.b4.conv1", sd["synthesis.b4.const"][None], ws[0], up=1)
    img = _ada_torgb(sd, "synthesis.b4.torgb", h, ws[1])
    w_idx = 1
    for res in (8, 16, 32):
        block = f"synthesis.b{res}"
        h = _ada_layer(sd, f"{block}.conv0", h, ws[w_idx], up=2)
        h = _ada_layer(sd, f"{block}.conv1", h, ws[w_idx + 1], up=1)
        up = img.new_zeros(img.shape[0], img.shape[1], img.shape[2] * 2, img.shape[3] * 2)
        up[:, :, ::2, ::2] = img  # upsample2d: zero insertion, padding [2, 1, 2, 1], gain 4
        img = _fir(up, sd[f"{block}.resample_filter"], (2, 1, 2, 1), 4.0) + _ada_torgb(
            sd, f"{block}.torgb", h, ws[w_idx + 2]
        )
        w_idx += 2
    return img


def test_converted_generator_matches_an_ada_forward_pass(fake_persistence, marker):
    """Same z, constant noise: the rosinality model with converted weights reproduces the ADA image."""
    blob, g_ema = _ada_pickle(marker)
    source = {k: v.detach().double() for k, v in g_ema.state_dict().items()}
    result = convert_ada_pickle(io.BytesIO(blob))
    model = build("stylegan2", **result.build_kwargs).double().eval()
    model.load_state_dict(result.g_ema, strict=True)

    z = torch.randn(1, 512, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    with torch.inference_mode():
        expected = _ada_generator_forward(source, z)
        image, _ = model([z], randomize_noise=False)
    assert image.shape == expected.shape == (1, 3, 32, 32)
    torch.testing.assert_close(image, expected, rtol=1e-6, atol=1e-6 * expected.abs().max().item())
