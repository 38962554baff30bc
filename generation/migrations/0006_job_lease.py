# Running jobs hold a lease renewed by the GPU worker's events; the relay re-queues a job whose lease ran out.
# BrokerMarker: the relay's marker for noticing a Redis that lost its data.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("generation", "0005_webhook_hardening")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="lease_expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="a running job's worker events renew this; past it the relay re-queues it",
                null=True,
            ),
        ),
        migrations.AddIndex(
            model_name="job",
            index=models.Index(
                condition=models.Q(("state", "running")), fields=["lease_expires_at"], name="job_running_lease_idx"
            ),
        ),
        migrations.CreateModel(
            name="BrokerMarker",
            fields=[
                ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("value", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
        ),
    ]
