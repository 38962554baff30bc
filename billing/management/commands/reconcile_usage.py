"""Compare the ledger's overage with what was reported to Stripe, per store and credit period.

    python manage.py reconcile_usage [--store ID]

Prints one line per store and period, then "N differences"; exits 1 when there are any.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from billing.reconcile import reconcile


class Command(BaseCommand):
    help = "Compare ledger overage with the meter events reported to Stripe, per store and period."

    def add_arguments(self, parser):
        parser.add_argument("--store", type=int, help="only this store id")

    def handle(self, *args, store=None, **options):
        rows = reconcile(store_id=store)
        differences = 0
        for row in rows:
            status = "ok" if row.difference == 0 else f"DIFFERENCE {row.difference:+d}"
            differences += row.difference != 0
            self.stdout.write(
                f"store {row.store_id} period {row.period_id} {row.label}: captured {row.captured} / allowance "
                f"{row.allowance}, ledger overage {row.ledger_overage}, reported {row.reported} "
                f"(recorded {row.recorded}) — {status}"
            )
        self.stdout.write(f"{differences} differences")
        if differences:
            raise CommandError(f"{differences} store periods differ between the ledger and Stripe", returncode=1)
