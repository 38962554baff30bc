"""Which parent a second-generation child resembles more, from the engine's face-descriptor distances.

The worker reports ``distances`` {"parent_a": d, "parent_b": d} (stage metadata; also ``resemblance``, lifted or
not). Lower is more alike; two distances within RESEMBLANCE_TIE of each other read as "both alike".
"""

from __future__ import annotations

import math
from typing import Any

from generation.models import Job
from gpu_worker import spec

RESEMBLANCE_TIE = spec.RESEMBLANCE_TIE  # the worker's own rule (gpu_worker/spec.py), so both tiers agree


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _distances(job: Job) -> dict | None:
    metrics = job.metrics or {}
    stages = metrics.get("stages") if isinstance(metrics.get("stages"), list) else []
    for found in (metrics.get("resemblance"), *[(s or {}).get("resemblance") for s in stages if isinstance(s, dict)],
                  *[(s or {}).get("distances") for s in stages if isinstance(s, dict)]):
        if isinstance(found, dict):
            a, b = _number(found.get("parent_a")), _number(found.get("parent_b"))
            if a is not None and b is not None:
                return {"parent_a": a, "parent_b": b}
    return None


def job_resemblance(job: Job) -> dict | None:
    """``{"parent_a": d, "parent_b": d, "nearer": "parent_a" | "parent_b" | "both"}``, or None without figures."""
    found = _distances(job)
    if found is None:
        return None
    a, b = found["parent_a"], found["parent_b"]
    nearer = "both" if abs(a - b) < RESEMBLANCE_TIE else ("parent_a" if a < b else "parent_b")
    return {**found, "nearer": nearer}
