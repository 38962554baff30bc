"""Every environment input of the web tier, read in one place.

Settings modules import ``ENV`` and never touch ``os.environ`` themselves, so the
table in README.md ("Configuration") is the complete list of knobs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _rate(name: str, default: str) -> str | None:
    """A rate such as ``600/min`` (per ``s``/``min``/``hour``/``day``); ``off`` turns that limit off."""
    raw = os.environ.get(name, "").strip() or default
    if raw.lower() in {"off", "none"}:
        return None
    if not re.fullmatch(r"\d+/(s|sec|m|min|h|hour|d|day)", raw):
        raise ValueError(f"{name}={raw!r}: expected a rate like 600/min (per s, min, hour or day) or off")
    return raw


@dataclass(frozen=True)
class Environment:
    var_dir: Path = field(default_factory=lambda: Path(os.environ.get("GASANG_VAR_DIR", BASE_DIR / "var")))
    c2pa_trust_anchors: str = field(default_factory=lambda: os.environ.get("GASANG_C2PA_TRUST", ""))
    demo_photos_dir: Path = field(default_factory=lambda: Path(
        os.environ.get("GASANG_DEMO_PHOTOS", BASE_DIR.parent / "shared" / "testdata")))
    secret_key: str = field(default_factory=lambda: os.environ.get("SECRET_KEY", ""))
    debug: bool = field(default_factory=lambda: _bool("DEBUG", False))
    allowed_hosts: list[str] = field(default_factory=lambda: _list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"))
    csrf_trusted_origins: list[str] = field(default_factory=lambda: _list("CSRF_TRUSTED_ORIGINS", ""))
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL", ""))
    celery_broker_url: str = field(default_factory=lambda: os.environ.get("CELERY_BROKER_URL", ""))
    celery_key_prefix: str = field(default_factory=lambda: os.environ.get("CELERY_KEY_PREFIX", ""))
    celery_visibility_timeout: int = field(default_factory=lambda: _int("CELERY_VISIBILITY_TIMEOUT", 960))
    celery_always_eager: bool = field(default_factory=lambda: _bool("CELERY_TASK_ALWAYS_EAGER", False))
    storage_backend: str = field(default_factory=lambda: os.environ.get("STORAGE_BACKEND", "local"))
    s3_endpoint_url: str = field(default_factory=lambda: os.environ.get("S3_ENDPOINT_URL", ""))
    s3_bucket: str = field(default_factory=lambda: os.environ.get("S3_BUCKET", ""))
    s3_access_key_id: str = field(default_factory=lambda: os.environ.get("S3_ACCESS_KEY_ID", ""))
    s3_secret_access_key: str = field(default_factory=lambda: os.environ.get("S3_SECRET_ACCESS_KEY", ""))
    s3_region: str = field(default_factory=lambda: os.environ.get("S3_REGION", "us-east-1"))
    s3_presign_seconds: int = field(default_factory=lambda: _int("S3_PRESIGN_SECONDS", 300))
    stripe_secret_key: str = field(default_factory=lambda: os.environ.get("STRIPE_SECRET_KEY", ""))
    stripe_webhook_secret: str = field(default_factory=lambda: os.environ.get("STRIPE_WEBHOOK_SECRET", ""))
    stripe_api_version: str = field(default_factory=lambda: os.environ.get("STRIPE_API_VERSION", "2025-06-30.basil"))
    stripe_api_base: str = field(default_factory=lambda: os.environ.get("STRIPE_API_BASE", ""))
    stripe_meter_event_name: str = field(
        default_factory=lambda: os.environ.get("STRIPE_METER_EVENT_NAME", "gasang_credits")
    )
    billing_grace_days: int = field(default_factory=lambda: _int("BILLING_GRACE_DAYS", 3))
    job_lease_seconds: int = field(default_factory=lambda: _int("JOB_LEASE_SECONDS", 120))
    email_backend: str = field(default_factory=lambda: os.environ.get("EMAIL_BACKEND", ""))
    email_host: str = field(default_factory=lambda: os.environ.get("EMAIL_HOST", ""))
    email_port: int = field(default_factory=lambda: _int("EMAIL_PORT", 587))
    email_host_user: str = field(default_factory=lambda: os.environ.get("EMAIL_HOST_USER", ""))
    email_host_password: str = field(default_factory=lambda: os.environ.get("EMAIL_HOST_PASSWORD", ""))
    default_from_email: str = field(
        default_factory=lambda: os.environ.get("DEFAULT_FROM_EMAIL", "Gasang <noreply@gasang.local>")
    )
    log_level: str = field(default_factory=lambda: os.environ.get("LOG_LEVEL", "INFO"))
    # Outgoing webhooks (README "Webhooks"): the key that encrypts signing secrets at rest (comma-separated to
    # rotate: the first encrypts), per-delivery timeouts (seconds), per-store caps.
    webhook_secret_key: str = field(default_factory=lambda: os.environ.get("WEBHOOK_SECRET_KEY", ""))
    webhook_connect_timeout: int = field(default_factory=lambda: _int("WEBHOOK_CONNECT_TIMEOUT", 3))
    webhook_read_timeout: int = field(default_factory=lambda: _int("WEBHOOK_READ_TIMEOUT", 5))
    webhook_max_endpoints: int = field(default_factory=lambda: _int("WEBHOOK_MAX_ENDPOINTS", 10))
    webhook_max_in_flight: int = field(default_factory=lambda: _int("WEBHOOK_MAX_IN_FLIGHT", 4))
    # Dashboard/admin login throttling (accounts/login_throttle.py): failures per account and per client IP
    # within LOGIN_LOCKOUT_SECONDS; counters live in the shared cache (REDIS_URL).
    login_max_failures_per_account: int = field(default_factory=lambda: _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5))
    login_max_failures_per_ip: int = field(default_factory=lambda: _int("LOGIN_MAX_FAILURES_PER_IP", 20))
    login_lockout_seconds: int = field(default_factory=lambda: _int("LOGIN_LOCKOUT_SECONDS", 900))
    # Shared cache (rate-limit counters, Prefer: wait slots); empty: a per-process memory cache.
    redis_url: str = field(default_factory=lambda: os.environ.get("REDIS_URL", ""))
    # API rate limits (README "API"): per token (or dashboard user), per store, job/batch creation per store,
    # failed authentications per client IP. API_NUM_PROXIES: proxies in front of gunicorn that append to
    # X-Forwarded-For (0: the client address is REMOTE_ADDR).
    api_rate_token: str | None = field(default_factory=lambda: _rate("API_RATE_TOKEN", "1200/min"))
    api_rate_store: str | None = field(default_factory=lambda: _rate("API_RATE_STORE", "3000/min"))
    api_rate_job_create: str | None = field(default_factory=lambda: _rate("API_RATE_JOB_CREATE", "600/min"))
    api_rate_auth_failures: str | None = field(default_factory=lambda: _rate("API_RATE_AUTH_FAILURES", "60/min"))
    # The public content-credential check (/check/, no login): uploads per client address.
    api_rate_public_check: str | None = field(default_factory=lambda: _rate("API_RATE_PUBLIC_CHECK", "60/hour"))
    api_num_proxies: int = field(default_factory=lambda: _int("API_NUM_PROXIES", 0))
    # Prefer: wait on POST /api/v1/jobs/: the longest wait, and how many requests may wait at once.
    prefer_wait_max_seconds: int = field(default_factory=lambda: _int("PREFER_WAIT_MAX_SECONDS", 30))
    prefer_wait_per_process: int = field(default_factory=lambda: _int("PREFER_WAIT_PER_PROCESS", 1))
    prefer_wait_per_store: int = field(default_factory=lambda: _int("PREFER_WAIT_PER_STORE", 2))


ENV = Environment()
