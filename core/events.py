"""Applying the GPU fleet's events, exactly once each: a dispatch table that the business apps fill.

Each app owns the events that change its rows and registers their handlers in its ``AppConfig.ready``
(``generation``: job events; ``catalog``: ``faces_detected``, ``face_asset_prepared``). ``event_apply`` validates
the event against ``gpu_worker.spec``, records its id (a redelivered event has no second effect) and calls the
handler, all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from django.db import IntegrityError, transaction

from core.models import AppliedEvent
from gpu_worker.spec import validate_event

Handler = Callable[[dict], str]


class _Entry(NamedTuple):
    handler: Handler
    once: bool


_HANDLERS: dict[str, _Entry] = {}


def event_handler_register(*, event_type: str, handler: Handler, once: bool = True) -> None:
    """Route ``event_type`` to ``handler``; ``once=False`` for events harmless to apply twice (not recorded)."""
    _HANDLERS[event_type] = _Entry(handler, once)


def _mark_applied(event_id: str) -> bool:
    """Record the event id; False when it was applied before (a redelivery)."""
    try:
        with transaction.atomic():
            AppliedEvent.objects.create(event_id=event_id)
    except IntegrityError:
        return False
    return True


@transaction.atomic
def event_apply(event: dict) -> str:
    """Apply one event; returns what happened ("applied", "duplicate", "ignored: <why>")."""
    event = validate_event(event)
    entry = _HANDLERS.get(event["type"])
    if entry is None:
        return f"ignored: no handler for {event['type']}"
    if entry.once and not _mark_applied(event["event_id"]):
        return "duplicate"
    return entry.handler(event)
