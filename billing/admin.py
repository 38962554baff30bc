from django.contrib import admin

from billing.models import (
    BillingAccount,
    CreditPeriod,
    CreditPrice,
    Invoice,
    LedgerEntry,
    MeterEventReport,
    Plan,
    StripeEvent,
)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "monthly_credits", "metered_overage", "watermark", "stripe_price_id", "is_public"]


@admin.register(CreditPrice)
class CreditPriceAdmin(admin.ModelAdmin):
    list_display = ["kind", "credits"]
    list_editable = ["credits"]


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ["store", "plan", "subscription_status", "past_due_since", "current_period_end", "updated_at"]
    list_filter = ["plan", "subscription_status"]
    search_fields = ["store__name", "stripe_customer_id", "stripe_subscription_id"]
    readonly_fields = ["last_event_created", "updated_at", "credit_period"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    """Append-only: grant credits with billing.services.credits_grant, never by editing rows."""

    list_display = ["id", "store", "job", "kind", "credits", "plan", "period", "created_at"]
    list_filter = ["kind"]
    search_fields = ["store__name", "job__id"]


@admin.register(CreditPeriod)
class CreditPeriodAdmin(ReadOnlyAdmin):
    """Opened and closed by billing/periods.py (jobs, plan changes, Stripe webhooks), never by hand."""

    list_display = ["id", "store", "plan", "source", "stripe_subscription_id", "starts_at", "ends_at", "provisional"]
    list_filter = ["source", "plan", "provisional"]
    search_fields = ["store__name", "stripe_subscription_id"]


@admin.register(MeterEventReport)
class MeterEventReportAdmin(ReadOnlyAdmin):
    list_display = ["job", "store", "credits", "status", "attempts", "last_error", "reported_at"]
    list_filter = ["status"]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "created", "received_at", "processed_at"]
    list_filter = ["type"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["stripe_invoice_id", "store", "number", "status", "amount_due", "amount_paid", "currency"]
    list_filter = ["status"]
