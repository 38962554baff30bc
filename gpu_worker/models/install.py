"""Install, verify and load weight files from the model directory (a local folder or an S3 prefix).

The model directory is ``GASANG_MODEL_DIR`` (default ``<repo>/var/models``) or ``s3://bucket/prefix``
(boto3; endpoint ``S3_ENDPOINT_URL``, credentials ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY``).
It holds the weight files under their registry file names plus ``installed.json``::

    {"files": {NAME: {name, model, filename, sha256, sha256_origin, size, installed_at, source,
                      licence, commercial_use, container, build_kwargs}}}

Nothing here downloads at import or run time: ``install`` reads http(s) sources only when the
caller passes ``allow_http=True`` (the operator's ``install`` command does); ``load_installed``
only reads the model directory. torch is imported lazily (``load_installed`` only).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from gpu_worker.models import registry
from gpu_worker.models.licences import check_licence, gate_from_env
from gpu_worker.models.registry import WeightFile

MODEL_DIR_ENV = "GASANG_MODEL_DIR"
MODEL_CACHE_ENV = "GASANG_MODEL_CACHE"
MANIFEST_NAME = "installed.json"
_REPO_ROOT = Path(__file__).resolve().parents[2]
_CHUNK = 1024 * 1024
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


class InstallError(Exception):
    """Bad input to install/load: unknown name, unreadable source, missing hash, not installed."""


class ChecksumMismatch(InstallError):
    """The bytes read do not have the expected sha256 (or size); nothing was installed."""


# ---------------------------------------------------------------------------------------------
# Stores


class ModelStore(Protocol):
    location: str

    def read_manifest(self) -> dict[str, Any]: ...
    def write_manifest(self, manifest: Mapping[str, Any]) -> None: ...
    def put(self, local_path: Path, filename: str) -> None: ...
    def exists(self, filename: str) -> bool: ...
    def open_read(self, filename: str) -> contextlib.AbstractContextManager[IO[bytes]]: ...
    def local_path(self, filename: str, sha256: str) -> Path: ...
    def staging_dir(self) -> Path | None: ...


class LocalStore:
    """A model directory on the local filesystem."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST_NAME
        return json.loads(path.read_text()) if path.exists() else {"files": {}}

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{MANIFEST_NAME}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        os.replace(tmp, self.root / MANIFEST_NAME)

    def put(self, local_path: Path, filename: str) -> None:
        os.replace(local_path, self.root / filename)  # staged in the same directory: atomic

    def exists(self, filename: str) -> bool:
        return (self.root / filename).is_file()

    def open_read(self, filename: str) -> contextlib.AbstractContextManager[IO[bytes]]:
        return open(self.root / filename, "rb")

    def local_path(self, filename: str, sha256: str) -> Path:
        return self.root / filename

    def staging_dir(self) -> Path | None:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root


class S3Store:
    """A model directory under ``s3://bucket/prefix``; files are cached locally by sha256 for loading."""

    def __init__(self, url: str, client: Any = None, cache_dir: str | Path | None = None) -> None:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise InstallError(f"not an s3://bucket/prefix URL: {url!r}")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")
        self.location = url
        self.client = client if client is not None else _s3_client_from_env()
        default_cache = os.environ.get(MODEL_CACHE_ENV) or _REPO_ROOT / "var" / "model-cache"
        self.cache_dir = Path(cache_dir if cache_dir is not None else default_cache)

    def _key(self, filename: str) -> str:
        return f"{self.prefix}/{filename}" if self.prefix else filename

    def read_manifest(self) -> dict[str, Any]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(MANIFEST_NAME))["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return {"files": {}}
        return json.loads(body)

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        body = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
        self.client.put_object(Bucket=self.bucket, Key=self._key(MANIFEST_NAME), Body=body)

    def put(self, local_path: Path, filename: str) -> None:
        self.client.upload_file(str(local_path), self.bucket, self._key(filename))

    def exists(self, filename: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(filename))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    @contextlib.contextmanager
    def open_read(self, filename: str) -> Iterator[IO[bytes]]:
        body = self.client.get_object(Bucket=self.bucket, Key=self._key(filename))["Body"]
        try:
            yield body
        finally:
            body.close()

    def local_path(self, filename: str, sha256: str) -> Path:
        path = self.cache_dir / f"{sha256[:16]}-{filename}"
        if not path.is_file():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.cache_dir, delete=False) as tmp:
                self.client.download_fileobj(self.bucket, self._key(filename), tmp)
            os.replace(tmp.name, path)
        return path

    def staging_dir(self) -> Path | None:
        return None


def _s3_client_from_env() -> Any:
    import boto3
    from botocore.config import Config

    # Integrity is our own sha256 over every byte; botocore's default CRC checks on multipart
    # objects disagree with several S3-compatible servers, so they run only where S3 requires them.
    config = Config(request_checksum_calculation="when_required", response_checksum_validation="when_required")
    return boto3.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        aws_access_key_id=os.environ.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        region_name=os.environ.get("S3_REGION") or "us-east-1",
        config=config,
    )


def open_store(location: str | Path | None = None) -> ModelStore:
    """The model directory at ``location`` (default: ``GASANG_MODEL_DIR`` or ``<repo>/var/models``)."""
    location = location if location is not None else os.environ.get(MODEL_DIR_ENV) or _REPO_ROOT / "var" / "models"
    if str(location).startswith("s3://"):
        return S3Store(str(location))
    return LocalStore(location)


# ---------------------------------------------------------------------------------------------
# Install / verify


@dataclass(frozen=True)
class InstalledFile:
    name: str
    model: str
    filename: str
    sha256: str
    sha256_origin: str  # "registry" or "operator"
    size: int
    installed_at: str
    source: str
    licence: str
    commercial_use: bool
    container: str
    build_kwargs: dict[str, Any]


def hash_stream(stream: IO[bytes], sink: IO[bytes] | None = None) -> tuple[str, int]:
    """sha256 hex and byte count of ``stream``, copying the bytes to ``sink`` when given."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size


@contextlib.contextmanager
def _open_source(source: str, allow_http: bool) -> Iterator[IO[bytes]]:
    parsed = urllib.parse.urlparse(source)
    if parsed.scheme in {"http", "https"}:
        if not allow_http:
            raise InstallError(f"refusing to download {source}: http(s) sources are only read by the install command")
        with urllib.request.urlopen(source, timeout=60) as response:  # the operator's explicit install command
            yield response
        return
    if parsed.scheme == "file":
        path = Path(urllib.request.url2pathname(parsed.path))
    elif "://" in source:
        raise InstallError(f"unsupported source {source!r}: use a local path, file:// URL or http(s) URL")
    else:
        path = Path(source)
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed below; only opening errors mean "cannot read"
    except OSError as exc:
        raise InstallError(f"cannot read {source}: {exc.strerror or exc}") from exc
    with f:
        yield f


def _normalise_sha256(value: str, what: str) -> str:
    value = value.strip().lower()
    if not _SHA256_RE.fullmatch(value):
        raise InstallError(f"{what} is not a 64-digit hex sha256: {value!r}")
    return value


def _lookup(name: str) -> WeightFile:
    try:
        return registry.get_weight(name)
    except KeyError as exc:
        raise InstallError(str(exc.args[0])) from None


def install(
    name: str,
    source: str | Path,
    *,
    sha256: str | None = None,
    store: ModelStore | None = None,
    allow_http: bool = False,
) -> InstalledFile:
    """Copy ``source`` into the model directory as registry entry ``name`` after checking its sha256.

    The expected hash is the registry's; when the registry has none the operator's ``sha256`` is
    required (and recorded). The bytes are hashed while they are staged, and only a matching file
    is moved into place. Raises ``InstallError`` (unknown name, unreadable source, no hash) or
    ``ChecksumMismatch`` (nothing installed).
    """
    weight = _lookup(name)
    store = store if store is not None else open_store()
    given = _normalise_sha256(sha256, "--sha256") if sha256 else None
    if weight.sha256 and given and given != weight.sha256:
        raise ChecksumMismatch(f"--sha256 {given} contradicts the registry's {weight.sha256} for {name}")
    expected = weight.sha256 or given
    if expected is None:
        raise InstallError(f"no sha256 is known for {name}; pass --sha256 with the hash of the file you trust")
    origin = "registry" if weight.sha256 else "operator"

    source = str(source)
    staging = store.staging_dir()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{weight.filename}.", suffix=".partial", dir=staging)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as sink, _open_source(source, allow_http) as stream:
            actual, size = hash_stream(stream, sink)
        if actual != expected:
            raise ChecksumMismatch(
                f"checksum mismatch for {name} from {source}: expected sha256 {expected}, got {actual}; "
                "nothing installed"
            )
        if weight.size_bytes is not None and size != weight.size_bytes:
            raise ChecksumMismatch(f"size mismatch for {name}: expected {weight.size_bytes} bytes, got {size}")
        store.put(tmp, weight.filename)
    finally:
        tmp.unlink(missing_ok=True)

    record = InstalledFile(
        name=name,
        model=weight.model,
        filename=weight.filename,
        sha256=actual,
        sha256_origin=origin,
        size=size,
        installed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
        licence=weight.licence,
        commercial_use=weight.commercial_use,
        container=weight.container,
        build_kwargs=dict(weight.build_kwargs),
    )
    manifest = store.read_manifest()
    manifest.setdefault("files", {})[name] = asdict(record)
    store.write_manifest(manifest)
    return record


@dataclass(frozen=True)
class VerifyResult:
    name: str
    status: str  # "OK", "MISMATCH" or "MISSING"
    detail: str


def verify(store: ModelStore | None = None) -> list[VerifyResult]:
    """Re-hash every installed file against ``installed.json``."""
    store = store if store is not None else open_store()
    results = []
    for name, entry in sorted(store.read_manifest().get("files", {}).items()):
        filename = entry["filename"]
        if not store.exists(filename):
            results.append(VerifyResult(name, "MISSING", f"{filename} not found in {store.location}"))
            continue
        with store.open_read(filename) as stream:
            actual, size = hash_stream(stream)
        if actual != entry["sha256"]:
            results.append(VerifyResult(name, "MISMATCH", f"{filename}: sha256 {actual}, installed {entry['sha256']}"))
        else:
            results.append(VerifyResult(name, "OK", f"{filename} ({size} bytes)"))
    return results


def installed_names(store: ModelStore | None = None) -> set[str]:
    store = store if store is not None else open_store()
    return set(store.read_manifest().get("files", {}))


# ---------------------------------------------------------------------------------------------
# Loading

# (path, sha256) -> (size, mtime_ns) of the file when it last hashed correctly in this process.
_VERIFIED: dict[tuple[str, str], tuple[int, int]] = {}


def _verified_local_file(path: Path, sha256: str) -> Path:
    stat = path.stat()
    key = (str(path.resolve()), sha256)
    if _VERIFIED.get(key) == (stat.st_size, stat.st_mtime_ns):
        return path
    with open(path, "rb") as f:
        actual, _ = hash_stream(f)
    if actual != sha256:
        _VERIFIED.pop(key, None)
        raise ChecksumMismatch(f"{path}: sha256 {actual} does not match the installed {sha256}; re-install it")
    _VERIFIED[key] = (stat.st_size, stat.st_mtime_ns)
    return path


def load_installed_with_extras(
    name: str, device: Any = "cpu", *, store: ModelStore | None = None, env: Mapping[str, str] | None = None
) -> tuple[Any, dict[str, Any]]:
    """Build model ``name`` from its installed weights: ``(nn.Module in eval mode on device, extras)``.

    Order: manifest lookup -> licence gate (``LicenceRefused``) -> sha256 check (cached per process)
    -> ``torch.load(weights_only=True)`` -> unwrap the container -> ``load_state_dict(strict=True)``.
    ``extras`` holds container entries besides the state_dict (e.g. StyleGAN2 ``latent_avg``).
    Raises ``InstallError`` when not installed, ``ChecksumMismatch`` when the file changed, and
    ``NotImplementedError`` when no container loader exists for the model yet.
    """
    store = store if store is not None else open_store()
    entry = store.read_manifest().get("files", {}).get(name)
    if entry is None:
        raise InstallError(f"{name} is not installed in {store.location}; run: models install {name} --from ...")
    weight = registry.WEIGHTS.get(name)
    licence_holder = weight if weight is not None else _ManifestLicence(name, entry["licence"], entry["commercial_use"])
    production, allow = gate_from_env(env)
    check_licence(licence_holder, production=production, allow_noncommercial=allow)

    path = store.local_path(entry["filename"], entry["sha256"])
    try:
        path = _verified_local_file(path, entry["sha256"])
    except ChecksumMismatch:
        if not isinstance(store, S3Store):
            raise
        path.unlink(missing_ok=True)  # a damaged cache copy: fetch it once more from the model directory
        path = _verified_local_file(store.local_path(entry["filename"], entry["sha256"]), entry["sha256"])

    import torch

    from gpu_worker.models import build
    from gpu_worker.models.checkpoint_containers_faceshifter import UNWRAPPERS

    model_name = entry["model"]
    container = torch.load(path, map_location="cpu", weights_only=True)
    model = build(model_name, **entry.get("build_kwargs", {}))
    extras: dict[str, Any] = {}
    if model_name in UNWRAPPERS:
        model.load_state_dict(UNWRAPPERS[model_name](container), strict=True)
    else:
        try:
            from gpu_worker.models.checkpoints import load_checkpoint
        except ImportError:
            raise NotImplementedError(
                f"no checkpoint loader for {model_name!r} yet (gpu_worker.models.checkpoints.load_checkpoint missing)"
            ) from None
        extras = dict(load_checkpoint(model_name, container, model) or {})
    return model.to(device).eval(), extras


def load_installed(name: str, device: Any = "cpu", **kwargs: Any) -> Any:
    """``load_installed_with_extras(...)[0]``: the ready ``nn.Module``."""
    return load_installed_with_extras(name, device, **kwargs)[0]


@dataclass(frozen=True)
class _ManifestLicence:
    name: str
    licence: str
    commercial_use: bool
