"""The one place the web tier touches object storage (Django's default storage: local files or S3).

Keys are the same strings the GPU worker uses (``gpu_worker.storage``), so a key written
by one side is readable by the other.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


def is_s3() -> bool:
    return settings.STORAGES["default"]["BACKEND"].startswith("storages.backends.s3")


def put_bytes(key: str, data: bytes) -> str:
    """Store ``data`` under exactly ``key`` (overwriting), returning the key."""
    if default_storage.exists(key):
        default_storage.delete(key)
    saved = default_storage.save(key, ContentFile(data))
    if saved != key:  # a concurrent writer took the name; keep ours at the requested key
        raise RuntimeError(f"storage wrote {saved!r} instead of {key!r}")
    return key


def get_bytes(key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def copy(source: str, dest: str) -> str:
    """Store a copy of the object at ``source`` under ``dest`` (overwriting), returning ``dest``.

    Read and rewritten through Django's storage, so it works the same on local files and S3; the
    objects copied (face images) are a few hundred KB. Raises the storage's error when ``source`` is gone.
    """
    return put_bytes(dest, get_bytes(source))


def exists(key: str) -> bool:
    return default_storage.exists(key)


def delete(key: str) -> None:
    default_storage.delete(key)


def size(key: str) -> int:
    return default_storage.size(key)


def download_url(key: str, seconds: int | None = None) -> str:
    """A short-lived URL for ``key``: presigned on S3 (≤ S3_PRESIGN_SECONDS), a media URL locally."""
    seconds = min(seconds or settings.S3_PRESIGN_SECONDS, settings.S3_PRESIGN_SECONDS)
    if is_s3():
        return default_storage.url(key, expire=seconds)
    return default_storage.url(key)


def upload_url(key: str, content_type: str, max_bytes: int, seconds: int = 600) -> dict:
    """A presigned POST for a direct browser/API upload to S3. Raises ValueError on local storage."""
    if not is_s3():
        raise ValueError("Direct uploads need S3 storage; use the multipart upload instead.")
    client = default_storage.connection.meta.client
    return client.generate_presigned_post(
        Bucket=default_storage.bucket_name,
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=seconds,
    )
