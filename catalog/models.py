"""Style presets, product shots and virtual model faces (store-private and the curated public gallery)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Store
from gpu_worker.spec import DEFAULT_OUTPUT_FORMAT, LABEL_POSITIONS, LABEL_SIZES, LABEL_TEXTS, OUTPUT_FORMATS


class StylePreset(models.Model):
    """Engine parameters a store reuses: which faces drive generation, makeup look, restore strength.

    ``params`` keys (all optional): ``face_tags`` (list[str]) gallery tags that drive generation,
    ``face_ids`` (list[int]) explicit contributor faces, ``makeup_face_id`` (int) makeup reference,
    ``makeup_strength`` and ``restore_strength`` (0..1).
    """

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="presets")
    name = models.CharField(_("name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60, blank=True)
    description = models.CharField(max_length=300, blank=True)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["store", "name"], name="preset_unique_name_per_store")]

    def __str__(self) -> str:
        return self.name


class ProductShot(models.Model):
    class Status(models.TextChoices):
        AWAITING_UPLOAD = "awaiting_upload", _("Awaiting upload")
        READY = "ready", _("Ready")

    class FacesState(models.TextChoices):
        PENDING = "pending", _("Detecting faces")
        READY = "ready", _("Faces detected")
        FAILED = "failed", _("Face detection failed")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="product_shots")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.READY)
    image = models.CharField(max_length=300, blank=True, help_text="storage key of the cleaned image")
    upload_key = models.CharField(max_length=300, blank=True, help_text="storage key a direct upload goes to")
    upload_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="when the presigned upload URL expires; unconfirmed shots are deleted after"
    )
    original_filename = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=30, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    size_bytes = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    faces = models.JSONField(default=list, blank=True, help_text="[{'box': [x, y, w, h], 'score': float}, ...]")
    faces_state = models.CharField(max_length=10, choices=FacesState.choices, default=FacesState.PENDING)
    # blank: an operator's import (manage.py import_shots) has no user; SET_NULL when the user is deleted
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["store", "-created_at"], name="shot_store_created_idx"),
            models.Index(
                fields=["upload_expires_at"],
                condition=models.Q(status="awaiting_upload"),
                name="shot_awaiting_expiry_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.original_filename or str(_("Product shot %(id)s") % {"id": self.pk})


class DirectUpload(models.Model):
    """A storage key a presigned upload URL was handed out for, kept until that URL has expired.

    A presigned POST cannot be revoked: until it expires, anyone holding it can upload again, also after the shot
    was confirmed (its cleaned image lives at another key, so the shot never changes) or deleted. Whatever lies at
    the key once the URL has expired is deleted with this row (``product_shot_uploads_expire``).
    """

    key = models.CharField(max_length=300, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.key


class ModelFace(models.Model):
    """A virtual model face. ``store`` is null for faces of the public gallery curated by admins."""

    class Source(models.TextChoices):
        GENERATED = "generated", _("Generated")
        UPLOADED = "uploaded", _("Uploaded with consent")

    class Curation(models.TextChoices):
        PRIVATE = "private", _("Private to the store")
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PUBLISHED = "published", _("Published")

    class AssetState(models.TextChoices):
        PENDING = "pending", _("Preparing the face")
        READY = "ready", _("Face prepared")
        FAILED = "failed", _("Face preparation failed")

    store = models.ForeignKey(Store, on_delete=models.CASCADE, null=True, blank=True, related_name="faces")
    name = models.CharField(max_length=100, blank=True)
    image = models.CharField(max_length=300, help_text="storage key of the face image")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GENERATED)
    tags = models.JSONField(default=list, blank=True)
    curation = models.CharField(max_length=10, choices=Curation.choices, default=Curation.PRIVATE)
    consent_given_by = models.CharField(max_length=200, blank=True)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_purpose = models.CharField(max_length=300, blank=True)
    generated_by_job = models.UUIDField(
        null=True, blank=True, help_text="the generate_face job a kept candidate came from"
    )
    curated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    curated_at = models.DateTimeField(null=True, blank=True)
    # The face analysed once by the GPU fleet (detection, landmarks, identity embedding) and stored for its jobs
    # (catalog/face_assets.py); a job whose face is not ready yet still runs, the worker analyses it in memory.
    asset_key = models.CharField(max_length=300, blank=True, help_text="storage key of the prepared face asset")
    asset_version = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="format version of the asset stored at asset_key"
    )
    asset_state = models.CharField(max_length=10, choices=AssetState.choices, default=AssetState.PENDING)
    asset_error = models.CharField(max_length=300, blank=True, help_text="why the last preparation failed")
    asset_summary = models.JSONField(default=dict, blank=True, help_text="what the worker found (JSON)")
    # A kept candidate's "not a real person" screening (generation/screening.py), shown to the curator.
    screening = models.JSONField(default=dict, blank=True, help_text="the kept candidate's screening (JSON)")
    # blank: an operator's import (manage.py import_faces) has no user; SET_NULL when the user is deleted
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["curation", "-created_at"], name="face_curation_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(source="uploaded") | models.Q(consent_given_at__isnull=False),
                name="face_uploaded_requires_consent",
            ),
            # Keeping the same candidate twice must give back the first face, never a duplicate.
            models.UniqueConstraint(
                fields=["store", "generated_by_job"],
                condition=models.Q(generated_by_job__isnull=False),
                name="face_unique_generated_by_job_per_store",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"face {self.pk}"


class StoreOptions(models.Model):
    """Per-store choices: the store model face, the visible AI label on outputs and their file format."""

    store = models.OneToOneField(Store, on_delete=models.CASCADE, related_name="options", primary_key=True)
    model_face = models.ForeignKey(ModelFace, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    visible_ai_label = models.BooleanField(default=False)
    # The visible mark's wording, corner and size (gpu_worker.spec.LABEL_*); Korean stores always carry it.
    label_text = models.CharField(max_length=20, choices=[(k, k) for k in LABEL_TEXTS], default="ai")
    label_position = models.CharField(max_length=20, choices=[(p, p) for p in LABEL_POSITIONS],
                                      default="bottom-right")
    label_size = models.CharField(max_length=10, choices=[(k, k) for k in LABEL_SIZES], default="small")
    # The results' file format (gpu_worker.spec.OUTPUT_FORMATS): PNG, or JPEG for shop platforms that want it.
    output_format = models.CharField(max_length=10, choices=[(k, k) for k in OUTPUT_FORMATS],
                                     default=DEFAULT_OUTPUT_FORMAT)

    def __str__(self) -> str:
        return f"options of {self.store}"
