"""Operators install weight files with a checked sha256, verify them, and production honours licences.

Every test uses local files (or a real S3-API server on loopback); nothing touches the network.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys

import pytest
import torch

from gpu_worker.models import build
from gpu_worker.weights import install, loading, registry
from gpu_worker.weights.cli import main
from gpu_worker.weights.install import ChecksumMismatch, InstallError, LocalStore, S3Store
from gpu_worker.weights.licences import LicenceRefused, check_licence
from gpu_worker.weights.loading import load_installed_with_extras
from gpu_worker.weights.recipe import recipe_state_dict
from gpu_worker.weights.registry import WeightFile
from tests.s3_server import running_s3_server

PAYLOAD = b"not really weights, but bytes with a known hash\n" * 100
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
RECIPE = [
    {"match": r".*running_var", "init": "uniform", "low": 0.5, "high": 1.5},
    {"match": r".*num_batches_tracked", "init": "constant", "value": 0},
    {"match": r".*", "init": "normal", "std": 0.05},
]


def _entry(name: str, **changes) -> WeightFile:
    base = WeightFile(
        name=name,
        model="hear_net",
        filename=f"{name}.pth",
        upstream_url=None,
        sha256=PAYLOAD_SHA,
        size_bytes=len(PAYLOAD),
        container="plain state_dict",
        licence="Test Licence-NC 1.0",
        commercial_use=False,
        notes="test entry",
        build_kwargs={},
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in ("GASANG_ENV", "GASANG_ALLOW_NONCOMMERCIAL_WEIGHTS", "S3_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GASANG_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("GASANG_MODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(loading, "_VERIFIED", {})


@pytest.fixture
def weights(monkeypatch):
    """Inject registry entries for the test (the real table has no hashes to test against)."""

    def add(entry: WeightFile) -> WeightFile:
        monkeypatch.setitem(registry.WEIGHTS, entry.name, entry)
        return entry

    return add


@pytest.fixture
def payload_file(tmp_path):
    path = tmp_path / "download" / "weights.bin"
    path.parent.mkdir()
    path.write_bytes(PAYLOAD)
    return path


def test_install_copies_a_matching_file_and_records_it(weights, payload_file, tmp_path, capsys):
    weights(_entry("demo"))

    assert main(["install", "demo", "--from", payload_file.as_uri()]) == 0

    models = tmp_path / "models"
    assert (models / "demo.pth").read_bytes() == PAYLOAD
    record = json.loads((models / "installed.json").read_text())["files"]["demo"]
    assert record["sha256"] == PAYLOAD_SHA and record["sha256_origin"] == "registry"
    assert record["size"] == len(PAYLOAD) and record["source"] == payload_file.as_uri()
    assert record["licence"] == "Test Licence-NC 1.0" and record["installed_at"]
    assert sorted(p.name for p in models.iterdir()) == ["demo.pth", "installed.json"]

    capsys.readouterr()
    assert main(["list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("demo "))
    assert "Test Licence-NC 1.0" in row and row.split()[-2:] == ["no", "yes"]  # commercial? installed?


def test_operator_supplies_the_hash_when_the_registry_has_none(weights, payload_file, tmp_path, capsys):
    weights(_entry("unhashed", sha256=None, size_bytes=None))

    assert main(["install", "unhashed", "--from", str(payload_file)]) == 2
    assert "pass --sha256" in capsys.readouterr().err
    assert not (tmp_path / "models" / "unhashed.pth").exists()

    assert main(["install", "unhashed", "--from", str(payload_file), "--sha256", PAYLOAD_SHA.upper()]) == 0
    record = json.loads((tmp_path / "models" / "installed.json").read_text())["files"]["unhashed"]
    assert record["sha256"] == PAYLOAD_SHA and record["sha256_origin"] == "operator"


def test_checksum_mismatch_is_refused_and_nothing_is_installed(weights, payload_file, tmp_path, capsys):
    weights(_entry("demo", sha256="0" * 64))

    assert main(["install", "demo", "--from", str(payload_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "checksum mismatch for demo" in err and "0" * 64 in err and PAYLOAD_SHA in err

    models = tmp_path / "models"
    assert not (models / "demo.pth").exists() and not (models / "installed.json").exists()
    assert not any(p.name.endswith(".partial") for p in models.iterdir())
    with pytest.raises(ChecksumMismatch):
        install.install("demo", payload_file, store=LocalStore(models))


def test_bad_input_exits_2_with_one_line(weights, payload_file, capsys):
    weights(_entry("demo"))
    for argv in (
        ["install", "no-such-weights", "--from", str(payload_file)],
        ["install", "demo", "--from", str(payload_file) + ".missing"],
        ["install", "demo", "--from", str(payload_file), "--sha256", "xyz"],
        ["frobnicate"],
    ):
        assert main(argv) == 2, argv
        assert len(capsys.readouterr().err.strip().splitlines()) == 1, argv


def test_install_never_downloads_unless_the_operator_command_asks(weights):
    weights(_entry("demo"))
    # 192.0.2.0/24 is TEST-NET-1: the refusal happens before any connection attempt.
    with pytest.raises(InstallError, match="refusing to download"):
        install.install("demo", "http://192.0.2.1/weights.pth")


def test_verify_detects_corrupted_and_missing_files(weights, payload_file, tmp_path, capsys):
    weights(_entry("demo"))
    weights(_entry("other", filename="other.pth"))
    install.install("demo", payload_file)
    install.install("other", payload_file)
    assert main(["verify"]) == 0
    assert capsys.readouterr().out.count("OK") == 2

    with open(tmp_path / "models" / "demo.pth", "r+b") as f:
        f.seek(10)
        f.write(b"X")
    (tmp_path / "models" / "other.pth").unlink()

    assert main(["verify"]) == 1
    out = capsys.readouterr().out
    assert "MISMATCH demo" in out and "MISSING  other" in out


def test_production_refuses_noncommercial_weights_unless_the_operator_opts_in():
    weight = registry.get_weight("GPEN-BFR-512")

    with pytest.raises(LicenceRefused, match=r"non-commercial use only") as refused:
        check_licence(weight, production=True, allow_noncommercial=False)
    assert "GASANG_ALLOW_NONCOMMERCIAL_WEIGHTS=1" in str(refused.value)

    check_licence(weight, production=True, allow_noncommercial=True)
    check_licence(weight, production=False, allow_noncommercial=False)
    check_licence(dataclasses.replace(weight, commercial_use=True), production=True, allow_noncommercial=False)


def test_registry_never_claims_commercial_use_or_invents_hashes():
    assert {w.model for w in registry.WEIGHTS.values()} >= {
        "stylegan2", "psp_encoder", "arcface_ir_se50", "gpen", "aei_net", "hear_net", "psgan", "bisenet_parsing",
    }  # fmt: skip
    for w in registry.WEIGHTS.values():
        assert w.commercial_use is False, w.name
        assert w.sha256 is None or len(w.sha256) == 64, w.name
        assert w.licence and w.notes and w.container


def _save_hear_net_checkpoint(path) -> dict[str, torch.Tensor]:
    state = recipe_state_dict(build("hear_net"), RECIPE)
    torch.save(state, path)
    return state


def test_load_installed_verifies_gates_and_loads_strict(weights, tmp_path, monkeypatch):
    ckpt = tmp_path / "HEAR_latest.pth"
    state = _save_hear_net_checkpoint(ckpt)
    sha = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    weights(_entry("hear", sha256=None, size_bytes=None, filename="HEAR_latest.pth"))
    install.install("hear", ckpt, sha256=sha)

    model = loading.load_installed("hear", "cpu")
    assert not model.training
    loaded = model.state_dict()
    assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    with torch.inference_mode():
        out = model(torch.rand(1, 6, 256, 256))  # HEAR-Net input: Y_st and the error map, concatenated
    assert out.shape == (1, 3, 256, 256)

    monkeypatch.setenv("GASANG_ENV", "production")
    with pytest.raises(LicenceRefused, match="Test Licence-NC 1.0"):
        loading.load_installed("hear")
    monkeypatch.setenv("GASANG_ALLOW_NONCOMMERCIAL_WEIGHTS", "1")
    loading.load_installed("hear")

    installed = tmp_path / "models" / "HEAR_latest.pth"
    corrupted = bytearray(installed.read_bytes())
    corrupted[len(corrupted) // 2] ^= 0xFF
    installed.write_bytes(bytes(corrupted))  # same size, different bytes, new mtime
    with pytest.raises(ChecksumMismatch):
        loading.load_installed("hear")


def test_load_installed_unwraps_the_rosinality_container(weights, tmp_path):
    """The stylegan2 path goes through gpu_worker.weights.containers and returns latent_avg as an extra."""
    pytest.importorskip("gpu_worker.weights.containers")
    kwargs = {"size": 8, "style_dim": 64, "n_mlp": 2, "channel_multiplier": 2}
    generator = build("stylegan2", **kwargs)
    latent_avg = torch.randn(64)
    ckpt = tmp_path / "sg2.pt"
    torch.save({"g_ema": generator.state_dict(), "latent_avg": latent_avg}, ckpt)
    sha = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    weights(_entry("sg2", model="stylegan2", filename="sg2.pt", sha256=sha, size_bytes=None, build_kwargs=kwargs))
    install.install("sg2", ckpt)

    model, extras = load_installed_with_extras("sg2")
    assert torch.equal(extras["latent_avg"], latent_avg)
    assert torch.equal(model.state_dict()["style.1.weight"], generator.state_dict()["style.1.weight"])


def test_install_and_verify_into_an_s3_prefix(weights, payload_file, tmp_path, monkeypatch, capsys):
    weights(_entry("demo"))
    with running_s3_server() as server:
        server.client().create_bucket(Bucket="gasang-models")
        monkeypatch.setenv("S3_ENDPOINT_URL", server.endpoint_url)
        monkeypatch.setenv("S3_ACCESS_KEY_ID", server.access_key)
        monkeypatch.setenv("S3_SECRET_ACCESS_KEY", server.secret_key)
        monkeypatch.setenv("GASANG_MODEL_DIR", "s3://gasang-models/weights/v1")

        assert main(["install", "demo", "--from", str(payload_file)]) == 0
        s3 = server.client()
        body = s3.get_object(Bucket="gasang-models", Key="weights/v1/demo.pth")["Body"].read()
        assert body == PAYLOAD
        manifest = json.loads(s3.get_object(Bucket="gasang-models", Key="weights/v1/installed.json")["Body"].read())
        assert manifest["files"]["demo"]["sha256"] == PAYLOAD_SHA

        weights(_entry("bad", sha256="f" * 64))
        assert main(["install", "bad", "--from", str(payload_file)]) == 2
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="gasang-models")["Contents"]}
        assert keys == {"weights/v1/demo.pth", "weights/v1/installed.json"}

        capsys.readouterr()
        assert main(["verify"]) == 0
        s3.put_object(Bucket="gasang-models", Key="weights/v1/demo.pth", Body=PAYLOAD + b"tampered")
        assert main(["verify"]) == 1
        assert "MISMATCH demo" in capsys.readouterr().out

        # Loading from S3 goes through a local cache and the same hash check.
        ckpt = tmp_path / "HEAR_latest.pth"
        _save_hear_net_checkpoint(ckpt)
        sha = hashlib.sha256(ckpt.read_bytes()).hexdigest()
        weights(_entry("hear", sha256=sha, size_bytes=None, filename="HEAR_latest.pth"))
        store = S3Store("s3://gasang-models/weights/v1", cache_dir=tmp_path / "cache")
        install.install("hear", ckpt, store=store)
        model = loading.load_installed("hear", store=store)
        assert not model.training
        (cached,) = (tmp_path / "cache").iterdir()
        cached.write_bytes(b"damaged cache copy")
        loading.load_installed("hear", store=store)  # re-fetched from the bucket and re-verified
        assert hashlib.sha256(cached.read_bytes()).hexdigest() == sha

        s3.delete_object(Bucket="gasang-models", Key="weights/v1/demo.pth")
        capsys.readouterr()
        assert main(["verify"]) == 1
        assert "MISSING  demo" in capsys.readouterr().out


def test_registry_and_cli_import_without_torch():
    code = (
        "import sys, gpu_worker.weights.cli, gpu_worker.weights.install, gpu_worker.weights.registry, "
        "gpu_worker.weights.licences; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
