"""Turning a service's ValidationError into form errors or one plain sentence."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from catalog.images import ImageRejected


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


# ImageRejected explains itself in English (it is the API's wording); the page says it in the reader's language,
# with the same sentences as the product shot upload.
IMAGE_REFUSALS = {
    "heic": gettext_lazy("HEIC/HEIF photos are not supported. Export the photo as JPEG, then upload it again."),
    "unsupported_format": gettext_lazy(
        "Only JPEG, PNG and WEBP photos can be uploaded. Save the file as JPEG, then upload it again."),
    "too_large": gettext_lazy("The file is too large. Each photo can be up to 20 MB."),
    "too_many_pixels": gettext_lazy(
        "The image has too many pixels (the limit is 40 megapixels). Make it smaller, then upload it again."),
    "corrupt_image": gettext_lazy(
        "The image file is damaged and cannot be read. Save the original again, then upload it."),
    "empty_file": gettext_lazy("The file is empty (0 bytes). Choose another file."),
}


def image_refusal_text(exc: ImageRejected) -> str:
    code = exc.code
    if code == "unsupported_format" and ("HEIC" in exc.message or "HEIF" in exc.message):
        code = "heic"
    return str(IMAGE_REFUSALS.get(code, exc.message))
