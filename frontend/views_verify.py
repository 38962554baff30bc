"""The content-credential check: upload an image (or pick one of the store's jobs) and see whether it carries a
valid Gasang C2PA credential, what it says, and whether it was altered since it was signed.

``/verify/`` is the store's page (it also opens a job's result); ``/check/`` is the same check for anyone without a
login — a shopper, a marketplace reviewer — limited per client address (``API_RATE_PUBLIC_CHECK``)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import throttling
from catalog.images import ImageRejected, read_limited, refuse_oversized_body
from core import objectstore
from frontend.access import store_page
from frontend.errors import image_refusal_text
from generation import credentials, selectors

OUTCOMES = {
    credentials.TRUSTED: gettext_lazy("A valid Gasang content credential: Gasang signed this image and it has not "
                                      "changed since."),
    credentials.UNTRUSTED: gettext_lazy("It carries a content credential, but not one signed by a certificate this "
                                        "Gasang trusts."),
    credentials.ALTERED: gettext_lazy("The image or its credential was changed after it was signed: this is not "
                                      "the image Gasang made."),
    credentials.NONE: gettext_lazy("No content credential. Saving the image again in another program can remove "
                                   "it; the original download from Gasang has one."),
    credentials.UNREADABLE: gettext_lazy("Only PNG, JPEG and WEBP images can be checked."),
}
ACTIONS = {
    "c2pa.created": gettext_lazy("A new face made with AI"),
    "c2pa.edited": gettext_lazy("A photo whose face was replaced with an AI-made face"),
}
SOURCE_TYPES = {
    "generated": gettext_lazy("AI-generated (trained algorithmic media)"),
    "composite": gettext_lazy("A photo combined with AI-generated content (composite with trained algorithmic "
                              "media)"),
}


def _job_image(store, job_id: str) -> tuple[bytes | None, object]:
    job = selectors.store_job(store=store, job_id=job_id)
    key = (job.outputs or {}).get("image") if job is not None and job.state == "succeeded" else None
    return (objectstore.get_bytes(key) if key else None), job


def _check_upload(request) -> tuple[object, str]:
    """(verification, "") for the posted image, or (None, why not)."""
    upload = request.FILES.get("file")
    if upload is None:
        return None, _("Choose an image to check.")
    try:
        return credentials.verify_image(data=read_limited(upload)), ""
    except ImageRejected as exc:
        return None, image_refusal_text(exc)


def _result_context(result) -> dict:
    return {"outcome_text": OUTCOMES[result.outcome], "action_text": ACTIONS.get(result.action, result.action),
            "source_text": SOURCE_TYPES.get(result.source_type, result.source_type)}


@store_page()
def verify(request):
    result, error, job = None, "", None
    if request.method == "POST":
        result, error = _check_upload(request)
    elif request.GET.get("job"):
        data, job = _job_image(request.store, request.GET["job"])
        if data is None:
            error = _("This store has no finished job with that id.")
        else:
            result = credentials.verify_image(data=data)
    context = {"result": result, "error": error, "job": job}
    if result is not None:
        context.update(_result_context(result),
                       job_in_store=selectors.store_job(store=request.store, job_id=result.job_id)
                       if result.job_id else None)
    return render(request, "frontend/verify.html", context)


def _public_check(request) -> tuple[object, str, int, str | None]:
    """(verification, error, status, Retry-After) of a public check: counted per address first, then a body too
    large for any upload is refused unread."""
    try:
        throttling.count_request("public_check", throttling.client_address(request))
    except throttling.RateLimited as limited:
        return None, str(limited.detail), 429, str(limited.wait)
    try:
        refuse_oversized_body(request.META)
    except ImageRejected as exc:
        return None, image_refusal_text(exc), 413, None
    result, error = _check_upload(request)
    if error:
        return None, error, 400, None
    return result, "", 415 if result.outcome == credentials.UNREADABLE else 200, None


def public_verify(request):
    """The same upload check for anyone, signed in or not. It stores nothing and shows only what the credential
    itself says (no link into a store)."""
    result, error, status, retry_after = None, "", 200, None
    if request.method == "POST":
        result, error, status, retry_after = _public_check(request)
    context = {"result": result, "error": error, "public": True}
    if result is not None:
        context.update(_result_context(result))
    response = render(request, "frontend/verify.html", context, status=status)
    if retry_after:
        response["Retry-After"] = retry_after
    return response
