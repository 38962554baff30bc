# Faces get a prepared asset (analysed once by the GPU fleet). Existing faces start pending with nothing queued:
# `manage.py prepare_face_assets --missing` queues them (README, "Face assets").

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('catalog', '0004_upload_expiry'),
    ]

    operations = [
        migrations.AddField(
            model_name='modelface',
            name='asset_error',
            field=models.CharField(blank=True, help_text='why the last preparation failed', max_length=300),
        ),
        migrations.AddField(
            model_name='modelface',
            name='asset_key',
            field=models.CharField(blank=True, help_text='storage key of the prepared face asset', max_length=300),
        ),
        migrations.AddField(
            model_name='modelface',
            name='asset_state',
            field=models.CharField(choices=[('pending', 'Preparing the face'), ('ready', 'Face prepared'), ('failed', 'Face preparation failed')], default='pending', max_length=10),
        ),
        migrations.AddField(
            model_name='modelface',
            name='asset_summary',
            field=models.JSONField(blank=True, default=dict, help_text='what the worker found (JSON)'),
        ),
        migrations.AddField(
            model_name='modelface',
            name='asset_version',
            field=models.PositiveSmallIntegerField(blank=True, help_text='format version of the asset stored at asset_key', null=True),
        ),
    ]
