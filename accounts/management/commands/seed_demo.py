"""Create (or refresh) the demo store and its owner login that ``make run`` prints."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts import services
from accounts.models import Membership, Role, User

DEMO_EMAIL = "demo@gasang.local"
DEMO_PASSWORD = "gasang-demo-1234"
DEMO_STORE = "가상 데모 스토어"


class Command(BaseCommand):
    help = "Create the demo store with an owner login (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            services.user_signup(email=DEMO_EMAIL, password=DEMO_PASSWORD, store_name=DEMO_STORE, name="Demo")
            user = User.objects.get(email=DEMO_EMAIL)
        else:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.is_staff = True  # so the demo can open admin curation
        user.save(update_fields=["is_staff"])
        membership = Membership.objects.filter(user=user, role=Role.OWNER).select_related("store").first()
        self.stdout.write(f"demo store: {membership.store.name} ({membership.store.slug})")
        self.stdout.write(f"login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
