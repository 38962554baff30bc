# Webhook hardening (issue 12): signing secrets encrypted at rest, empty event list allowed (= all events),
# delivery claims (no row lock held while a customer's endpoint answers) and the per-store in-flight index.
from django.db import migrations, models


def encrypt_existing_secrets(apps, schema_editor):
    from generation.webhook_crypto import encrypt_secret, is_encrypted

    endpoints = apps.get_model("generation", "WebhookEndpoint")
    for endpoint in endpoints.objects.only("pk", "secret_encrypted").iterator():
        if endpoint.secret_encrypted and not is_encrypted(endpoint.secret_encrypted):
            endpoint.secret_encrypted = encrypt_secret(endpoint.secret_encrypted)
            endpoint.save(update_fields=["secret_encrypted"])


def decrypt_secrets(apps, schema_editor):
    from generation.webhook_crypto import decrypt_secret, is_encrypted

    endpoints = apps.get_model("generation", "WebhookEndpoint")
    for endpoint in endpoints.objects.only("pk", "secret_encrypted").iterator():
        if is_encrypted(endpoint.secret_encrypted):
            endpoint.secret_encrypted = decrypt_secret(endpoint.secret_encrypted)
            endpoint.save(update_fields=["secret_encrypted"])


class Migration(migrations.Migration):
    dependencies = [("generation", "0004_outbox_notify_trigger")]

    operations = [
        migrations.AlterField(
            model_name="webhookendpoint",
            name="events",
            field=models.JSONField(blank=True, default=list, help_text="event types to send; empty means all"),
        ),
        migrations.AlterField(
            model_name="webhookendpoint", name="secret", field=models.CharField(max_length=400)
        ),
        migrations.RenameField(model_name="webhookendpoint", old_name="secret", new_name="secret_encrypted"),
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret_encrypted",
            field=models.CharField(
                help_text="the signing secret, encrypted with WEBHOOK_SECRET_KEY (generation/webhook_crypto.py)",
                max_length=400,
            ),
        ),
        migrations.RunPython(encrypt_existing_secrets, decrypt_secrets, elidable=False),
        migrations.AddField(
            model_name="webhookdelivery", name="claim_id", field=models.UUIDField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="webhookdelivery", name="claimed_until", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["store", "claimed_until"],
                name="webhook_delivery_inflight_idx",
            ),
        ),
    ]
