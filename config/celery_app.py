"""The Django side's Celery app (events worker and default queue); settings are ``CELERY_*`` in config.settings."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("gasang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
