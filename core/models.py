"""Infrastructure rows: the transactional outbox, applied-event ids, the broker marker.

They moved here from ``generation`` (migration generation 0007 / core 0001, state only): the tables keep their
names, so the outbox's NOTIFY trigger (generation migration 0004) still fires.
"""

from __future__ import annotations

from django.db import models


class OutboxMessage(models.Model):
    """A Celery message written in the same transaction as the row it announces.

    The relay publishes it after commit (and again until the broker accepts it), so an
    accepted job is never stranded by a broker outage or a crash between commit and publish.
    """

    task = models.CharField(max_length=100)
    queue = models.CharField(max_length=20)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "generation_outboxmessage"  # the table (and its NOTIFY trigger) from before the move to core
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(published_at__isnull=True), name="outbox_unpublished_idx")
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"


class BrokerMarker(models.Model):
    """The value of the marker key the outbox relay keeps in Redis: a key gone missing means Redis lost its data.

    See core/broker_marker.py (``broker_lost_data``).
    """

    name = models.CharField(max_length=40, primary_key=True)
    value = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "generation_brokermarker"

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class AppliedEvent(models.Model):
    """Event ids already applied, so a redelivered worker event has no second effect."""

    event_id = models.CharField(max_length=100, primary_key=True)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "generation_appliedevent"

    def __str__(self) -> str:
        return self.event_id
