"""Re-encrypt every stored webhook signing secret with the first key of WEBHOOK_SECRET_KEY (after a key change).

The secrets themselves do not change, so receivers keep verifying signatures as before.
"""

from django.core.management.base import BaseCommand

from generation.webhook_crypto import reencrypt_secret


class Command(BaseCommand):
    help = "Re-encrypt webhook secrets with the first WEBHOOK_SECRET_KEY (run with WEBHOOK_SECRET_KEY=new,old)."

    def handle(self, *args, **options):
        from generation.models import WebhookEndpoint

        changed = 0
        for endpoint in WebhookEndpoint.objects.only("pk", "secret_encrypted").iterator():
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                secret_encrypted=reencrypt_secret(endpoint.secret_encrypted)
            )
            changed += 1
        self.stdout.write(f"re-encrypted {changed} webhook secret(s) with the first WEBHOOK_SECRET_KEY")
