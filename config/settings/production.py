"""Production: differs from base only through the environment, plus hardening that must not be optional."""

from django.core.exceptions import ImproperlyConfigured

from config.settings.base import *  # noqa: F403
from config.settings.base import ENV, MIDDLEWARE, STORAGES

if not ENV.secret_key or len(ENV.secret_key) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be set to a random value of at least 50 characters")
if not ENV.database_url:
    raise ImproperlyConfigured("DATABASE_URL must be set in production")
if len(ENV.webhook_secret_key.split(",")[0].strip()) < 32:
    raise ImproperlyConfigured(
        "WEBHOOK_SECRET_KEY must be set to a random value of at least 32 characters (it encrypts webhook secrets)"
    )
WEBHOOK_SECRET_KEY = ENV.webhook_secret_key
# Webhooks go only to https:// URLs on public addresses: never http://, never loopback (generation/checks.py
# refuses either under `check --deploy` should a settings module turn them on).
WEBHOOK_ALLOW_HTTP = False
WEBHOOK_ALLOW_LOOPBACK = False

# Mail is delivered, never printed: the console backend would write password-reset links into the log. Without
# EMAIL_BACKEND, SMTP to EMAIL_HOST; accounts/checks.py refuses to start without a delivering configuration, and
# without a shared cache (REDIS_URL) for the login throttle.
EMAIL_BACKEND = ENV.email_backend or "django.core.mail.backends.smtp.EmailBackend"
REQUIRE_EMAIL_DELIVERY = True
REQUIRE_SHARED_CACHE = True

DEBUG = False
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_SSL_REDIRECT = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# WhiteNoise serves the collected, compressed, hashed static files right after SecurityMiddleware.
_after = MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1
MIDDLEWARE = [*MIDDLEWARE[:_after], "whitenoise.middleware.WhiteNoiseMiddleware", *MIDDLEWARE[_after:]]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
