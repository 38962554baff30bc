"""One error shape for the API: ``{"detail": "...", "code": "...", "errors": {...}}``."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

RETRY_AFTER_SECONDS = 5
# Called with the request on every 401 (accounts counts them per address: AccountsConfig.ready adds its counter).
AUTH_FAILURE_HOOKS: list = []


class DatabaseUnavailable(exceptions.APIException):
    """The database could not be reached (restart, failover) or gave up on a lock: a 503 to retry, not a 500."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "database_unavailable"
    default_detail = _(
        "Gasang's database could not be reached or was busy just now. Try again in a few seconds; send the same "
        "Idempotency-Key when creating a job, so that a request that did get through is not done twice."
    )


def exception_handler(exc, context):
    if isinstance(exc, OperationalError | InterfaceError):
        response = exception_handler(DatabaseUnavailable(), context)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed) and context.get("request"):
        for hook in AUTH_FAILURE_HOOKS:
            hook(context["request"])
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        if isinstance(data, list):
            detail, errors = " ".join(str(m) for m in data), {}
        else:
            errors = data
            first = next(iter(data.values()), "") if data else ""
            first = first[0] if isinstance(first, list) and first else first
            detail = str(first) if first else "Invalid input."
        response.data = {"detail": detail, "code": "invalid", "errors": errors}
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
        if isinstance(exc, exceptions.Throttled):
            response.data["errors"] = {}
    return response
