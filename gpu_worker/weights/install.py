"""Install and verify weight files in the model directory (``stores``: a local folder or an S3 prefix).

The model directory is ``GASANG_MODEL_DIR`` (default ``<repo>/var/models``) or ``s3://bucket/prefix``
(boto3; endpoint ``S3_ENDPOINT_URL``, credentials ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY``).
It holds the weight files under their registry file names plus ``installed.json``::

    {"files": {NAME: {name, model, filename, sha256, sha256_origin, size, installed_at, source,
                      licence, commercial_use, container, build_kwargs}}}

Nothing here downloads at import or run time: ``install`` reads http(s) sources only when the
caller passes ``allow_http=True`` (the operator's ``install`` command does); loading
(``gpu_worker.weights.loading``) only reads the model directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from gpu_worker.weights import registry
from gpu_worker.weights.registry import WeightFile
from gpu_worker.weights.stores import ChecksumMismatch, InstallError, LocalStore, ModelStore, S3Store, open_store

__all__ = ["ChecksumMismatch", "InstallError", "LocalStore", "S3Store", "install", "installed_names", "open_store",
           "verify"]

_CHUNK = 1024 * 1024
_SHA256_RE = re.compile(r"[0-9a-f]{64}")


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


def _expected_sha256(weight: WeightFile, sha256: str | None) -> tuple[str, str]:
    """(expected sha256, ``registry`` or ``operator``): the registry's hash, else the operator's ``--sha256``."""
    given = _normalise_sha256(sha256, "--sha256") if sha256 else None
    if weight.sha256 and given and given != weight.sha256:
        raise ChecksumMismatch(f"--sha256 {given} contradicts the registry's {weight.sha256} for {weight.name}")
    expected = weight.sha256 or given
    if expected is None:
        raise InstallError(f"no sha256 is known for {weight.name}; pass --sha256 with the hash of the file you trust")
    return expected, "registry" if weight.sha256 else "operator"


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
    expected, origin = _expected_sha256(weight, sha256)

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
