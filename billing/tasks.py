"""Celery tasks of billing. Thin and idempotent: they take ids and call billing.metering."""

from __future__ import annotations

from celery import shared_task

from billing import metering
from billing.models import MeterEventReport
from billing.services import TASK_REPORT_METER_EVENT, TASK_REPORT_PENDING


@shared_task(name=TASK_REPORT_METER_EVENT, bind=True, acks_late=True, time_limit=60, max_retries=metering.MAX_ATTEMPTS)
def report_meter_event(self, payload: dict) -> bool | None:
    report_id = payload["meter_report_id"]
    sent = metering.meter_report_send(report_id=report_id)
    if sent is False and MeterEventReport.objects.filter(pk=report_id, status="pending").exists():
        raise self.retry(countdown=metering.backoff_seconds(self.request.retries + 1))
    return sent


@shared_task(name=TASK_REPORT_PENDING, acks_late=True, time_limit=300)
def report_pending_meter_events() -> int:
    """Periodic (every few minutes): report whatever is still pending."""
    return metering.meter_reports_send_pending()
