"""Jobs, batches and outgoing webhooks (the outbox is core.models)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, Store
from generation.webhook_crypto import decrypt_secret, encrypt_secret
from gpu_worker import spec


class JobKind(models.TextChoices):
    GENERATE_FACE = "generate_face", _("Generate a face")
    SWAP = "swap", _("Face swap")
    RESTORE = "restore", _("Restore")
    MAKEUP = "makeup", _("Makeup transfer")
    PIPELINE = "pipeline", _("Swap → restore → makeup")
    SECOND_GENERATION = "second_generation", _("Second generation")


# The kinds themselves are defined once, in the shared contract; this enum only adds the labels.
if tuple(JobKind.values) != spec.JOB_KINDS:
    raise ImportError(f"generation.JobKind {JobKind.values} differs from gpu_worker.spec.JOB_KINDS {spec.JOB_KINDS}")

class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Canceled")


TERMINAL_STATES = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELED)


class JobQuerySet(models.QuerySet):
    def active(self):
        return self.exclude(state__in=TERMINAL_STATES)


class Batch(models.Model):
    """One face over N product shots: N pipeline jobs that finish independently."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="batches")
    face = models.ForeignKey("catalog.ModelFace", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=JobKind.choices, default=JobKind.PIPELINE)
    params = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"batch {self.pk}"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="jobs")
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, null=True, blank=True, related_name="jobs")
    kind = models.CharField(max_length=20, choices=JobKind.choices)
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    inputs = models.JSONField(default=dict, help_text="references to the store's own objects, e.g. {'face': 3}")
    input_keys = models.JSONField(default=dict, help_text="storage keys resolved from inputs at creation")
    params = models.JSONField(default=dict, blank=True)
    outputs = models.JSONField(default=dict, blank=True, help_text="{'image': storage key, ...}")
    outputs_discarded_at = models.DateTimeField(
        null=True, blank=True, help_text="when the store discarded the outputs (their objects are deleted)"
    )
    metrics = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    error_input = models.CharField(
        max_length=40, blank=True, help_text="the engine role of the input at fault, e.g. face_1 or parent_b"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 - NULL = no key
    request_fingerprint = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_by_token = models.ForeignKey(ApiToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="last time a spec was queued for it")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="a running job's worker events renew this; past it the relay re-queues it"
    )

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["store", "-created_at"], name="job_store_created_idx"),
            models.Index(fields=["store", "state"], name="job_store_state_idx"),
            models.Index(
                fields=["lease_expires_at"], condition=models.Q(state="running"), name="job_running_lease_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="job_unique_idempotency_key_per_store",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.state})"

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def is_discarded(self) -> bool:
        return self.outputs_discarded_at is not None


class ParentPhoto(models.Model):
    """A parent photo uploaded for second generation, private to the store, with its consent record.

    Not a gallery face: it is only ever an input of the store's second_generation jobs (``parent_a_photo`` /
    ``parent_b_photo``). Who attested, how the parent is called (the result page's wording), for what, and when.
    """

    class Relation(models.TextChoices):
        MOTHER = "mother", _("Mother")
        FATHER = "father", _("Father")
        PARENT = "parent", _("Parent")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="parent_photos")
    image = models.CharField(max_length=300, help_text="storage key of the cleaned photo")
    relation = models.CharField(max_length=10, choices=Relation.choices, default=Relation.PARENT)
    consent_given_by = models.CharField(max_length=200)
    consent_purpose = models.CharField(max_length=300)
    consent_given_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["store", "-created_at"], name="parent_photo_store_created_idx")]

    def __str__(self) -> str:
        return f"parent photo {self.pk} ({self.relation})"


class WebhookEndpoint(models.Model):
    class Event(models.TextChoices):
        STARTED = "job.started", _("Job started")
        COMPLETED = "job.completed", _("Job completed")
        FAILED = "job.failed", _("Job failed")
        CANCELED = "job.canceled", _("Job canceled")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, blank=True, help_text="event types to send; empty means all")
    secret_encrypted = models.CharField(
        max_length=400, help_text="the signing secret, encrypted with WEBHOOK_SECRET_KEY (generation/webhook_crypto.py)"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.url

    @property
    def secret(self) -> str:
        """The signing secret in plaintext (``whsec_…``); only its encryption is stored."""
        return decrypt_secret(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encrypt_secret(value)

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.events or event_type in self.events)


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="webhook_deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=30)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Set while one worker sends it (no row lock is held meanwhile); another worker may take it over after that.
    claim_id = models.UUIDField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["store", "claimed_until"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_inflight_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"
