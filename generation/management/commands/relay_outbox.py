"""Publish outbox messages the request's fast path could not (broker down, process died after commit)."""

import logging
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from generation.outbox import relay_pending

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Relay unpublished outbox messages to the broker, forever (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between scans")

    def handle(self, *args, once: bool = False, interval: float = 0.5, **options):
        while True:
            close_old_connections()  # survive a database restart
            try:
                sent = relay_pending()
                if sent:
                    log.info("relayed %d outbox message(s)", sent)
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            if once:
                return
            time.sleep(interval)
