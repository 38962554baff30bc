"""Queue the preparation of face assets for faces that already exist (after an upgrade, or a new asset format).

New faces are queued when they enter a gallery; this command covers faces made before that, and faces whose
asset failed or is of an older format. Each face's request goes through the outbox, so it is sent once the
relay (or the request's own publish) sees it.
"""

from django.core.management.base import BaseCommand, CommandError

from catalog.face_assets import faces_request_assets
from catalog.models import ModelFace


class Command(BaseCommand):
    help = ("Queue face asset preparation: --missing (the default) for faces without a ready asset of the current "
            "format, --all for every face.")

    def add_arguments(self, parser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--missing", action="store_true",
                           help="only faces whose asset is pending, failed or of an older format (the default)")
        which.add_argument("--all", action="store_true", help="every face, prepared or not")

    def handle(self, *args, **options):
        if options["all"] and options["missing"]:
            raise CommandError("give --all or --missing, not both")
        faces = ModelFace.objects.order_by("pk")
        count = faces_request_assets(faces=faces, missing_only=not options["all"])
        self.stdout.write(f"queued {count} face asset request(s)")
