"""System checks for accounts: production must deliver e-mail and share its throttle counters.

They are ordinary checks (not ``deploy=True`` only), so ``check``, ``check --deploy``, ``migrate`` and
``runserver`` all refuse a production configuration that would

- write password-reset links into the log (the console backend) or drop them (locmem, dummy, file), or
- keep login-failure counters per process (a memory cache), which multiplies the allowance by the worker count.

gunicorn does not run system checks, so ``config/wsgi.py`` calls :func:`refuse_to_start_on_errors`.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

TAG = "gasang_startup"
# Backends that do not deliver: the console one even prints every password-reset link to stdout, i.e. the log.
NON_DELIVERING_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.security, TAG)
def email_is_delivered(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not getattr(settings, "REQUIRE_EMAIL_DELIVERY", False):
        return []
    backend = settings.EMAIL_BACKEND
    if backend in NON_DELIVERING_EMAIL_BACKENDS:
        return [checks.Error(
            f"EMAIL_BACKEND is {backend}, which does not deliver mail: password-reset links would be lost or "
            "written to the log.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD) for SMTP, or EMAIL_BACKEND "
                 "to a backend that delivers.",
            id="accounts.E001",
        )]
    if backend == SMTP_BACKEND and not settings.EMAIL_HOST:
        return [checks.Error(
            "EMAIL_HOST is not set: production cannot send password-reset e-mails.",
            hint="Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD) to your SMTP relay.",
            id="accounts.E002",
        )]
    return []


@checks.register(checks.Tags.security, TAG)
def throttle_cache_is_shared(app_configs, **kwargs) -> list[checks.CheckMessage]:
    if not getattr(settings, "REQUIRE_SHARED_CACHE", False):
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        return [checks.Error(
            f"The default cache is {backend}: each web process would keep its own login-failure and rate-limit "
            "counters.",
            hint="Set REDIS_URL (e.g. redis://redis:6379/1) so every web process shares one cache.",
            id="accounts.E003",
        )]
    return []


def refuse_to_start_on_errors() -> None:
    """Raise ImproperlyConfigured when any of the checks above fails (for servers that skip system checks)."""
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("; ".join(f"{e.id}: {e.msg}" for e in errors))
