"""Plans, credit prices, per-store billing accounts, the append-only usage ledger and Stripe bookkeeping.

The ledger is the source of truth: a job *reserves* its price when it is created, and is settled exactly
once — *captured* when it succeeds, *released* when it fails or is canceled. PostgreSQL enforces both
"one entry of each kind per job" and "one settlement per job" with unique constraints, and a trigger
(migration 0002) refuses UPDATE and DELETE on the ledger table.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Store


class Plan(models.Model):
    code = models.SlugField(max_length=30, unique=True, help_text="free, pro, business, ...")
    name = models.CharField(max_length=60)
    monthly_credits = models.PositiveIntegerField(help_text="credits included in each billing period")
    metered_overage = models.BooleanField(
        default=False, help_text="beyond the allowance, credits are billed as Stripe meter events instead of refused"
    )
    watermark = models.BooleanField(default=False, help_text="outputs carry the visible AI label and a watermark")
    stripe_price_id = models.CharField(max_length=100, blank=True, help_text="the subscription's base price")
    stripe_overage_price_id = models.CharField(
        max_length=100, blank=True, help_text="the metered price attached to the overage meter"
    )
    is_public = models.BooleanField(default=True, help_text="offered in Checkout")

    class Meta:
        ordering = ["monthly_credits", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_paid(self) -> bool:
        return bool(self.stripe_price_id)


class CreditPrice(models.Model):
    """How many credits one job of a kind costs. Editable by admins; the price is fixed at reservation."""

    kind = models.CharField(max_length=20, unique=True)  # generation.models.JobKind values
    credits = models.PositiveIntegerField()

    class Meta:
        ordering = ["kind"]
        constraints = [models.CheckConstraint(condition=models.Q(credits__gt=0), name="creditprice_positive")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.credits}"


class SubscriptionStatus(models.TextChoices):
    NONE = "", _("No subscription")
    INCOMPLETE = "incomplete", _("Incomplete")
    INCOMPLETE_EXPIRED = "incomplete_expired", _("Incomplete, expired")
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    CANCELED = "canceled", _("Canceled")
    UNPAID = "unpaid", _("Unpaid")
    PAUSED = "paused", _("Paused")


class BillingAccount(models.Model):
    """One per store, created lazily on the free plan. Its row lock serialises a store's credit reservations."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="billing_account")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    subscription_status = models.CharField(max_length=20, choices=SubscriptionStatus.choices, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    last_event_created = models.BigIntegerField(default=0, help_text="`created` of the newest Stripe event applied")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~models.Q(stripe_customer_id=""),
                name="billingaccount_unique_customer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store} ({self.plan.code})"


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("billing ledger entries are append-only")

    def delete(self):
        raise TypeError("billing ledger entries are append-only")


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        RESERVE = "reserve", _("Reserve")
        CAPTURE = "capture", _("Capture")
        RELEASE = "release", _("Release")
        ADJUSTMENT = "adjustment", _("Adjustment (credits granted)")

    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="ledger_entries")
    job = models.ForeignKey(
        "generation.Job", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    credits = models.PositiveIntegerField()
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+", help_text="the plan that priced it")
    period_start = models.DateField(help_text="the billing period the credits count against")
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["store", "period_start", "kind"], name="ledger_store_period_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(credits__gt=0), name="ledger_credits_positive"),
            models.CheckConstraint(
                condition=models.Q(kind="adjustment") | models.Q(job__isnull=False), name="ledger_job_entries_have_job"
            ),
            models.UniqueConstraint(fields=["job", "kind"], name="ledger_one_entry_per_job_and_kind"),
            models.UniqueConstraint(
                fields=["job"],
                condition=models.Q(kind__in=["capture", "release"]),
                name="ledger_one_settlement_per_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.credits} ({self.store}, job {self.job_id})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("billing ledger entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("billing ledger entries are append-only")


class MeterEventReport(models.Model):
    """One Stripe meter event for one job's overage credits; reported at most once (identifier = job id)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        REPORTED = "reported", _("Reported")
        FAILED = "failed", _("Gave up")

    job = models.OneToOneField("generation.Job", on_delete=models.PROTECT, related_name="meter_event_report")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="meter_event_reports")
    period_start = models.DateField()
    credits = models.PositiveIntegerField()
    event_name = models.CharField(max_length=100)
    identifier = models.CharField(max_length=100, unique=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    customer_id = models.CharField(max_length=100, blank=True)
    timestamp = models.BigIntegerField(help_text="when the usage happened (Unix seconds)")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(status="pending"), name="meter_report_pending_idx")
        ]

    def __str__(self) -> str:
        return f"{self.credits} credits for job {self.job_id} ({self.status})"


class StripeEvent(models.Model):
    """Stripe webhook event ids already applied: a redelivery has no second effect."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    created = models.BigIntegerField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Invoice(models.Model):
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="invoices")
    stripe_invoice_id = models.CharField(max_length=100, unique=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, blank=True)
    amount_due = models.BigIntegerField(default=0, help_text="in the currency's smallest unit")
    amount_paid = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(help_text="when Stripe created it")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id
