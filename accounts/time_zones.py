"""Store time zones: IANA names (``Asia/Seoul``), checked against the tz database Python ships with."""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

DEFAULT_STORE_TIME_ZONE = "Asia/Seoul"  # Gasang's stores are Korean first; others pick theirs


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    if value not in _known():
        raise ValidationError(
            _("“%(value)s” is not a time zone; use an IANA name such as Asia/Seoul or UTC."),
            code="invalid_time_zone",
            params={"value": value},
        )


def zone_of(name: str | None) -> zoneinfo.ZoneInfo:
    """The ZoneInfo for a stored name; the default zone for an empty or unknown one (never raises)."""
    try:
        return zoneinfo.ZoneInfo(name or DEFAULT_STORE_TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(DEFAULT_STORE_TIME_ZONE)
