"""Embedded mode for a laptop: SQLite, local files, a broker that needs no server (see base)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import ENV

DEBUG = True if not ENV.secret_key else ENV.debug
SECRET_KEY = ENV.secret_key or "local-development-only-not-secret"

VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405 - embedded mode keeps its SQLite file and media here
# A laptop may try webhooks against a receiver on loopback over http; production refuses both.
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOW_LOOPBACK = True
