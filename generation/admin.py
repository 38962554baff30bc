from django.contrib import admin

from generation.models import Batch, Job, ParentPhoto, WebhookDelivery, WebhookEndpoint


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "kind", "state", "progress", "attempts", "error_code", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    search_fields = ["id", "store__name"]
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "kind", "created_at"]


@admin.register(ParentPhoto)
class ParentPhotoAdmin(admin.ModelAdmin):
    """The consent records of second generation's parent photos (read-only: they attest what was agreed)."""

    list_display = ["id", "store", "relation", "consent_given_by", "consent_purpose", "consent_given_at"]
    search_fields = ["store__name", "consent_given_by"]
    readonly_fields = [f.name for f in ParentPhoto._meta.fields]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "store", "is_active", "created_at"]
    exclude = ["secret_encrypted"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "event_type", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event_type"]
