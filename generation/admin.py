from django.contrib import admin

from generation.models import Batch, Job, WebhookDelivery, WebhookEndpoint


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "kind", "state", "progress", "attempts", "error_code", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    search_fields = ["id", "store__name"]
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "kind", "created_at"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "store", "is_active", "created_at"]
    exclude = ["secret_encrypted"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "store", "event_type", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status", "event_type"]
