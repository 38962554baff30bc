"""Keep secrets that travel in URLs out of every log line.

Invitation links (``/invite/<secret>/``) and password-reset links (``/accounts/reset/<uid>/<token>/``) carry their
secret in the path; it shows up in request logs, in ``Referer`` headers of the next page and, percent-encoded, in
``?next=`` query strings. ``redact()`` replaces the secret with ``[redacted]``. It is applied by
``RedactSecretsFilter`` (on the console handler in ``config.settings.base.LOGGING``) and by
``config.gunicorn_logging.GunicornLogger`` (gunicorn's access and error logs).
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_SLASH = r"(?:/|%2F)"
_SECRET_IN_PATH = re.compile(
    rf"({_SLASH}(?:invite|accounts{_SLASH}reset{_SLASH}[A-Za-z0-9_\-]+){_SLASH})(?!set-password)[A-Za-z0-9_\-]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with the secret of every invitation or password-reset URL in it replaced."""
    return _SECRET_IN_PATH.sub(rf"\1{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's final message (after %-formatting) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
