"""Plans, credit prices, per-store billing accounts, the append-only usage ledger and Stripe bookkeeping.

The ledger is the source of truth: a job *reserves* its price when it is created, and is settled exactly
once — *captured* when it succeeds, *released* when it fails or is canceled. PostgreSQL enforces both
"one entry of each kind per job" and "one settlement per job" with unique constraints, and a trigger
(migration 0002) refuses UPDATE and DELETE on the ledger table.

Every ledger entry belongs to one ``CreditPeriod``: a span of time with one plan and one allowance. A store's
periods never overlap (PostgreSQL: an exclusion constraint, migration 0003); billing/periods.py opens and
closes them.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Store

# The built-in plans' seeded names, as sellers read them in the dashboard's language. A name staff changed in the
# admin is shown as it is.
PLAN_DISPLAY_NAMES = {
    "Free": _("Free"),
    "Pro": _("Pro"),
    "Business": _("Business"),
    "Internal": _("Internal"),
}


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

    @property
    def display_name(self) -> str:
        """The plan's name in the active language ("무료" for the seeded "Free")."""
        return str(PLAN_DISPLAY_NAMES.get(self.name, self.name))


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


class CreditPeriod(models.Model):
    """A span of time ``[starts_at, ends_at)`` whose credits count against one plan's allowance.

    ``source`` says where the span comes from: a calendar month (stores without a live subscription; the month
    in the store's time zone, or its rest after a subscription ended) or a Stripe subscription's
    ``current_period_*``. A *provisional* period continues a subscription period that ran out before Stripe's
    renewal webhook arrived; the webhook confirms or corrects it. A store's periods never overlap: PostgreSQL
    refuses it (exclusion constraint ``creditperiod_no_overlap``, migration 0003, btree_gist); on SQLite the
    unique start and the billing account's row lock, which every writer of periods holds, stand in for it.
    """

    class Source(models.TextChoices):
        CALENDAR = "calendar", _("Calendar month allowance")
        SUBSCRIPTION = "subscription", _("Stripe subscription")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="credit_periods")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=12, choices=Source.choices)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="exclusive")
    provisional = models.BooleanField(
        default=False, help_text="a subscription period continued until Stripe reports how it renewed"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["store", "starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="creditperiod_not_empty"
            ),
            models.CheckConstraint(
                condition=(models.Q(source="calendar", stripe_subscription_id="")
                           | (models.Q(source="subscription") & ~models.Q(stripe_subscription_id=""))),
                name="creditperiod_source_matches_subscription",
            ),
            models.UniqueConstraint(fields=["store", "starts_at"], name="creditperiod_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.store} {self.plan.code} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M} UTC"

    def covers(self, at) -> bool:
        return self.starts_at <= at < self.ends_at


class BillingAccount(models.Model):
    """One per store, created lazily on the free plan. Its row lock serialises a store's credit reservations
    and every change to its credit periods."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="billing_account")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    subscription_status = models.CharField(max_length=20, choices=SubscriptionStatus.choices, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False, help_text="Stripe ends the subscription at period end")
    past_due_since = models.DateTimeField(null=True, blank=True)
    credit_period = models.ForeignKey(
        CreditPeriod, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text="the store's latest credit period (kept here so a job's reserve needs no extra query)",
    )
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
    period = models.ForeignKey(
        CreditPeriod, on_delete=models.PROTECT, related_name="entries", help_text="the period the credits count against"
    )
    note = models.CharField(max_length=200, blank=True)
    # Set by the service to the instant the period was chosen for (not auto_now_add: the two must agree).
    created_at = models.DateTimeField(default=timezone.now)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["period", "kind"], name="ledger_period_kind_idx")]
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
    period = models.ForeignKey(CreditPeriod, on_delete=models.PROTECT, related_name="meter_reports")
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
