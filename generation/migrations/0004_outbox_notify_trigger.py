"""On PostgreSQL, wake the outbox relay when a transaction that wrote outbox rows commits.

NOTIFY is delivered at commit (never for a rolled-back transaction) and folded to one per transaction, so a
job creation pays for no extra round trip. Other databases get nothing: there the request publishes itself.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION generation_outbox_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('gasang_outbox', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS generation_outbox_notify ON generation_outboxmessage;
CREATE TRIGGER generation_outbox_notify AFTER INSERT ON generation_outboxmessage
    FOR EACH STATEMENT EXECUTE FUNCTION generation_outbox_notify();
"""

DROP = """
DROP TRIGGER IF EXISTS generation_outbox_notify ON generation_outboxmessage;
DROP FUNCTION IF EXISTS generation_outbox_notify();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("generation", "0003_job_outputs_discarded_at")]

    operations = [migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP))]
