"""System checks of the generation app (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def webhook_delivery_is_locked_down(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """A deployment must not deliver webhooks over plain http or to loopback (tests and laptops only)."""
    errors = []
    if settings.WEBHOOK_ALLOW_LOOPBACK:
        errors.append(checks.Error(
            "WEBHOOK_ALLOW_LOOPBACK is on: stores could make the server post to its own loopback services.",
            hint="Only local and test settings may allow loopback webhook receivers.",
            id="generation.E001",
        ))
    if settings.WEBHOOK_ALLOW_HTTP:
        errors.append(checks.Error(
            "WEBHOOK_ALLOW_HTTP is on: webhook payloads and signatures would travel unencrypted.",
            hint="Production delivers webhooks to https:// URLs only.",
            id="generation.E002",
        ))
    return errors
