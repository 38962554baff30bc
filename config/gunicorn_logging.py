"""gunicorn's logger, redacted: ``gunicorn --logger-class config.gunicorn_logging.GunicornLogger``.

Kept apart from core.log_redaction so that nothing but gunicorn imports gunicorn.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from core.log_redaction import RedactSecretsFilter, redact


class GunicornLogger(Logger):
    """gunicorn's logger with every access-log atom (request line, path, query, Referer, headers) redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(RedactSecretsFilter())
