"""``Prefer: wait=N`` on ``POST /api/v1/jobs/``, bounded so that waiting requests never starve the web tier.

A waiting request holds one web thread for up to N seconds, so:

- a server that handles one request at a time per process (gunicorn's sync workers: ``wsgi.multithread`` is
  false) never waits: the waiter would be the whole process;
- N is capped at ``PREFER_WAIT_MAX_SECONDS`` (30 by default);
- at most ``PREFER_WAIT_PER_PROCESS`` requests wait at once in one web process (1 by default: gunicorn runs gthread
  workers with 4 threads each, so at least 3 threads of every process stay free for everything else);
- at most ``PREFER_WAIT_PER_STORE`` requests of one store wait at once across all processes (2 by default; slots
  in the shared cache that expire by themselves if a process dies holding one);
- no database connection is held while sleeping: it is closed before each pause (polls back off 0.25 s → 1 s).

A request over a cap is answered at once, as if it had not asked to wait (``202`` while the job is unfinished),
with ``Gasang-Wait-Skipped: process-busy|store-busy|single-threaded|unavailable|disabled``; an honoured wait is
answered with ``Preference-Applied: wait=<seconds actually allowed>`` (RFC 7240). A cap at 0 turns waiting off.
``PREFER_WAIT_PER_PROCESS`` must stay below gunicorn's ``--threads``.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from core import shared_cache
from generation.models import Job

SKIPPED_HEADER = "Gasang-Wait-Skipped"
FIRST_POLL_SECONDS = 0.25
MAX_POLL_SECONDS = 1.0
SLOT_GRACE_SECONDS = 15  # a store slot outlives its wait by this much, then frees itself

_lock = threading.Lock()
_waiting_here = 0


@dataclass(frozen=True)
class WaitOutcome:
    job: Job
    asked: bool  # the request carried Prefer: wait=N (N > 0)
    headers: dict[str, str] = field(default_factory=dict)


def requested_seconds(prefer: str) -> int:
    """N of ``Prefer: wait=N`` (0 when absent); several preferences may share the header (``respond-async, wait=5``)."""
    match = re.search(r"(?:^|[,;\s])wait\s*=\s*(\d+)", prefer or "")
    return int(match.group(1)[:6]) if match else 0  # six digits are far above any cap


def job_wait_preferred(*, job: Job, store_id: int, prefer: str, multithreaded: bool) -> WaitOutcome:
    """Wait for ``job`` to finish if the request asked to and a waiter slot is free; see the module docstring.

    ``multithreaded``: the request's ``wsgi.multithread`` (whether this process serves other requests meanwhile).
    """
    asked = requested_seconds(prefer)
    if not asked:
        return WaitOutcome(job=job, asked=False)
    seconds = min(asked, settings.PREFER_WAIT_MAX_SECONDS)
    if job.is_terminal:
        return WaitOutcome(job=job, asked=True, headers={"Preference-Applied": f"wait={seconds}"})
    if seconds <= 0 or settings.PREFER_WAIT_PER_PROCESS <= 0 or settings.PREFER_WAIT_PER_STORE <= 0:
        return WaitOutcome(job=job, asked=True, headers={SKIPPED_HEADER: "disabled"})
    if not multithreaded:
        return WaitOutcome(job=job, asked=True, headers={SKIPPED_HEADER: "single-threaded"})
    if not _take_process_slot():
        return WaitOutcome(job=job, asked=True, headers={SKIPPED_HEADER: "process-busy"})
    try:
        slot, refusal = _take_store_slot(store_id, seconds + SLOT_GRACE_SECONDS)
        if slot is None:
            return WaitOutcome(job=job, asked=True, headers={SKIPPED_HEADER: refusal})
        try:
            job = _poll_until_finished(job, seconds)
        finally:
            _give_store_slot(slot)
    finally:
        _give_process_slot()
    return WaitOutcome(job=job, asked=True, headers={"Preference-Applied": f"wait={seconds}"})


def waiting_in_this_process() -> int:
    """How many requests of this process are waiting now (for tests and diagnostics)."""
    return _waiting_here


def _take_process_slot() -> bool:
    global _waiting_here
    with _lock:
        if _waiting_here >= settings.PREFER_WAIT_PER_PROCESS:
            return False
        _waiting_here += 1
        return True


def _give_process_slot() -> None:
    global _waiting_here
    with _lock:
        _waiting_here -= 1


def _take_store_slot(store_id: int, ttl: int) -> tuple[str | None, str]:
    """(the slot key taken, "") or (None, why not). ``cache.add`` is SET NX: one holder per slot, any process."""
    try:
        for number in range(settings.PREFER_WAIT_PER_STORE):
            key = f"prefer-wait:{store_id}:{number}"
            if shared_cache.call(cache.add, key, 1, ttl):
                return key, ""
    except shared_cache.Unavailable:
        return None, "unavailable"
    return None, "store-busy"


def _give_store_slot(key: str) -> None:
    with contextlib.suppress(shared_cache.Unavailable):  # else it expires by itself
        shared_cache.call(cache.delete, key)


def _poll_until_finished(job: Job, seconds: float) -> Job:
    deadline = time.monotonic() + seconds
    pause = FIRST_POLL_SECONDS
    while not job.is_terminal:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        _release_database_connection()
        time.sleep(min(pause, left))
        pause = min(pause * 1.5, MAX_POLL_SECONDS)
        try:
            job.refresh_from_db()
        except Job.DoesNotExist:  # deleted with its store meanwhile: answer with what we have
            break
    return job


def _release_database_connection() -> None:
    # Autocommit between polls: nothing is open but the connection itself; give it back while sleeping (the next
    # query reconnects). Inside an atomic block (ATOMIC_REQUESTS, a test's transaction) it must stay.
    if not connection.in_atomic_block:
        connection.close()
