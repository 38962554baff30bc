# Direct uploads expire: awaiting shots get the expiry of their presigned URL, and every key a URL was handed out
# for is kept (DirectUpload) until whatever was uploaded there after the URL's expiry has been deleted.
from datetime import timedelta

from django.db import migrations, models

URL_SECONDS = 600  # what product_shot_upload_begin handed out before this migration


def track_awaiting_uploads(apps, schema_editor):
    shots = apps.get_model("catalog", "ProductShot")
    uploads = apps.get_model("catalog", "DirectUpload")
    for shot in shots.objects.filter(status="awaiting_upload").exclude(upload_key="").iterator():
        shot.upload_expires_at = shot.created_at + timedelta(seconds=URL_SECONDS)
        shot.save(update_fields=["upload_expires_at"])
        uploads.objects.get_or_create(key=shot.upload_key, defaults={"expires_at": shot.upload_expires_at})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_face_unique_generated_by_job_per_store")]

    operations = [
        migrations.CreateModel(
            name="DirectUpload",
            fields=[
                ("key", models.CharField(max_length=300, primary_key=True, serialize=False)),
                ("expires_at", models.DateTimeField(db_index=True)),
            ],
        ),
        migrations.AddField(
            model_name="productshot",
            name="upload_expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="when the presigned upload URL expires; unconfirmed shots are deleted after",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="productshot",
            index=models.Index(
                condition=models.Q(("status", "awaiting_upload")),
                fields=["upload_expires_at"],
                name="shot_awaiting_expiry_idx",
            ),
        ),
        migrations.RunPython(track_awaiting_uploads, migrations.RunPython.noop),
    ]
