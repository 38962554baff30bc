"""``manage.py import_faces DIR --consent "…"``: bulk-import an operator's licensed model faces."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Store, User
from catalog.bulk_import import faces_import, image_files
from catalog.tags import clean_tags

DEFAULT_PURPOSE = "virtual model face in Gasang stores' product photos"


class Command(BaseCommand):
    help = ("Import every JPEG/PNG/WEBP photo in DIR as a model face named after its file, with one consent record "
            "for all of them. Public gallery by default (waiting for curation, or published with --publish-as); "
            "--store SLUG makes them one store's own faces. Files already imported are skipped.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("directory")
        parser.add_argument("--consent", required=True,
                            help="who consented and how it is recorded, e.g. 'Model release 2026-11, signed by each "
                                 "person pictured'")
        parser.add_argument("--purpose", default=DEFAULT_PURPOSE, help="what the people consented to")
        parser.add_argument("--tags", default="", help="comma-separated style tags for every face (e.g. elegant,fresh)")
        parser.add_argument("--store", help="slug of the store that owns the faces (default: the public gallery)")
        parser.add_argument("--publish-as", metavar="EMAIL",
                            help="publish public faces at once, curated in this staff user's name")

    def handle(self, *args, **options):
        if not options["consent"].strip() or not options["purpose"].strip():
            raise CommandError("--consent (who consented, and where it is recorded) and --purpose must not be empty")
        store = self._store(options["store"])
        curator = self._curator(options["publish_as"])
        try:
            files = image_files(options["directory"])
            tags = clean_tags([t for t in options["tags"].split(",") if t.strip()])
            report, _faces = faces_import(
                files=files, store=store, consent_given_by=options["consent"], consent_purpose=options["purpose"],
                tags_for=lambda _path: tags, publish_as=curator,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        report.write(self, "faces")

    @staticmethod
    def _store(slug: str | None) -> Store | None:
        if not slug:
            return None
        store = Store.objects.filter(slug=slug).first()
        if store is None:
            raise CommandError(f"no store with the slug {slug!r}")
        return store

    @staticmethod
    def _curator(email: str | None) -> User | None:
        if not email:
            return None
        user = User.objects.filter(email__iexact=email, is_staff=True).first()
        if user is None:
            raise CommandError(f"no staff user {email!r} to publish as")
        return user
