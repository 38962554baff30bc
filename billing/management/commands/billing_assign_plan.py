"""Put a store on a plan directly, without Stripe (demo stores, benchmarks, support).

    python manage.py billing_assign_plan <store slug> <plan code>     # e.g. demo internal
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Store
from billing.models import Plan
from billing.services import billing_plan_assign


class Command(BaseCommand):
    help = "Assign a billing plan to a store (free, pro, business, internal, or any plan added in the admin)."

    def add_arguments(self, parser):
        parser.add_argument("store", help="store slug")
        parser.add_argument("plan", help="plan code")

    def handle(self, *args, store, plan, **options):
        target = Store.objects.filter(slug=store).first()
        if target is None:
            raise CommandError(f"No store with slug '{store}'.")
        try:
            account = billing_plan_assign(store=target, plan_code=plan)
        except Plan.DoesNotExist:
            raise CommandError(f"No plan '{plan}'.") from None
        self.stdout.write(f"{target.slug} is now on the {account.plan.name} plan ({account.plan.monthly_credits} "
                          "credits per period).")
