"""Identity consistency: how close each result's face is to the chosen model face, per job and per batch.

The worker's swap engine measures it and writes ``metrics["consistency"]`` =
``{"distance": float, "threshold": float, "retried": bool, "flagged": bool}`` (face-embedding distance between
the result and the chosen face; ``flagged``: the distance stayed above ``threshold``, so the face may not match the
model). These functions only read it; a job without the measurement has none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from generation.models import Job

SUMMARY_DIGITS = 4


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def job_consistency(job: Job) -> dict | None:
    """The job's consistency measurement ``{"distance", "threshold", "retried", "flagged"}``, or None without one."""
    found = (job.metrics or {}).get("consistency")
    if not isinstance(found, dict) or _number(found.get("distance")) is None:
        return None
    threshold = _number(found.get("threshold"))
    return {
        "distance": _number(found["distance"]),
        "threshold": threshold,
        "retried": bool(found.get("retried")),
        "flagged": bool(found.get("flagged")),
    }


def batch_consistency(jobs: Iterable[Job]) -> dict:
    """Over the jobs that carry a measurement: ``{"count", "mean", "spread" (max - min), "max", "flagged"}``.

    ``mean``, ``spread`` and ``max`` are None while no job has one; numbers are rounded to SUMMARY_DIGITS.
    """
    measured = [found for found in map(job_consistency, jobs) if found is not None]
    distances = [found["distance"] for found in measured]
    if not distances:
        return {"count": 0, "mean": None, "spread": None, "max": None, "flagged": 0}
    return {
        "count": len(distances),
        "mean": round(sum(distances) / len(distances), SUMMARY_DIGITS),
        "spread": round(max(distances) - min(distances), SUMMARY_DIGITS),
        "max": round(max(distances), SUMMARY_DIGITS),
        "flagged": sum(1 for found in measured if found["flagged"]),
    }
