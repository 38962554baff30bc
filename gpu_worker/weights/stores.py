"""The model directory: a local folder or an S3 prefix holding the weight files and ``installed.json``.

``open_store()`` opens ``GASANG_MODEL_DIR`` (default ``<repo>/var/models``) or ``s3://bucket/prefix``
(boto3, imported only for S3; endpoint ``S3_ENDPOINT_URL``, credentials ``S3_ACCESS_KEY_ID``/``S3_SECRET_ACCESS_KEY``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Protocol

MODEL_DIR_ENV = "GASANG_MODEL_DIR"
MODEL_CACHE_ENV = "GASANG_MODEL_CACHE"
MANIFEST_NAME = "installed.json"
_REPO_ROOT = Path(__file__).resolve().parents[2]


class InstallError(Exception):
    """Bad input to install/load: unknown name, unreadable source, missing hash, not installed."""


class ChecksumMismatch(InstallError):
    """The bytes read do not have the expected sha256 (or size); nothing was installed."""


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
    from gpu_worker.storage import s3_client

    # Integrity is our own sha256 over every byte; botocore's default CRC checks on multipart
    # objects disagree with several S3-compatible servers, so they run only where S3 requires them.
    return s3_client(request_checksum_calculation="when_required", response_checksum_validation="when_required")


def open_store(location: str | Path | None = None) -> ModelStore:
    """The model directory at ``location`` (default: ``GASANG_MODEL_DIR`` or ``<repo>/var/models``)."""
    location = location if location is not None else os.environ.get(MODEL_DIR_ENV) or _REPO_ROOT / "var" / "models"
    if str(location).startswith("s3://"):
        return S3Store(str(location))
    return LocalStore(location)
