from __future__ import annotations

from rest_framework import serializers

from billing.models import Invoice


class BalanceSerializer(serializers.Serializer):
    store = serializers.IntegerField(source="account.store_id")
    plan = serializers.CharField(source="account.plan.code")
    plan_name = serializers.CharField(source="account.plan.name")
    metered_overage = serializers.BooleanField(source="account.plan.metered_overage")
    watermark = serializers.BooleanField(source="account.plan.watermark")
    subscription_status = serializers.CharField(source="account.subscription_status")
    time_zone = serializers.CharField(help_text="the store's time zone: free credits reset on the 1st at 00:00 there")
    period_start = serializers.DateField(help_text="the period's first day, in the store's time zone")
    period_end = serializers.DateField(help_text="the day the next period starts, in the store's time zone")
    period_starts_at = serializers.DateTimeField(help_text="the instant the period starts")
    period_ends_at = serializers.DateTimeField(help_text="the instant the next period starts (exclusive end)")
    period_provisional = serializers.BooleanField(
        source="period.provisional",
        help_text="the subscription period ran out and Stripe has not yet reported its renewal",
    )
    allowance = serializers.IntegerField(help_text="credits included in this period (plan + granted)")
    used = serializers.IntegerField(help_text="credits taken by succeeded and running jobs")
    remaining = serializers.IntegerField()
    overage_credits = serializers.IntegerField(help_text="credits beyond the allowance, billed by metered usage")
    overage_reported = serializers.IntegerField(help_text="of which already reported to Stripe")
    past_due = serializers.BooleanField()
    past_due_since = serializers.DateTimeField(source="account.past_due_since", allow_null=True)
    jobs_paused_at = serializers.DateTimeField(allow_null=True, help_text="when new jobs get 402 unless paid")


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField(help_text="in the store's time zone")
    kind = serializers.CharField()
    jobs = serializers.IntegerField()
    credits = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    store = serializers.IntegerField()
    days = serializers.IntegerField()
    time_zone = serializers.CharField(help_text="days are counted in this time zone (the store's)")
    total_credits = serializers.IntegerField()
    results = UsageDaySerializer(many=True)


class InvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = [
            "id",
            "stripe_invoice_id",
            "number",
            "status",
            "amount_due",
            "amount_paid",
            "currency",
            "hosted_invoice_url",
            "period_start",
            "period_end",
            "created_at",
        ]


class CheckoutSerializer(serializers.Serializer):
    plan = serializers.SlugField(help_text="code of a paid plan, e.g. pro or business")
    success_url = serializers.URLField(required=False, help_text="where Stripe sends the buyer afterwards")
    cancel_url = serializers.URLField(required=False)


class PortalSerializer(serializers.Serializer):
    return_url = serializers.URLField(required=False)


class RedirectSerializer(serializers.Serializer):
    url = serializers.URLField()
