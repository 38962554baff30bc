"""Refuse NUL characters in a request's path, query string or JSON body with a 400, before any view runs.

PostgreSQL cannot store or compare text containing NUL (``\\x00``): psycopg raises on the query and ``jsonb``
refuses ``\\u0000``, so such a value would otherwise surface as a 500 from whichever view used it first. No
legitimate id, filter, tag or JSON field contains one, so one early check closes the whole class. Form fields
need no check here: Django's and DRF's CharField already refuse NUL.
"""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"
# A JSON string escape \u0000 is preceded by an even number of backslashes (``\\u0000`` is a literal backslash
# followed by "u0000"); outside strings JSON has no backslashes at all.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _nul_field(request: HttpRequest) -> str | None:
    """The name of the first part of the request that carries a NUL, else None."""
    if "\x00" in request.path:
        return "path"
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "") or "query"
    if request.content_type.endswith("json") and request.method not in ("GET", "HEAD", "OPTIONS"):
        body = request.body
        if b"\x00" in body or _JSON_NUL.search(body):
            return "body"
    return None


def _refusal(request: HttpRequest, field: str) -> HttpResponse:
    message = _("Text may not contain NUL characters.")
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"detail": message, "code": "invalid", "errors": {field: [message]}}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


class RejectNulMiddleware:
    """Answers 400 (the API's ``{"detail", "code", "errors"}`` shape under /api/) when a NUL is present."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = _nul_field(request)
        if field is not None:
            return _refusal(request, field)
        return self.get_response(request)
