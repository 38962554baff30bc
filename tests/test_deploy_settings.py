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
    "WEBHOOK_SECRET_KEY": "4f9c2a7e1b8d3f6a0c5e9b2d7a4f1c8e",
    "REDIS_URL": "redis://redis.internal:6379/1",
    "EMAIL_HOST": "smtp.gasang.example",
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


def without(*names: str) -> dict:
    return {k: v for k, v in PRODUCTION_ENV.items() if k not in names}


def test_production_refuses_to_start_without_a_mail_server():
    # Before: production fell back to the console backend and printed every password-reset link into the log.
    result = manage("check", "--deploy", env=without("EMAIL_HOST"))

    assert result.returncode != 0
    assert "accounts.E002" in result.stderr and "EMAIL_HOST" in result.stderr


def test_production_refuses_the_console_mail_backend():
    env = {**PRODUCTION_ENV, "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}

    result = manage("check", env=env)

    assert result.returncode != 0 and "accounts.E001" in result.stderr


def test_production_refuses_per_process_throttle_counters():
    result = manage("check", env=without("REDIS_URL"))

    assert result.returncode != 0 and "accounts.E003" in result.stderr


def test_gunicorn_refuses_to_load_the_app_without_a_mail_server():
    gunicorn = Path(sys.executable).with_name("gunicorn")
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "GASANG_VAR_DIR"}
    args = [str(gunicorn), "--check-config", "config.wsgi:application"]

    refused = subprocess.run(args, cwd=ROOT, env={**clean, **without("EMAIL_HOST")}, capture_output=True,
                             text=True, timeout=120)
    accepted = subprocess.run(args, cwd=ROOT, env={**clean, **PRODUCTION_ENV}, capture_output=True,
                              text=True, timeout=120)

    assert refused.returncode != 0 and "accounts.E002" in refused.stdout + refused.stderr
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_production_refuses_to_start_without_a_webhook_secret_key():
    result = manage("check", env=without("WEBHOOK_SECRET_KEY"))

    assert result.returncode != 0 and "WEBHOOK_SECRET_KEY" in result.stderr


def test_production_delivers_webhooks_only_over_https_to_public_addresses():
    shown = "from django.conf import settings as s; print(s.WEBHOOK_ALLOW_HTTP, s.WEBHOOK_ALLOW_LOOPBACK)"
    result = manage("shell", "-c", shown, env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False False"
