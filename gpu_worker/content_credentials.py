"""C2PA content credentials: a signed manifest in every image the worker writes (PNG, JPEG, WebP).

The manifest says what made the image: ``c2pa.created`` with ``trainedAlgorithmicMedia`` for a generated face,
``c2pa.opened`` (the product shot) then ``c2pa.edited`` with ``compositeWithTrainedAlgorithmicMedia`` for an edited
shot, the software agent (Gasang and its engine chain), and an ``ai.gasang.job`` assertion with the job id, the
engines and the SHA-256 of the product shot. The product shot is a ``parentOf`` ingredient titled "product shot",
with an instance id derived from its hash: no file name, no thumbnail, none of its own XMP ids.

Operator configuration (environment, no Django):

- ``GASANG_C2PA_CERT``: PEM certificate chain (signing certificate first, then the intermediates).
- ``GASANG_C2PA_KEY``: PEM private key of the signing certificate, or
- ``GASANG_C2PA_SIGN_HOOK``: ``package.module:function`` instead of a key file, for a KMS/HSM: the function gets the
  bytes to sign and returns the signature (for ECDSA: DER or raw ``r || s``). ``GASANG_C2PA_ALG`` names the algorithm
  then (``es256`` default, ``es384``, ``es512``, ``ps256``, ``ed25519``); with a key file it comes from the key.
- ``GASANG_C2PA_TSA_URL``: optional RFC 3161 time-stamp authority.
- ``GASANG_C2PA_OPT_OUT=1``: production without a signer (outputs then carry only the XMP of provenance.py).

Without a signer outside production, ``sign`` returns the image unchanged (its XMP stays). Production
(``GASANG_ENV=production``) refuses to start without one: ``check_signer`` runs at worker start.

The library is c2pa-python (the Content Authenticity Initiative's bindings to c2pa-rs), licensed MIT OR Apache-2.0.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from gpu_worker.spec import GENERATED_KINDS, SOURCE_TYPE_GENERATED

CERT_ENV = "GASANG_C2PA_CERT"
KEY_ENV = "GASANG_C2PA_KEY"
HOOK_ENV = "GASANG_C2PA_SIGN_HOOK"
ALG_ENV = "GASANG_C2PA_ALG"
TSA_ENV = "GASANG_C2PA_TSA_URL"
OPT_OUT_ENV = "GASANG_C2PA_OPT_OUT"
PRODUCTION_ENV = "GASANG_ENV"
JOB_ASSERTION = "ai.gasang.job"
CONSENT_ASSERTION = "ai.gasang.consent"
INGREDIENT_TITLE = "product shot"
MIME_TYPES = ("image/png", "image/jpeg", "image/webp")
ALGORITHMS = ("es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519")
_TRUE = ("1", "true", "yes")
# No thumbnails: the ingredient's would be a copy of the store's product shot; the output's own adds ~30 KB.
_BUILD_SETTINGS = {"builder": {"thumbnail": {"enabled": False}}}


class SignerConfigError(RuntimeError):
    """The C2PA signer is missing in production, or its configuration cannot be used."""


@dataclass(frozen=True)
class SignerConfig:
    cert_chain: str
    alg: str
    key: str | None = None
    hook: Callable[[bytes], bytes] | None = None
    tsa_url: str | None = None


def _alg_of_key(key_pem: bytes) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SignerConfigError(f"{KEY_ENV}: not an unencrypted PEM private key ({exc})") from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in curves:
            raise SignerConfigError(f"{KEY_ENV}: EC curve {key.curve.name} is not one C2PA allows")
        return curves[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise SignerConfigError(f"{KEY_ENV}: unsupported key type {type(key).__name__}")


def _read(path: str, name: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise SignerConfigError(f"{name}={path}: {exc.strerror or exc}") from exc


def _load_hook(ref: str) -> Callable[[bytes], bytes]:
    module_name, _, attr = ref.partition(":")
    try:
        hook = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise SignerConfigError(f"{HOOK_ENV}={ref}: cannot load it ({exc})") from exc
    if not callable(hook):
        raise SignerConfigError(f"{HOOK_ENV}={ref} is not callable")
    return hook


def signer_from_env(env: Mapping[str, str] | None = None) -> SignerConfig | None:
    """The configured signer, or None when none is configured. SignerConfigError when it is half or badly set."""
    env = os.environ if env is None else env
    cert_path, key_path, hook_ref = (env.get(name, "").strip() for name in (CERT_ENV, KEY_ENV, HOOK_ENV))
    if not (cert_path or key_path or hook_ref):
        return None
    if not cert_path:
        raise SignerConfigError(f"{CERT_ENV} (the PEM certificate chain) is required with {KEY_ENV} or {HOOK_ENV}")
    if bool(key_path) == bool(hook_ref):
        raise SignerConfigError(f"set exactly one of {KEY_ENV} (a PEM key file) and {HOOK_ENV} (a signing hook)")
    chain = _read(cert_path, CERT_ENV)
    if b"-----BEGIN CERTIFICATE-----" not in chain:
        raise SignerConfigError(f"{CERT_ENV}={cert_path}: no PEM certificate in it")
    tsa_url = env.get(TSA_ENV, "").strip() or None
    if key_path:
        key = _read(key_path, KEY_ENV)
        return SignerConfig(cert_chain=chain.decode(), alg=_alg_of_key(key), key=key.decode(), tsa_url=tsa_url)
    alg = env.get(ALG_ENV, "es256").strip().lower()
    if alg not in ALGORITHMS:
        raise SignerConfigError(f"{ALG_ENV}={alg}: choose one of {', '.join(ALGORITHMS)}")
    return SignerConfig(cert_chain=chain.decode(), alg=alg, hook=_load_hook(hook_ref), tsa_url=tsa_url)


def check_signer(env: Mapping[str, str] | None = None) -> SignerConfig | None:
    """The start-up gate: the signer, or None where running without one is allowed; SignerConfigError otherwise."""
    env = os.environ if env is None else env
    config = signer_from_env(env)
    production = env.get(PRODUCTION_ENV, "").strip().lower() == "production"
    if config is None and production and env.get(OPT_OUT_ENV, "").strip().lower() not in _TRUE:
        raise SignerConfigError(
            f"refusing to start in production without a C2PA signer: set {CERT_ENV} and {KEY_ENV} (or {HOOK_ENV}), "
            f"or {OPT_OUT_ENV}=1 to write outputs with XMP provenance only"
        )
    if config is not None:
        _probe(config)
    return config


def _probe(config: SignerConfig) -> None:
    """Sign a tiny picture once, so a key that does not match its certificate stops the start, not every job."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    try:
        sign(buffer.getvalue(), "image/png", kind="generate_face", job_id="start-up-check", agent="",
             source_type=SOURCE_TYPE_GENERATED, config=config)
    except _library().C2paError as exc:
        raise SignerConfigError(f"the C2PA signer ({CERT_ENV}) cannot sign: {exc}") from exc


def image_mime(data: bytes | None) -> str | None:
    """The MIME type of PNG, JPEG or WebP bytes (from their signature); None for anything else."""
    if not data:
        return None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _library():
    import c2pa  # c2pa-python, MIT OR Apache-2.0

    return c2pa


def _c2pa_signer(config: SignerConfig):
    c2pa = _library()
    if config.hook is None:
        info = c2pa.C2paSignerInfo(config.alg, config.cert_chain.encode(), config.key.encode(), config.tsa_url)
        return c2pa.Signer.from_info(info)
    alg = getattr(c2pa.C2paSigningAlg, config.alg.upper())
    return c2pa.Signer.from_callback(config.hook, alg, config.cert_chain, config.tsa_url)


def _manifest(*, kind: str, job_id: str, agent: str, source_type: str, mime: str, parent: bool,
              ingredient_sha256: str | None, consents: list[dict] | None = None) -> dict:
    software = {"name": "Gasang", "version": agent}
    if not parent:
        actions = [{"action": "c2pa.created", "digitalSourceType": source_type, "softwareAgent": software}]
    else:
        actions = [
            {"action": "c2pa.opened", "parameters": {"ingredientIds": ["product_shot"]}},
            {"action": "c2pa.edited", "digitalSourceType": source_type, "softwareAgent": software},
        ]
    job = {"job_id": job_id, "kind": kind, "engines": agent.split(" → ") if agent else []}
    if ingredient_sha256:
        job["product_shot_sha256"] = ingredient_sha256
    return {
        "claim_generator_info": [{"name": "Gasang", "version": agent or "unknown"}],
        "title": f"{job_id}.{mime.split('/')[1].replace('jpeg', 'jpg')}",
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": JOB_ASSERTION, "data": job},
            # That the real people whose faces shaped the result consented (who attested: the store or the
            # gallery's curators; when; a hash of the record), never who they are.
            *([{"label": CONSENT_ASSERTION, "data": {"consents": consents}}] if consents else []),
        ],
    }


_UNSET = object()


def sign(
    data: bytes,
    mime: str,
    *,
    kind: str,
    job_id: str,
    agent: str,
    source_type: str,
    ingredient: bytes | None = None,
    ingredient_mime: str | None = None,
    consents: list[dict] | None = None,
    config: SignerConfig | None | object = _UNSET,
) -> bytes:
    """``data`` (a PNG or JPEG) with a signed C2PA manifest embedded; unchanged when no signer is configured.

    ``agent`` is the engine chain (``"swap:1.0 → restore:1.1"``); ``ingredient`` the product shot an edit started
    from (its bytes, hash-bound, never its name), a ``parentOf`` ingredient when ``ingredient_mime`` names a format
    the library reads (else only its SHA-256 is recorded); ``consents`` the job spec's consent attestations
    (gpu_worker.spec: role, attested_by, attested_at, record), recorded as an assertion. ``config`` defaults to the
    environment's signer.
    """
    if mime not in MIME_TYPES:
        raise ValueError(f"content credentials for {mime!r}: only {', '.join(MIME_TYPES)}")
    if config is _UNSET:
        config = signer_from_env()
    if config is None:
        return data
    c2pa = _library()
    edit = ingredient is not None and kind not in GENERATED_KINDS
    digest = hashlib.sha256(ingredient).digest() if edit else None
    parent = edit and ingredient_mime is not None  # an ingredient in a format the library reads
    manifest = _manifest(
        kind=kind, job_id=job_id, agent=agent, source_type=source_type, mime=mime, parent=parent,
        ingredient_sha256=digest.hex() if digest else None, consents=consents,
    )
    context = c2pa.Context.from_dict(_BUILD_SETTINGS, signer=_c2pa_signer(config))
    try:
        with c2pa.Builder(manifest, context=context) as builder:
            if parent:
                ingredient_json = {
                    "title": INGREDIENT_TITLE,
                    "relationship": "parentOf",
                    "label": "product_shot",
                    # Our own id: the library would otherwise copy the shot's XMP instance id (the store's data).
                    "instance_id": f"xmp.iid:{uuid.UUID(bytes=digest[:16])}",
                }
                builder.add_ingredient(ingredient_json, ingredient_mime, io.BytesIO(ingredient))
            out = io.BytesIO()
            builder.sign(mime, io.BytesIO(data), out)
            return out.getvalue()
    finally:
        context.close()


@dataclass(frozen=True)
class Credentials:
    state: str  # "Trusted" (valid and signed by a trust anchor's chain), "Valid" (untrusted signer) or "Invalid"
    manifest: dict
    failures: list[dict]

    @property
    def actions(self) -> list[dict]:
        assertions = self.manifest.get("assertions", [])
        return next((a["data"]["actions"] for a in assertions if a["label"].startswith("c2pa.actions")), [])

    @property
    def consents(self) -> list[dict]:
        found = next((a["data"] for a in self.manifest.get("assertions", []) if a["label"] == CONSENT_ASSERTION), {})
        return list(found.get("consents", []))

    @property
    def job(self) -> dict:
        return next((a["data"] for a in self.manifest.get("assertions", []) if a["label"] == JOB_ASSERTION), {})


def read(data: bytes, mime: str, *, trust_anchors: str | None = None) -> Credentials | None:
    """The active manifest of ``data`` validated (against ``trust_anchors``, PEM, when given); None without one."""
    c2pa = _library()
    settings = {"verify": {"verify_trust": bool(trust_anchors)}}
    if trust_anchors:
        settings["trust"] = {"trust_anchors": trust_anchors}
    with c2pa.Context.from_dict(settings) as context:
        reader = c2pa.Reader.try_create(mime, io.BytesIO(data), None, context)
        if reader is None:
            return None
        with reader:
            store = json.loads(reader.json())
    results = store.get("validation_results", {}).get("activeManifest", {})
    return Credentials(
        state=store.get("validation_state", "Invalid"),
        manifest=store["manifests"][store["active_manifest"]],
        failures=results.get("failure", []),
    )
