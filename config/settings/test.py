"""Test settings. tests/conftest.py points DATABASE_URL / CELERY_BROKER_URL at real throwaway services."""

from config.settings.base import *  # noqa: F403

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never outside tests
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Tests read English messages unless they ask for Korean (Accept-Language / the language cookie);
# the product's default stays Korean (base.LANGUAGE_CODE).
LANGUAGE_CODE = "en"
# The suite sends many requests from one address and token: the API rate limits are far out of reach here;
# tests of the limits (tests/accounts/test_rate_limits.py) override DEFAULT_THROTTLE_RATES with small ones.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/min"),  # noqa: F405
}
# Tests deliver webhooks to receivers on loopback over http; production refuses both (production.py).
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOW_LOOPBACK = True
# Every test client logs in from 127.0.0.1: the per-address login limit stays out of reach for the suite;
# tests/accounts/test_login_throttle.py sets small limits itself.
LOGIN_MAX_FAILURES_PER_IP = 10_000
