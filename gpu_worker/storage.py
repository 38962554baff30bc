"""Object storage for the GPU fleet: S3 (any S3 API) or a local folder. No Django.

Keys are shared with the web tier (Django's default storage): a key written here is
readable there and vice versa. Configuration comes from the same environment variables.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any


class StorageError(RuntimeError):
    """Reading or writing an object failed (missing object, unreachable storage)."""


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"key escapes the storage root: {key!r}")
        return path

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"object {key!r} does not exist") from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see half a file


class S3Storage:
    def __init__(self, bucket: str, client) -> None:
        self.bucket = bucket
        self.client = client

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:  # botocore raises many shapes; callers need one
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        except Exception as exc:
            raise StorageError(f"cannot write {key!r}: {exc}") from exc


def s3_client(**config: Any) -> Any:
    """The GPU side's one boto3 S3 client factory (media here, model weights in ``gpu_worker.weights.stores``):
    ``S3_ENDPOINT_URL``, ``S3_ACCESS_KEY_ID``, ``S3_SECRET_ACCESS_KEY``, ``S3_REGION`` (``us-east-1``); ``config``
    are botocore ``Config`` options."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        aws_access_key_id=os.environ.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        region_name=os.environ.get("S3_REGION") or "us-east-1",
        config=Config(**config),
    )


@cache
def default_storage() -> LocalStorage | S3Storage:
    backend = os.environ.get("STORAGE_BACKEND", "local")
    if backend == "s3":
        client = s3_client(
            signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 5, "mode": "standard"}
        )
        return S3Storage(os.environ["S3_BUCKET"], client)
    var_dir = Path(os.environ.get("GASANG_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
    return LocalStorage(var_dir / "media")
