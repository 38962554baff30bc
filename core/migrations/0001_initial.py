# The outbox, applied-event ids and broker marker move from generation to core: state only. The tables keep their
# names (generation_outboxmessage, ...), so no row moves and the NOTIFY trigger of generation 0004 keeps firing.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("generation", "0006_job_lease")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="OutboxMessage",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("task", models.CharField(max_length=100)),
                        ("queue", models.CharField(max_length=20)),
                        ("payload", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("published_at", models.DateTimeField(blank=True, null=True)),
                        ("publish_attempts", models.PositiveIntegerField(default=0)),
                        ("last_error", models.CharField(blank=True, max_length=300)),
                    ],
                    options={
                        "db_table": "generation_outboxmessage",
                        "ordering": ["id"],
                        "indexes": [
                            models.Index(condition=models.Q(("published_at__isnull", True)), fields=["id"],
                                         name="outbox_unpublished_idx")
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="BrokerMarker",
                    fields=[
                        ("name", models.CharField(max_length=40, primary_key=True, serialize=False)),
                        ("value", models.CharField(max_length=64)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={"db_table": "generation_brokermarker"},
                ),
                migrations.CreateModel(
                    name="AppliedEvent",
                    fields=[
                        ("event_id", models.CharField(max_length=100, primary_key=True, serialize=False)),
                        ("applied_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={"db_table": "generation_appliedevent"},
                ),
            ],
        )
    ]
