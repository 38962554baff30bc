"""Production settings pass Django's deployment checklist with production-like environment values."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x7$k2!vq9@pL#r8mZ1wB4nC6yT0hJ3fG5dS8aQ2eR7uI9oP1lK4jH6gF3dS0aZ_prod",
    "DATABASE_URL": "postgres://gasang:secret@db.internal:5432/gasang",
    "ALLOWED_HOSTS": "app.gasang.example",
    "CSRF_TRUSTED_ORIGINS": "https://app.gasang.example",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "STORAGE_BACKEND": "s3",
    "S3_BUCKET": "gasang-prod",
    "S3_ENDPOINT_URL": "https://s3.ap-northeast-2.amazonaws.com",
    "STRIPE_SECRET_KEY": "sk_live_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
}


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "GASANG_VAR_DIR"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_passes_with_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_real_secret_key():
    result = manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": "short"})

    assert result.returncode != 0 and "SECRET_KEY" in result.stderr
