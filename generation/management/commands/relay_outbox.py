"""Publish committed outbox messages to the broker: woken by PostgreSQL NOTIFY, retrying while it is down.

The publishing is core/outbox.py's; this command lives in generation because it also sweeps jobs every few seconds
(generation/leases.py): running jobs whose lease ran out are queued again, and a Redis that lost its data
(core/broker_marker.py) has its queued jobs queued again; jobs still queued long after dispatch are queued again
after ``--requeue-after`` (a broker that lost a message without losing its marker).
"""

import logging
import time
from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from core.outbox import RelayWakeups, relay_pending
from generation import leases
from generation.dispatch import requeue_stale_jobs
from generation.services import output_label_for

log = logging.getLogger(__name__)

REQUEUE_AFTER_SECONDS = 300.0
SWEEP_EVERY_SECONDS = 5.0


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
            default=REQUEUE_AFTER_SECONDS,
            help="queue again jobs still queued this many seconds after dispatch",
        )
        parser.add_argument(
            "--sweep-every",
            type=float,
            default=SWEEP_EVERY_SECONDS,
            help="seconds between sweeps for expired job leases and a broker that lost its data",
        )

    def handle(self, *args, once=False, interval=0.5, requeue_after=REQUEUE_AFTER_SECONDS,
               sweep_every=SWEEP_EVERY_SECONDS, **options):
        next_sweep = next_requeue = 0.0
        wakeups = RelayWakeups()
        while True:
            try:
                sent = relay_pending()
                if sent:
                    log.info("relayed %d outbox message(s)", sent)
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + sweep_every
                    leases.sweep(label_for=output_label_for)
                if time.monotonic() >= next_requeue:
                    next_requeue = time.monotonic() + min(60.0, requeue_after)
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
