"""``manage.py import_shots DIR --store SLUG``: bulk-import a store's product shots."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Store
from catalog.bulk_import import image_files, shots_import


class Command(BaseCommand):
    help = ("Import every JPEG/PNG/WEBP photo in DIR as a product shot of the store (face detection is queued for "
            "each). Files already imported under the same name are skipped.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory")
        parser.add_argument("--store", required=True, help="slug of the store")

    def handle(self, *args, **options):
        store = Store.objects.filter(slug=options["store"]).first()
        if store is None:
            raise CommandError(f"no store with the slug {options['store']!r}")
        try:
            report = shots_import(files=image_files(options["directory"]), store=store)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        report.write(self, "product shots")
