"""Django STORAGES for the two backends: local files (embedded mode) or any S3 API (AWS, MinIO)."""

from __future__ import annotations

from pathlib import Path

from config.env import Environment


def default_storage(env: Environment, media_root: Path) -> dict:
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
