"""Sending overage to Stripe Billing Meters: one meter event per job, never twice.

Three layers keep it exactly-once: the report row is locked while it is sent (the task and the sweeper never
send the same row at the same time) and marked ``reported`` in the same transaction; the request carries a
deterministic ``Idempotency-Key`` (a retry after a lost answer replays Stripe's first answer); and the event's
``identifier`` is the job id, which Stripe deduplicates on its side.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from billing import stripe_api
from billing.models import BillingAccount, MeterEventReport

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10


def backoff_seconds(attempt: int) -> int:
    return min(3600, 30 * 2 ** max(0, attempt - 1))


def meter_report_send(*, report_id: int) -> bool | None:
    """Send one pending report. True: reported now; None: nothing to do (gone, already reported, or being
    sent by another worker); False: not sent — it stays pending for a retry, or is marked failed when Stripe
    refused it or the attempts ran out."""
    with transaction.atomic():
        report = (
            MeterEventReport.objects.select_for_update(skip_locked=True)
            .filter(pk=report_id, status=MeterEventReport.Status.PENDING)
            .first()
        )
        if report is None:
            return None
        if not report.customer_id:  # the customer may have been created after the capture
            account = BillingAccount.objects.filter(store_id=report.store_id).first()
            report.customer_id = account.stripe_customer_id if account else ""
        report.attempts += 1
        try:
            if not report.customer_id:
                raise stripe_api.StripeUnavailable("the store has no Stripe customer yet")
            stripe_api.meter_event_create(
                event_name=report.event_name,
                customer_id=report.customer_id,
                value=report.credits,
                identifier=report.identifier,
                idempotency_key=report.idempotency_key,
                timestamp=report.timestamp,
            )
        except stripe_api.StripeError as exc:
            report.last_error = f"{type(exc).__name__}: {exc}"[:300]
            if isinstance(exc, stripe_api.StripeRejected) or report.attempts >= MAX_ATTEMPTS:
                report.status = MeterEventReport.Status.FAILED
            report.save(update_fields=["attempts", "last_error", "status", "customer_id"])
            log.warning("meter event for job %s not reported: %s", report.job_id, report.last_error)
            return False
        report.status = MeterEventReport.Status.REPORTED
        report.reported_at = timezone.now()
        report.last_error = ""
        report.save(update_fields=["attempts", "last_error", "status", "customer_id", "reported_at"])
        return True


def meter_reports_send_pending(*, older_than: timedelta = timedelta(seconds=60), limit: int = 500) -> int:
    """The sweeper: send reports still pending after ``older_than`` (their own task failed or was lost)."""
    cutoff = timezone.now() - older_than
    ids = list(
        MeterEventReport.objects.filter(status=MeterEventReport.Status.PENDING, created_at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    return sum(1 for report_id in ids if meter_report_send(report_id=report_id))
