"""Delete direct uploads whose presigned URL expired (plus a grace period): unconfirmed shots and stray objects.

The periodic task ``catalog.expire_direct_uploads`` (Celery beat, every 10 minutes) does the same.
"""

from django.core.management.base import BaseCommand

from catalog.services import product_shot_uploads_expire


class Command(BaseCommand):
    help = "Delete expired direct uploads: shots never confirmed, and objects uploaded to an expired upload key."

    def handle(self, *args, **options):
        total_shots = total_keys = 0
        while True:
            shots, keys = product_shot_uploads_expire()
            total_shots, total_keys = total_shots + shots, total_keys + keys
            if not shots and not keys:
                break
        self.stdout.write(f"deleted {total_shots} unconfirmed shot(s), cleaned {total_keys} upload key(s)")
