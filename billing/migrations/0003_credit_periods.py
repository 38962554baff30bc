"""Credit periods become rows: every ledger entry and meter report points at its CreditPeriod.

Schema: the ``CreditPeriod`` table (on PostgreSQL an exclusion constraint over ``tstzrange(starts_at, ends_at)``
per store, with btree_gist, makes overlapping periods impossible), ``LedgerEntry.period`` and
``MeterEventReport.period`` (required) instead of the bare ``period_start`` date, and the account's cached
``credit_period`` and ``cancel_at_period_end``.

Data: each old bucket (store, period_start) becomes one period holding all its rows, so every period's totals —
and every balance and reconciliation — are what they were. Its bounds are the bucket's own (the UTC calendar
month, or the subscription period the account still has), clipped so that no two periods of a store overlap and
each still holds the reserves made in it. The ledger's append-only trigger is switched off for the one UPDATE
that sets ``period``, and back on in the same transaction.
"""

from datetime import UTC, date, datetime, timedelta

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import Max, Min

TICK = timedelta(microseconds=1)
NO_OVERLAP = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE billing_creditperiod ADD CONSTRAINT creditperiod_no_overlap
    EXCLUDE USING gist (store_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&);
"""
DROP_NO_OVERLAP = "ALTER TABLE billing_creditperiod DROP CONSTRAINT IF EXISTS creditperiod_no_overlap;"
TRIGGER = "ALTER TABLE billing_ledgerentry {} TRIGGER billing_ledger_append_only"


def no_overlap(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # SQLite: the unique start and the account lock
        schema_editor.execute(NO_OVERLAP, params=None)


def drop_no_overlap(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_NO_OVERLAP, params=None)


def _month_start(day: date) -> datetime:
    return datetime(day.year, day.month, 1, tzinfo=UTC)


def _next_month(day: date) -> datetime:
    return datetime(day.year + (day.month == 12), day.month % 12 + 1, 1, tzinfo=UTC)


def _old_period_start(account, now: datetime) -> date | None:
    """What the old code keyed the current period by (billing.services.period_start_for before 0003)."""
    if account is None:
        return None
    start, end = account.current_period_start, account.current_period_end
    if start and end and start <= now < end:
        return start.astimezone(UTC).date()
    return now.astimezone(UTC).date().replace(day=1)


def _bucket(apps, account, store_id: int, key: date, now: datetime) -> dict:
    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    rows = LedgerEntry.objects.filter(store_id=store_id, period_start=key)
    placed = rows.filter(kind__in=["reserve", "adjustment"]).aggregate(lo=Min("created_at"), hi=Max("created_at"))
    spread = rows.aggregate(lo=Min("created_at"), hi=Max("created_at"))
    lo, hi = placed["lo"] or spread["lo"], placed["hi"] or spread["hi"]
    if lo is None:  # a meter report without ledger rows (should not exist): give it the day
        lo = hi = datetime(key.year, key.month, key.day, tzinfo=UTC)
    last = rows.order_by("-id").first()
    sub_id = account.stripe_subscription_id if account is not None else ""
    start, end = _month_start(key), _next_month(key)
    source = "calendar"
    if sub_id and account.current_period_start and account.current_period_start.astimezone(UTC).date() == key:
        start, end, source = account.current_period_start, account.current_period_end or end, "subscription"
    elif sub_id and key.day != 1:
        start, source = datetime(key.year, key.month, key.day, tzinfo=UTC), "subscription"
        end = start + timedelta(days=31)
    plan_id = last.plan_id if last is not None else account.plan_id
    if account is not None and key == _old_period_start(account, now):
        plan_id = account.plan_id  # the current period: the plan its balance was computed with
    return {"key": key, "lo": lo, "hi": hi, "start": start, "end": end, "source": source,
            "sub": sub_id if source == "subscription" else "", "plan_id": plan_id}


def _store_periods(apps, account, store_id: int, keys: set[date], now: datetime):
    CreditPeriod = apps.get_model("billing", "CreditPeriod")
    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    MeterEventReport = apps.get_model("billing", "MeterEventReport")
    buckets = sorted((_bucket(apps, account, store_id, key, now) for key in keys), key=lambda b: (b["lo"], b["key"]))
    head, prev_end = None, None
    for index, bucket in enumerate(buckets):
        start = min(bucket["start"], bucket["lo"])
        if prev_end is not None:
            start = max(start, prev_end)
        end = bucket["end"]
        if index + 1 < len(buckets):
            end = min(end, buckets[index + 1]["lo"])
        end = max(end, bucket["hi"] + TICK, start + TICK)
        head = CreditPeriod.objects.create(
            store_id=store_id, plan_id=bucket["plan_id"], source=bucket["source"],
            stripe_subscription_id=bucket["sub"], starts_at=start, ends_at=end,
        )
        LedgerEntry.objects.filter(store_id=store_id, period_start=bucket["key"]).update(period=head)
        MeterEventReport.objects.filter(store_id=store_id, period_start=bucket["key"]).update(period=head)
        prev_end = end
    return head


def _switch_trigger(schema_editor, state: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        if state == "ENABLE":  # fire the pending foreign-key checks first: ALTER TABLE refuses to run past them
            schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE", params=None)
        schema_editor.execute(TRIGGER.format(state), params=None)


def to_periods(apps, schema_editor):
    from django.utils import timezone

    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    MeterEventReport = apps.get_model("billing", "MeterEventReport")
    BillingAccount = apps.get_model("billing", "BillingAccount")
    keys: dict[int, set[date]] = {}
    for model in (LedgerEntry, MeterEventReport):
        for store_id, key in model.objects.values_list("store_id", "period_start").distinct():
            keys.setdefault(store_id, set()).add(key)
    if not keys:
        return
    now = timezone.now()
    accounts = {a.store_id: a for a in BillingAccount.objects.filter(store_id__in=keys)}
    _switch_trigger(schema_editor, "DISABLE")
    for store_id, store_keys in sorted(keys.items()):
        head = _store_periods(apps, accounts.get(store_id), store_id, store_keys, now)
        if store_id in accounts:
            BillingAccount.objects.filter(pk=accounts[store_id].pk).update(credit_period=head)
    _switch_trigger(schema_editor, "ENABLE")


def from_periods(apps, schema_editor):
    """Back to dates: a calendar period's month (its middle's, in UTC), a subscription period's first day."""
    CreditPeriod = apps.get_model("billing", "CreditPeriod")
    LedgerEntry = apps.get_model("billing", "LedgerEntry")
    MeterEventReport = apps.get_model("billing", "MeterEventReport")
    if not LedgerEntry.objects.exists() and not MeterEventReport.objects.exists():
        return
    _switch_trigger(schema_editor, "DISABLE")
    for period in CreditPeriod.objects.all():
        if period.source == "subscription":
            key = period.starts_at.astimezone(UTC).date()
        else:
            key = (period.starts_at + (period.ends_at - period.starts_at) / 2).astimezone(UTC).date().replace(day=1)
        LedgerEntry.objects.filter(period=period).update(period_start=key)
        MeterEventReport.objects.filter(period=period).update(period_start=key)
    _switch_trigger(schema_editor, "ENABLE")


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_seed_plans_prices_and_append_only_ledger")]

    operations = [
        migrations.CreateModel(
            name="CreditPeriod",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(choices=[("calendar", "Calendar month allowance"),
                                                     ("subscription", "Stripe subscription")], max_length=12)),
                ("stripe_subscription_id", models.CharField(blank=True, max_length=100)),
                ("starts_at", models.DateTimeField()),
                ("ends_at", models.DateTimeField(help_text="exclusive")),
                ("provisional", models.BooleanField(
                    default=False, help_text="a subscription period continued until Stripe reports how it renewed")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("plan", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                           to="billing.plan")),
                ("store", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                            related_name="credit_periods", to="accounts.store")),
            ],
            options={
                "ordering": ["store", "starts_at"],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("ends_at__gt", models.F("starts_at"))),
                                           name="creditperiod_not_empty"),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("source", "calendar"), ("stripe_subscription_id", "")),
                            models.Q(("source", "subscription"),
                                     models.Q(("stripe_subscription_id", ""), _negated=True)),
                            _connector="OR",
                        ),
                        name="creditperiod_source_matches_subscription",
                    ),
                    models.UniqueConstraint(fields=("store", "starts_at"), name="creditperiod_unique_start"),
                ],
            },
        ),
        migrations.RunPython(no_overlap, drop_no_overlap),
        migrations.AddField(
            model_name="billingaccount",
            name="cancel_at_period_end",
            field=models.BooleanField(default=False, help_text="Stripe ends the subscription at period end"),
        ),
        migrations.AddField(
            model_name="billingaccount",
            name="credit_period",
            field=models.ForeignKey(
                blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                to="billing.creditperiod",
                help_text="the store's latest credit period (kept here so a job's reserve needs no extra query)",
            ),
        ),
        migrations.AddField(
            model_name="ledgerentry",
            name="period",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="entries",
                                    to="billing.creditperiod", help_text="the period the credits count against"),
        ),
        migrations.AddField(
            model_name="metereventreport",
            name="period",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="meter_reports", to="billing.creditperiod"),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="ledgerentry",
            name="period_start",
            field=models.DateField(null=True, help_text="the billing period the credits count against"),
        ),
        migrations.AlterField(model_name="metereventreport", name="period_start", field=models.DateField(null=True)),
        migrations.RunPython(to_periods, from_periods),
        migrations.RemoveIndex(model_name="ledgerentry", name="ledger_store_period_idx"),
        migrations.RemoveField(model_name="ledgerentry", name="period_start"),
        migrations.RemoveField(model_name="metereventreport", name="period_start"),
        migrations.AlterField(
            model_name="ledgerentry",
            name="period",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="entries",
                                    to="billing.creditperiod", help_text="the period the credits count against"),
        ),
        migrations.AlterField(
            model_name="metereventreport",
            name="period",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="meter_reports",
                                    to="billing.creditperiod"),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["period", "kind"], name="ledger_period_kind_idx"),
        ),
    ]
