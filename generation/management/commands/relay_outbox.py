"""Publish committed outbox messages to the broker: woken by PostgreSQL NOTIFY, retrying while it is down."""

import logging
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from generation.dispatch import requeue_stale_jobs
from generation.outbox import RelayWakeups, relay_pending
from generation.services import output_label_for

log = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Relay unpublished outbox messages to the broker, forever (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true")
        parser.add_argument(
            "--interval", type=float, default=0.5, help="longest wait between scans (a commit wakes it sooner)"
        )
        parser.add_argument(
            "--requeue-after",
            type=float,
            default=1800,
            help="queue again jobs still queued this many seconds after dispatch",
        )

    def handle(self, *args, once: bool = False, interval: float = 0.5, requeue_after: float = 1800, **options):
        next_sweep = 0.0
        wakeups = RelayWakeups()
        while True:
            try:
                sent = relay_pending()
                if sent:
                    log.info("relayed %d outbox message(s)", sent)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + min(60.0, requeue_after)
                    requeued = requeue_stale_jobs(
                        older_than=timedelta(seconds=requeue_after), label_for=output_label_for
                    )
                    if requeued:
                        log.warning("queued %d stale job(s) again", requeued)
            except Exception:
                log.exception("outbox relay pass failed; retrying")
            if once:
                return
            wakeups.wait(interval)
            close_old_connections()  # drop a connection broken by a database restart
