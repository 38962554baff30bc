"""The outbox, applied-event ids and broker marker moved from generation to core without touching their tables:
a database at the previous schema keeps its rows, its redelivery memory and the outbox's NOTIFY trigger."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from core.events import event_apply
from core.models import AppliedEvent, BrokerMarker, OutboxMessage
from core.outbox import RelayWakeups, outbox_enqueue
from tests.accounts.factories import MembershipFactory
from tests.generation.factories import queued_job
from tests.generation.test_events_and_webhooks import event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
BEFORE = [("generation", "0006_job_lease"), ("core", None)]


def _migrate(targets) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def test_rows_and_the_notify_trigger_survive_the_move_to_core():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    job = queued_job(MembershipFactory().store)
    applied = event(job, "started")
    old = _migrate(BEFORE).loader.project_state(BEFORE[:1]).apps
    old.get_model("generation", "OutboxMessage").objects.create(task="t.old", queue="gpu", payload={"n": 1})
    old.get_model("generation", "AppliedEvent").objects.create(event_id=applied["event_id"])
    old.get_model("generation", "BrokerMarker").objects.create(name="redis", value="abc")

    _migrate(latest)

    assert OutboxMessage.objects.get(task="t.old").payload == {"n": 1}
    assert BrokerMarker.objects.get(name="redis").value == "abc"
    assert AppliedEvent.objects.filter(event_id=applied["event_id"]).exists()
    assert event_apply(applied) == "duplicate"  # applied before the move: still remembered
    if connection.vendor != "postgresql":
        return
    wakeups = RelayWakeups()
    try:
        assert wakeups.wait(0.01) is False  # listening now, nothing committed yet
        with transaction.atomic():
            outbox_enqueue(task="t.new", queue="gpu", payload={"n": 2})
        assert wakeups.wait(10) is True  # the trigger of generation 0004 still fires on the same table
    finally:
        wakeups.close()
