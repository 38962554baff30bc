"""Celery tasks of the catalog. Thin: they call services and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from catalog import services

TASK_EXPIRE_UPLOADS = "catalog.expire_direct_uploads"


@shared_task(name=TASK_EXPIRE_UPLOADS, acks_late=True, time_limit=300)
def expire_direct_uploads() -> list[int]:
    """Periodic (Celery beat, every 10 minutes): clean direct uploads whose URL expired."""
    return list(services.product_shot_uploads_expire())
