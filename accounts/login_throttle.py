"""Password-guessing brakes for the dashboard and admin logins: per account and per client IP.

``LOGIN_MAX_FAILURES_PER_ACCOUNT`` failed logins for one e-mail address (from anywhere), or
``LOGIN_MAX_FAILURES_PER_IP`` failed logins from one address (for any accounts), within
``LOGIN_LOCKOUT_SECONDS`` lock that account / that address for ``LOGIN_LOCKOUT_SECONDS``: every attempt is refused
then, even with the right password. Each attempt is counted before its password is checked (and given back when
the password is right), so guesses sent all at once cannot outrun the limit. Counters live in Django's default
cache, which is Redis in production, so every gunicorn worker sees the same counts. Windows and locks are
timestamps stored with the counters (the cache's own expiry only cleans up), so the clock decides, not the cache
server.

If the cache cannot be reached, logins are not throttled (and a warning is logged): an outage of Redis must not
lock every seller out of the dashboard.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import ngettext

from accounts.throttling import client_address

logger = logging.getLogger(__name__)
KEY_PREFIX = "login-throttle"


def _buckets(request, username: str | None) -> list[tuple[str, int]]:
    """(cache key stem, failure limit) for the account and for the client IP."""
    buckets = []
    if username:
        account = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
        buckets.append((f"{KEY_PREFIX}:account:{account}", settings.LOGIN_MAX_FAILURES_PER_ACCOUNT))
    if request is not None:
        ip = hashlib.sha256(client_address(request).encode()).hexdigest()[:32]
        buckets.append((f"{KEY_PREFIX}:ip:{ip}", settings.LOGIN_MAX_FAILURES_PER_IP))
    return buckets


def retry_after(*, request, username: str | None) -> int | None:
    """Seconds until this account or address may try again, or None when it may try now."""
    now = time.time()
    try:
        locks = cache.get_many([f"{stem}:locked-until" for stem, _limit in _buckets(request, username)])
    except Exception:  # noqa: BLE001 - any cache failure: fail open, see the module docstring
        logger.warning("login throttle: cache unavailable, not throttling", exc_info=True)
        return None
    waits = [until - now for until in locks.values() if until and until > now]
    return math.ceil(max(waits)) if waits else None


def begin_attempt(*, request, username: str | None) -> int | None:
    """Count this login attempt against the account and the address *before* its password is checked; seconds to
    wait when it is refused (a lock, or the limit already used up), else None.

    Counting first keeps the limit under concurrency: of many guesses sent at once, each gets its own number from
    the cache's atomic increment, so at most the limit of them reach the password check. (Checking the lock, then
    counting after a slow password hash, let every guess in flight through.) A correct password gives the attempt
    back (``record_success``).
    """
    wait = retry_after(request=request, username=username)
    if wait:
        return wait
    try:
        over = [(stem, n) for stem, limit in _buckets(request, username) if (n := _count(stem)) > limit]
        if not over:
            return None
        for stem, _n in over:
            _lock(stem)
    except Exception:  # noqa: BLE001 - any cache failure: fail open, see the module docstring
        logger.warning("login throttle: cache unavailable, attempt not counted", exc_info=True)
        return None
    return retry_after(request=request, username=username) or settings.LOGIN_LOCKOUT_SECONDS


def record_failure(*, request, username: str | None) -> None:
    """A wrong password: lock the account / address whose allowance it used up, so that the lock is there at once
    (the next attempt would be refused by ``begin_attempt`` anyway)."""
    try:
        buckets = _buckets(request, username)
        counts = cache.get_many([f"{stem}:count" for stem, _limit in buckets])
        for stem, limit in buckets:
            if counts.get(f"{stem}:count", 0) >= limit:
                _lock(stem)
    except Exception:  # noqa: BLE001 - any cache failure: fail open
        logger.warning("login throttle: cache unavailable, failure not recorded", exc_info=True)


def _lock(stem: str) -> None:
    window = settings.LOGIN_LOCKOUT_SECONDS
    cache.add(f"{stem}:locked-until", time.time() + window, timeout=window)  # add: the first lock's end stands


def record_success(*, request, username: str | None) -> None:
    """A correct password clears the account's failures and gives the address back this attempt (never more: that
    would let one own account reset a guessing run against others)."""
    try:
        for stem, _limit in _buckets(None, username):
            cache.delete_many([f"{stem}:count", f"{stem}:since"])
        for stem, _limit in _buckets(request, None):
            with contextlib.suppress(ValueError):  # ValueError: the window ended meanwhile
                cache.decr(f"{stem}:count")
    except Exception:  # noqa: BLE001 - any cache failure: fail open
        logger.warning("login throttle: cache unavailable, success not recorded", exc_info=True)


def _count(stem: str) -> int:
    """This attempt's number in the bucket's current window (atomic: concurrent attempts get distinct numbers)."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    now = time.time()
    since = cache.get(f"{stem}:since")
    if since is not None and now - since >= window:  # the stored start, not the cache's TTL, ends a window
        cache.delete_many([f"{stem}:count", f"{stem}:since"])
    cache.add(f"{stem}:since", now, timeout=window)  # add() is atomic and never overwrites: the first one stands
    for _try in range(3):
        # Create the counter if it is missing, then count. Never set() it: an attempt that found it missing
        # would overwrite the numbers concurrent attempts had already taken (seen: 4 password checks of 12, not 3).
        cache.add(f"{stem}:count", 0, timeout=window)
        try:
            return cache.incr(f"{stem}:count")
        except ValueError:  # it expired between the two calls: create it again
            continue
    return 1


def refusal_message(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed login attempts. Try again in %(minutes)d minute.",
        "Too many failed login attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


class ThrottledModelBackend(ModelBackend):
    """``ModelBackend`` that refuses locked accounts/addresses before checking the password, and counts failures.

    Every password login goes through it (dashboard, admin); a request-less ``authenticate()`` (scripts, the test
    client's ``login()``) is not throttled.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        account = username if username is not None else kwargs.get(get_user_model().USERNAME_FIELD)
        wait = begin_attempt(request=request, username=account)
        if wait:
            request.login_throttled_for = wait  # for the login form's message
            raise PermissionDenied("login throttled")  # authenticate() turns this into a failed login
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            record_failure(request=request, username=account)
        else:
            record_success(request=request, username=account)
        return user


class ThrottledLoginFormMixin:
    """For ``AuthenticationForm`` subclasses: a locked account/address gets a clear message, not "wrong password"."""

    throttled_for: int | None = None

    def clean(self):
        username = self.cleaned_data.get("username")
        self.throttled_for = retry_after(request=self.request, username=username)
        if self.throttled_for:
            raise ValidationError(refusal_message(self.throttled_for), code="throttled")
        try:
            return super().clean()
        except ValidationError:
            # Refused by the backend without a password check (the limit was used up by attempts in flight): say so.
            self.throttled_for = getattr(self.request, "login_throttled_for", None)
            if self.throttled_for:
                raise ValidationError(refusal_message(self.throttled_for), code="throttled") from None
            raise
