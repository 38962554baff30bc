"""Seed the plans and credit prices (admins edit them afterwards), and make the ledger append-only in PostgreSQL."""

from django.db import migrations

PLANS = [
    # code, name, monthly credits, metered overage, watermark
    ("free", "Free", 20, False, True),
    ("pro", "Pro", 500, True, False),
    ("business", "Business", 3000, True, False),
]
PRICES = {
    "generate_face": 1,
    "swap": 1,
    "restore": 1,
    "makeup": 1,
    "pipeline": 2,
    "second_generation": 2,
}

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION billing_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'billing_ledgerentry is append-only (% refused)', TG_OP;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER billing_ledger_append_only BEFORE UPDATE OR DELETE ON billing_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION billing_ledger_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS billing_ledger_append_only ON billing_ledgerentry;
DROP FUNCTION IF EXISTS billing_ledger_append_only();
"""


def seed(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    CreditPrice = apps.get_model("billing", "CreditPrice")
    for code, name, credits, metered, watermark in PLANS:
        Plan.objects.get_or_create(
            code=code,
            defaults={"name": name, "monthly_credits": credits, "metered_overage": metered, "watermark": watermark},
        )
    for kind, credits in PRICES.items():
        CreditPrice.objects.get_or_create(kind=kind, defaults={"credits": credits})


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # embedded mode (SQLite) relies on the model's guards
        schema_editor.execute(APPEND_ONLY, params=None)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY, params=None)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
