"""API rate limits: fixed-window counters in the shared cache, answered with ``429`` and ``Retry-After``.

Buckets, with rates in ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` (``API_RATE_*`` in config/env.py):

- ``job_create``: ``POST /jobs/`` and ``POST /batches/`` of one store (views set ``throttle_job_creation``);
- ``token``: every request of one API token (a dashboard session counts per user);
- ``store``: every request for one store, whichever token or member sends it;
- ``public_check``: uploads to the public content-credential check (``/check/``, no login) per client address;
- ``auth_failures``: API requests answered 401 (no, malformed, wrong, revoked or expired credentials) per client
  address. An address over it gets 429 on every API request until its window ends, valid credentials or not:
  ``FailedAuthGuard`` runs before the real authenticators, so guessing costs nothing but the 429.

A counter is one cache key per bucket and window (``INCR``: exact across processes), expiring with the window, so
a client can get up to twice a limit through across a window boundary, never more. A request turned away by one
bucket is not counted by the buckets checked after it. When the cache cannot be reached no limit is applied (the
API must outlive a Redis outage); core/shared_cache.py logs it.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from accounts.authentication import ApiTokenAuthentication
from accounts.models import ApiToken
from core import shared_cache

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PERIOD_NAMES = {1: _("second"), 60: _("minute"), 3600: _("hour"), 86400: _("day")}
MESSAGES = {
    "job_create": _(
        "Too many jobs and batches created for this store: at most %(limit)s per %(period)s. "
        "Try again in %(wait)s s."
    ),
    "token": _("Too many requests with this API token: at most %(limit)s per %(period)s. Try again in %(wait)s s."),
    "store": _("Too many requests for this store: at most %(limit)s per %(period)s. Try again in %(wait)s s."),
    "public_check": _("Too many images checked from your address: at most %(limit)s per %(period)s. "
                      "Try again in %(wait)s s."),
    "auth_failures": _(
        "Too many API requests with missing or invalid credentials from your address: at most %(limit)s per "
        "%(period)s. Try again in %(wait)s s."
    ),
}


class RateLimited(exceptions.Throttled):
    """A full bucket: 429, ``Retry-After`` (whole seconds until the window ends) and a message naming the bucket."""

    def __init__(self, *, scope: str, limit: int, period: int, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        message = MESSAGES[scope] % {"limit": limit, "period": PERIOD_NAMES[period], "wait": seconds}
        exceptions.APIException.__init__(self, message, "throttled")
        self.wait = seconds
        self.scope = scope


def rate_for(scope: str) -> tuple[int, int] | None:
    """(requests, period in seconds) of a bucket, or None when that limit is off. Read per request (settings may
    change in tests); rates look like DRF's: ``600/min``, ``10/s``, ``5000/hour``, ``100000/day``."""
    rate = (api_settings.DEFAULT_THROTTLE_RATES or {}).get(scope)
    if not rate:
        return None
    number, period = rate.split("/")
    return int(number), PERIODS[period.strip()[0]]


def _window(scope: str, ident: str, period: int) -> tuple[str, float]:
    """The counter key of the current window and the seconds left in it."""
    now = time.time()
    window = int(now // period)
    return f"throttle:{scope}:{ident}:{window}", (window + 1) * period - now


def count_request(scope: str, ident: str) -> None:
    """Count one request in a bucket; raises ``RateLimited`` when it is over the limit."""
    rate = rate_for(scope)
    if rate is None:
        return
    limit, period = rate
    key, wait = _window(scope, ident, period)
    try:
        count = shared_cache.count_hit(key, period + 1)
    except shared_cache.Unavailable:
        return
    if count > limit:
        raise RateLimited(scope=scope, limit=limit, period=period, wait=wait)


_proxy_warned = False


def client_address(request) -> str:
    """The caller's address: REMOTE_ADDR, or the X-Forwarded-For entry added by the nearest of ``NUM_PROXIES``.

    A request that came through a proxy while ``API_NUM_PROXIES`` is 0 is logged once per process: every client
    then has the proxy's address, so one client's failed logins or checks would lock out all of them."""
    global _proxy_warned
    if not api_settings.NUM_PROXIES and not _proxy_warned and request.META.get("HTTP_X_FORWARDED_FOR"):
        _proxy_warned = True
        logger.warning("a request came with X-Forwarded-For but API_NUM_PROXIES is 0: per-address limits (login, "
                       "failed authentication, public credential check) see the proxy's address for every client; "
                       "set API_NUM_PROXIES to the number of proxies in front of gunicorn")
    return BaseThrottle().get_ident(request) or "unknown"


class _StoreThrottle(BaseThrottle):
    """Counts a request in ``scope`` under ``ident()``; ``allow_request`` raises ``RateLimited`` itself, so the
    429 names the bucket (DRF's own ``throttled()`` only knows a wait)."""

    scope = ""

    def ident(self, request, view) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        ident = self.ident(request, view)
        if ident is not None:
            count_request(self.scope, ident)
        return True


def _store_id(request) -> int | None:
    store = getattr(request, "store", None)
    if store is not None:
        return store.pk
    return request.auth.store_id if isinstance(request.auth, ApiToken) else None


class JobCreateRateThrottle(_StoreThrottle):
    scope = "job_create"

    def ident(self, request, view) -> str | None:
        if request.method != "POST" or getattr(view, "action", None) != "create":
            return None
        if not getattr(view, "throttle_job_creation", False):
            return None
        store_id = _store_id(request)
        return None if store_id is None else str(store_id)


class TokenRateThrottle(_StoreThrottle):
    scope = "token"

    def ident(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            return f"t{request.auth.pk}"
        user = getattr(request, "user", None)
        return f"u{user.pk}" if user is not None and user.is_authenticated else None


class StoreRateThrottle(_StoreThrottle):
    scope = "store"

    def ident(self, request, view) -> str | None:
        store_id = _store_id(request)
        return None if store_id is None else str(store_id)


class FailedAuthGuard(BaseAuthentication):
    """The first authenticator: refuses (429) an address that has had too many 401s in the current window.

    It authenticates nobody; the failures are counted by ``record_auth_failure`` (core/api_errors.py).
    """

    def authenticate(self, request) -> None:
        rate = rate_for("auth_failures")
        if rate is None:
            return
        limit, period = rate
        key, wait = _window("auth_failures", client_address(request), period)
        try:
            failures = shared_cache.read_count(key)
        except shared_cache.Unavailable:
            return
        if failures >= limit:
            raise RateLimited(scope="auth_failures", limit=limit, period=period, wait=wait)

    def authenticate_header(self, request) -> str:
        # DRF takes the WWW-Authenticate challenge of the first authenticator: keep answering 401 with Bearer.
        return ApiTokenAuthentication().authenticate_header(request)


def record_auth_failure(request) -> None:
    """Count a 401 against the caller's address (never raises: the 401 itself is the answer)."""
    with contextlib.suppress(RateLimited):
        count_request("auth_failures", client_address(request))
