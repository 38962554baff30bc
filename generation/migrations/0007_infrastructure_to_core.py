# The outbox, applied-event ids and broker marker now belong to core (core 0001): dropped from generation's state
# only; their tables stay as they are.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("generation", "0006_job_lease"), ("core", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="OutboxMessage"),
                migrations.DeleteModel(name="BrokerMarker"),
                migrations.DeleteModel(name="AppliedEvent"),
            ],
        )
    ]
