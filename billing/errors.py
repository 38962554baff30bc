"""Billing refusals. They are DRF exceptions with status 402, so any API view that creates jobs answers
``{"detail": ..., "code": "quota_exceeded" | "payment_required"}`` without catching them itself."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException


class BillingRefused(APIException):
    status_code = status.HTTP_402_PAYMENT_REQUIRED


class QuotaExceeded(BillingRefused):
    """The store's plan has no credits left for this job in the current period."""

    default_detail = "Your store has no credits left this period."
    default_code = "quota_exceeded"


class PaymentRequired(BillingRefused):
    """The subscription is past due for longer than the grace period."""

    default_detail = "Your subscription payment is overdue."
    default_code = "payment_required"
