"""Turning a service's ValidationError into form errors or one plain sentence."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Attach a service's errors to the matching fields (others become form-wide errors)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def service_error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def billing_refusal_text(exc) -> str:
    """A billing refusal (402) in plain words, with what to do next."""
    from django.utils.translation import gettext as _

    from billing.errors import PaymentRequired

    if isinstance(exc, PaymentRequired):
        return _("Your payment is overdue, so new jobs are paused. Update your payment method under "
                 "Settings → Billing.")
    return _("Your store has run out of credits for this period. Upgrade your plan under Settings → Billing, "
             "then try again.")
