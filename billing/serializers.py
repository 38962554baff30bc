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
    period_start = serializers.DateField()
    period_end = serializers.DateField(allow_null=True)
    allowance = serializers.IntegerField(help_text="credits included in this period (plan + granted)")
    used = serializers.IntegerField(help_text="credits taken by succeeded and running jobs")
    remaining = serializers.IntegerField()
    overage_credits = serializers.IntegerField(help_text="credits beyond the allowance, billed by metered usage")
    overage_reported = serializers.IntegerField(help_text="of which already reported to Stripe")
    past_due = serializers.BooleanField()
    past_due_since = serializers.DateTimeField(source="account.past_due_since", allow_null=True)
    jobs_paused_at = serializers.DateTimeField(allow_null=True, help_text="when new jobs get 402 unless paid")


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    kind = serializers.CharField()
    jobs = serializers.IntegerField()
    credits = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    store = serializers.IntegerField()
    days = serializers.IntegerField()
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
