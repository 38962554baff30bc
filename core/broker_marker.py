"""Noticing a Redis that lost its data: the relay keeps a marker key there and its value in the database.

When the key is gone, or holds a value the database does not remember (an older snapshot), Redis lost what it
held; generation/leases.py then queues its queued jobs again.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction

from core.models import BrokerMarker

MARKER_KEY = "gasang:broker-marker"

_clients: dict[str, object] = {}


def _redis():
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None  # the embedded filesystem broker keeps its messages on disk
    if url not in _clients:
        import redis

        _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
    return _clients[url]


def broker_lost_data() -> bool:
    """Check the marker key; True when Redis lost its data since the last check (of any relay)."""
    client = _redis()
    if client is None:
        return False
    key = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "") + MARKER_KEY
    try:
        with transaction.atomic():
            marker = BrokerMarker.objects.select_for_update().filter(name="redis").first()
            current = client.get(key)
            if marker is not None and current is not None and current.decode() == marker.value:
                return False
            if current is None:
                client.set(key, uuid.uuid4().hex, nx=True)
                value = client.get(key).decode()
            else:
                value = current.decode()  # first check ever, or Redis came back from an older snapshot
            lost = marker is not None
            BrokerMarker.objects.update_or_create(name="redis", defaults={"value": value})
    except IntegrityError:  # two relays made the first marker at once: the other one's stands
        return False
    return lost
