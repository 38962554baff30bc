from django.contrib import admin

from core.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "queue", "created_at", "published_at", "publish_attempts", "last_error"]
    list_filter = ["task", "queue"]
