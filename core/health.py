"""``/healthz``: answered first, before the HTTPS redirect and host validation.

A health probe (the compose healthcheck, a load balancer, Kubernetes) talks plain HTTP to the container's own
address. Behind the TLS-terminating proxy the production settings assume, every other request is redirected to
https (``SECURE_SSL_REDIRECT``) unless the proxy says it was https, and refused with 400 unless its Host is in
``ALLOWED_HOSTS`` — a probe is neither. This middleware, first in ``MIDDLEWARE``, answers ``GET``/``HEAD
/healthz`` itself. The answer is a constant and uses nothing from the Host header, so skipping those checks for
it is safe; every other path goes through them as before.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

HEALTH_PATH = "/healthz"


def healthz(request: HttpRequest) -> JsonResponse:
    """The web process is up and loaded the application (it does not check the database)."""
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            response = healthz(request)
            if request.method == "HEAD":
                response.content = b""
            return response
        return self.get_response(request)
