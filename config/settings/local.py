"""Embedded mode for a laptop: SQLite, local files, a broker that needs no server (see base)."""

from config.processes import prepare_var_dir
from config.settings.base import *  # noqa: F403
from config.settings.base import ENV

DEBUG = True if not ENV.secret_key else ENV.debug
SECRET_KEY = ENV.secret_key or "local-development-only-not-secret"

# Embedded mode keeps its SQLite file, media and broker queues here; a seed before the workers start can queue.
prepare_var_dir(VAR_DIR)  # noqa: F405
# A laptop may try webhooks against a receiver on loopback over http; production refuses both.
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOW_LOOPBACK = True
