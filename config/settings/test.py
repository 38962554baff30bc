"""Test settings. tests/conftest.py points DATABASE_URL / CELERY_BROKER_URL at real throwaway services."""

from config.settings.base import *  # noqa: F403

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never outside tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests read English messages unless they ask for Korean (Accept-Language / the language cookie);
# the product's default stays Korean (base.LANGUAGE_CODE).
LANGUAGE_CODE = "en"
