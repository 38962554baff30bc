"""How many times a job has been started, across worker crashes and redeliveries.

The worker has no database, so it counts in the broker's Redis (or, in embedded mode,
a file next to the filesystem broker). Counters expire after a day. A dispatch carries the
number of starts the database has seen (``attempts_before`` in the spec), so a counter lost
with a restarted Redis never makes a start reuse an attempt number (and so an event id).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

TTL_SECONDS = 24 * 3600


def next_attempt(job_id: str, broker_url: str, var_dir: Path, at_least: int = 1) -> int:
    """Increment and return the attempt number for ``job_id``: 1 on the first start, never below ``at_least``."""
    if broker_url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(broker_url, socket_connect_timeout=5)
        key = f"gasang:attempts:{job_id}"
        with client.pipeline() as pipe:
            count, _ = pipe.incr(key).expire(key, TTL_SECONDS).execute()
        if count < at_least:
            client.set(key, at_least, ex=TTL_SECONDS)
            count = at_least
        return int(count)
    folder = var_dir / "attempts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / job_id
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        count = max(int(handle.read() or 0) + 1, at_least)
        handle.seek(0)
        handle.truncate()
        handle.write(str(count))
        handle.flush()
        os.fsync(handle.fileno())
    return count
