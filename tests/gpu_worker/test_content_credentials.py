"""C2PA content credentials on the worker's outputs: signed, validated against the operator's trust list, and
broken by a pixel edit or a re-signing; production refuses to start without a signer.

The certificates are throwaway ones made here: a CA (the trust anchor the reader is given) and its P-256 leaf."""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from gpu_worker import content_credentials, pipelines
from gpu_worker.provenance import read_xmp
from gpu_worker.spec import SOURCE_TYPE_COMPOSITE, SOURCE_TYPE_GENERATED
from tests.c2pa_pki import edit_pixels, make_pki
from tests.generation.photos import astronaut, png_bytes

ROOT = Path(__file__).resolve().parents[2]
AGENT = "swap:1.0 → restore:1.1"
SIGNER_ENV = (content_credentials.CERT_ENV, content_credentials.KEY_ENV, content_credentials.HOOK_ENV,
              content_credentials.OPT_OUT_ENV, content_credentials.PRODUCTION_ENV)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict:
    return make_pki(tmp_path_factory.mktemp("c2pa"), "operator")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory) -> dict:
    return make_pki(tmp_path_factory.mktemp("c2pa-other"), "stranger")


@pytest.fixture()
def signer_env(pki, monkeypatch) -> dict:
    for name in SIGNER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(content_credentials.CERT_ENV, pki["cert"])
    monkeypatch.setenv(content_credentials.KEY_ENV, pki["key"])
    return pki


def config_of(pki: dict) -> content_credentials.SignerConfig:
    return content_credentials.signer_from_env({content_credentials.CERT_ENV: pki["cert"],
                                                content_credentials.KEY_ENV: pki["key"]})


def encode(image: np.ndarray, mime: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG" if mime == "image/png" else "JPEG", **kwargs)
    return buffer.getvalue()


def picture(size: int = 256) -> np.ndarray:
    return np.asarray(Image.fromarray(astronaut()).convert("RGB").resize((size, size)))


def sign_edit(pki: dict, mime: str, **kwargs) -> tuple[bytes, bytes]:
    shot = encode(picture(128), "image/jpeg")
    signed = content_credentials.sign(
        encode(picture(), mime), mime, kind="swap", job_id="job-7f3a", agent=AGENT,
        source_type=SOURCE_TYPE_COMPOSITE, ingredient=shot, ingredient_mime="image/jpeg",
        config=config_of(pki), **kwargs,
    )
    return signed, shot


@pytest.mark.parametrize("mime", ["image/png", "image/jpeg"])
def test_an_edited_shot_validates_against_the_operator_certificate(pki, mime):
    signed, shot = sign_edit(pki, mime)

    credentials = content_credentials.read(signed, mime, trust_anchors=pki["ca"])

    assert credentials.state == "Trusted", credentials.failures
    opened, edited = credentials.actions
    assert opened["action"] == "c2pa.opened"
    assert edited["action"] == "c2pa.edited"
    assert edited["digitalSourceType"] == SOURCE_TYPE_COMPOSITE
    assert edited["softwareAgent"] == {"name": "Gasang", "version": AGENT}
    assert credentials.job["job_id"] == "job-7f3a"
    assert credentials.job["engines"] == ["swap:1.0", "restore:1.1"]
    assert credentials.job["product_shot_sha256"] == hashlib.sha256(shot).hexdigest()
    (ingredient,) = credentials.manifest["ingredients"]
    assert ingredient["title"] == "product shot" and ingredient["relationship"] == "parentOf"
    assert credentials.manifest["signature_info"]["common_name"] == "operator signer"
    # Still a picture any viewer opens, the same one.
    assert Image.open(io.BytesIO(signed)).size == (256, 256)


@pytest.mark.parametrize("kind", ["generate_face", "second_generation"])
def test_a_generated_face_is_created_by_trained_algorithmic_media(pki, kind):
    signed = content_credentials.sign(
        encode(picture(), "image/png"), "image/png", kind=kind, job_id="job-gen", agent="generate:2.0",
        source_type=SOURCE_TYPE_GENERATED, config=config_of(pki),
    )

    credentials = content_credentials.read(signed, "image/png", trust_anchors=pki["ca"])

    assert credentials.state == "Trusted", credentials.failures
    (created,) = credentials.actions
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"] == SOURCE_TYPE_GENERATED
    assert created["softwareAgent"]["version"] == "generate:2.0"
    assert not credentials.manifest.get("ingredients")
    assert credentials.job["job_id"] == "job-gen"


@pytest.mark.parametrize("mime", ["image/png", "image/jpeg"])
def test_a_pixel_edit_fails_validation(pki, mime):
    signed, _shot = sign_edit(pki, mime)
    tampered = edit_pixels(signed, mime)
    assert tampered != signed and len(tampered) == len(signed)

    credentials = content_credentials.read(tampered, mime, trust_anchors=pki["ca"])

    assert credentials.state == "Invalid"
    assert "assertion.dataHash.mismatch" in {f["code"] for f in credentials.failures}


@pytest.mark.parametrize("mime", ["image/png", "image/jpeg"])
def test_a_copy_re_signed_with_another_certificate_is_not_trusted(pki, stranger, mime):
    signed, shot = sign_edit(pki, mime)
    forged = content_credentials.sign(
        signed, mime, kind="swap", job_id="job-7f3a", agent=AGENT, source_type=SOURCE_TYPE_COMPOSITE,
        ingredient=shot, ingredient_mime="image/jpeg", config=config_of(stranger),
    )

    credentials = content_credentials.read(forged, mime, trust_anchors=pki["ca"])

    assert credentials.state != "Trusted"
    assert "signingCredential.untrusted" in {f["code"] for f in credentials.failures}


def test_the_ingredient_carries_nothing_of_the_stores_file(pki):
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/" xmpMM:DocumentID="xmp.did:store-secret-doc"'
        b' xmpMM:InstanceID="xmp.iid:store-secret-instance"><dc:title>spring-dress-SKU4471-final.jpg</dc:title>'
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    shot = encode(picture(128), "image/jpeg", xmp=xmp)
    signed = content_credentials.sign(
        encode(picture(), "image/png"), "image/png", kind="pipeline", job_id="job-1", agent=AGENT,
        source_type=SOURCE_TYPE_COMPOSITE, ingredient=shot, ingredient_mime="image/jpeg", config=config_of(pki),
    )

    for secret in (b"store-secret", b"SKU4471", shot[len(shot) // 2:len(shot) // 2 + 256]):
        assert secret not in signed
    assert len(signed) < len(encode(picture(), "image/png")) + 20_000  # no copy or thumbnail of the shot


@pytest.mark.parametrize("output_format, mime", [("png", "image/png"), ("jpeg", "image/jpeg")])
def test_a_job_output_carries_a_valid_manifest_and_its_xmp(signer_env, output_format, mime):
    shot = png_bytes(astronaut())
    spec = {
        "job_id": "0b7e", "store_id": 1, "kind": "restore", "inputs": {"target": "uploads/store-1/look.png"},
        "params": {"strength": 0.5}, "output_prefix": "out/", "attempt_limit": 3, "label": {"visible": False},
        "output": {"format": output_format},
    }

    result = pipelines.run(spec, {"uploads/store-1/look.png": shot}.__getitem__, lambda pct: None)
    data = result.data

    assert result.mime == mime and content_credentials.image_mime(data) == mime
    credentials = content_credentials.read(data, mime, trust_anchors=signer_env["ca"])
    assert credentials.state == "Trusted", credentials.failures
    assert credentials.job["job_id"] == "0b7e"
    assert credentials.job["product_shot_sha256"] == hashlib.sha256(shot).hexdigest()
    edited = credentials.actions[-1]
    assert edited["action"] == "c2pa.edited" and edited["digitalSourceType"] == SOURCE_TYPE_COMPOSITE
    assert edited["softwareAgent"]["name"] == "Gasang"
    assert edited["softwareAgent"]["version"].startswith("restore:")
    assert b"look.png" not in data and b"store-1" not in data
    with Image.open(io.BytesIO(data)) as decoded:
        xmp = read_xmp(data) if mime == "image/png" else decoded.info["xmp"].decode()
    assert "0b7e" in xmp  # the XMP of provenance.py stays


def test_without_a_signer_outside_production_the_output_keeps_only_its_xmp(monkeypatch):
    for name in SIGNER_ENV:
        monkeypatch.delenv(name, raising=False)
    data = encode(picture(), "image/png")

    assert content_credentials.check_signer() is None
    out = content_credentials.sign(data, "image/png", kind="restore", job_id="j", agent="restore:1",
                                   source_type=SOURCE_TYPE_COMPOSITE)
    assert out == data
    assert content_credentials.read(out, "image/png") is None


def kms_sign(data: bytes) -> bytes:
    """A signing hook as a KMS would serve it: the key never leaves it (here: the operator key of the test)."""
    return _KMS_KEY[0].sign(data, ec.ECDSA(hashes.SHA256()))


_KMS_KEY: list = []


def test_a_signing_hook_stands_in_for_the_key_file(pki):
    _KMS_KEY[:] = [pki["private_key"]]
    config = content_credentials.signer_from_env({
        content_credentials.CERT_ENV: pki["cert"],
        content_credentials.HOOK_ENV: f"{__name__}:kms_sign",
    })
    signed = content_credentials.sign(
        encode(picture(), "image/jpeg"), "image/jpeg", kind="generate_face", job_id="job-kms", agent="generate:2",
        source_type=SOURCE_TYPE_GENERATED, config=config,
    )

    credentials = content_credentials.read(signed, "image/jpeg", trust_anchors=pki["ca"])
    assert credentials.state == "Trusted", credentials.failures
    assert credentials.job["job_id"] == "job-kms"


def test_a_half_configured_signer_is_refused(pki, tmp_path):
    with pytest.raises(content_credentials.SignerConfigError, match="GASANG_C2PA_CERT"):
        content_credentials.check_signer({content_credentials.KEY_ENV: pki["key"]})
    with pytest.raises(content_credentials.SignerConfigError, match="no such file|No such file"):
        content_credentials.check_signer({content_credentials.CERT_ENV: str(tmp_path / "missing.pem"),
                                          content_credentials.KEY_ENV: pki["key"]})


def test_a_key_that_does_not_match_its_certificate_stops_the_start(pki, stranger):
    with pytest.raises(content_credentials.SignerConfigError, match="cannot sign"):
        content_credentials.check_signer({content_credentials.CERT_ENV: pki["cert"],
                                          content_credentials.KEY_ENV: stranger["key"]})


def _start_worker(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SIGNER_ENV}
    return subprocess.run(
        [str(Path(sys.executable).with_name("celery")), "-A", "gpu_worker.app", "worker", "-Q", "gpu",
         "--pool", "solo", "--concurrency", "1"],
        cwd=ROOT, env={**clean, "GASANG_VAR_DIR": str(tmp_path), "CELERY_BROKER_URL": "filesystem://", **env},
        capture_output=True, text=True, timeout=120,
    )


def test_production_without_a_signer_refuses_to_start(tmp_path):
    result = _start_worker(tmp_path, GASANG_ENV="production")

    assert result.returncode != 0
    assert "refusing to start in production without a C2PA signer" in result.stderr
    assert "GASANG_C2PA_OPT_OUT=1" in result.stderr


def test_production_starts_with_a_signer_or_the_operators_opt_out(pki):
    production = {content_credentials.PRODUCTION_ENV: "production"}
    assert content_credentials.check_signer({**production, content_credentials.OPT_OUT_ENV: "1"}) is None
    config = content_credentials.check_signer({**production, content_credentials.CERT_ENV: pki["cert"],
                                               content_credentials.KEY_ENV: pki["key"]})
    assert config.alg == "es256"


@pytest.mark.parametrize("suffix, mime", [(".png", "image/png"), (".jpg", "image/jpeg"), (".webp", "image/webp")])
def test_the_command_lines_output_is_signed_too(signer_env, tmp_path, capsys, suffix, mime):
    from gpu_worker.cli import main

    shot = tmp_path / "spring-look.png"
    shot.write_bytes(png_bytes(astronaut()))
    out = tmp_path / f"restored{suffix}"

    assert main(["restore", "--image", str(shot), "--strength", "0.5", "--out", str(out)]) == 0

    data = out.read_bytes()
    credentials = content_credentials.read(data, mime, trust_anchors=signer_env["ca"])
    assert credentials.state == "Trusted", credentials.failures
    assert credentials.job["job_id"].startswith("cli-")
    assert credentials.job["product_shot_sha256"] == hashlib.sha256(shot.read_bytes()).hexdigest()
    edited = credentials.actions[-1]
    assert edited["action"] == "c2pa.edited" and edited["softwareAgent"]["version"].startswith("restore:")
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == Image.open(shot).size
        xmp = read_xmp(data) if mime == "image/png" else image.info["xmp"].decode()
    assert credentials.job["job_id"] in xmp  # the XMP of provenance.py too
    assert b"spring-look" not in data


def test_the_development_signer_is_made_once_and_made_again_before_it_expires(tmp_path, time_machine):
    from gpu_worker.tools.dev_certificate import development_signer

    time_machine.move_to(datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC), tick=False)
    first = development_signer(tmp_path)
    made = Path(first["cert"]).read_bytes()
    assert development_signer(tmp_path) == first and Path(first["cert"]).read_bytes() == made  # kept
    time_machine.move_to(datetime.datetime(2027, 11, 30, 12, 0, tzinfo=datetime.UTC), tick=False)  # 2 days left
    again = development_signer(tmp_path)
    assert Path(again["cert"]).read_bytes() != made
