"""The one place the web tier touches object storage (Django's default storage: local files or S3), its
backend settings included (``storage_backend``, used by config/settings).

Keys are the same strings the GPU worker uses (``gpu_worker.storage``), so a key written
by one side is readable by the other.
"""

from __future__ import annotations

from pathlib import Path

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


def storage_backend(env, media_root: Path) -> dict:
    """Django's ``STORAGES["default"]`` for ``env`` (config.env.Environment): local files or any S3 API (AWS, MinIO)."""
    if env.storage_backend == "s3":
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env.s3_bucket,
                "endpoint_url": env.s3_endpoint_url or None,
                "access_key": env.s3_access_key_id or None,
                "secret_key": env.s3_secret_access_key or None,
                "region_name": env.s3_region,
                "default_acl": "private",
                "querystring_auth": True,  # every URL handed out is presigned
                "querystring_expire": env.s3_presign_seconds,
                "file_overwrite": False,
                "signature_version": "s3v4",
                "addressing_style": "path",
            },
        }
    if env.storage_backend != "local":
        raise ValueError(f"STORAGE_BACKEND must be 'local' or 's3', not {env.storage_backend!r}")
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": media_root, "base_url": "/media/"},
    }
