"""Event ids are part of the contract (gpu_worker.spec): the web tier applies each id once."""

from __future__ import annotations

from gpu_worker import publish
from gpu_worker.spec import event_id, validate_event


def test_published_events_carry_the_spec_ids():
    assert event_id("started", "job-1", 2) == "job-1:2:started"
    progress = publish.event("progress", "job-1", 2, progress=40)
    assert validate_event(progress)["event_id"] == "job-1:2:progress:40" == event_id("progress", "job-1", 2, number=40)
    assert publish.event("succeeded", "job-1", 2, outputs={})["event_id"] == "job-1:2:succeeded"
    assert event_id("heartbeat", "job-1", 2, number=3) == "job-1:2:heartbeat:3"
