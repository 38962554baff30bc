"""Never a real person: a generated candidate screened against every face the store or the public gallery holds.

The engine screens a candidate against its own contributors only (``metrics["screening"]``: ``margin``,
``nearest_contributor``, ``max_weight``, ``weight_limit``, ``passed``) and reports the candidate's dlib face
descriptor (``metrics["embedding"]``, 128 floats). When the job succeeds, ``job_screen`` adds the distance to the
nearest face of the store and of the published gallery (uploads of real people included) and the verdict:

``{..engine's fields.., "engine_passed": bool, "nearest_face": {"id", "name", "distance"} | None,
"gallery_margin": NOT_A_REAL_PERSON_MARGIN, "faces_checked": int, "passed": bool, "reason": code}``

``reason`` is "" for a passing candidate, else one of REASONS. A candidate that did not pass cannot be kept
(generation/candidates.py); a kept one carries its screening (``ModelFace.screening``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

from catalog import selectors as catalog
from catalog.models import ModelFace
from generation.models import Job, JobKind
from gpu_worker import spec

# The margin is defined once, beside the worker's contract, with how it was measured (gpu_worker/spec.py).
NOT_A_REAL_PERSON_MARGIN = spec.NOT_A_REAL_PERSON_MARGIN
EMBEDDING_SIZE = 128
DIGITS = 4

NEAR_EXISTING_FACE = "near_existing_face"  # closer than the margin to a face of the store or the gallery
NEAR_CONTRIBUTOR = "near_contributor"  # the engine: closer than its margin to one of its contributors
DOMINATED = "dominated_by_contributor"  # the engine: one contributor's weight above its limit
NOT_MEASURED = "not_measured"  # no descriptor came back: nothing says it is not a real person
REASONS = (NEAR_EXISTING_FACE, NEAR_CONTRIBUTOR, DOMINATED, NOT_MEASURED)


# Distances use math.dist (Euclidean, in C): 128 numbers per face is little work, and the web image carries no
# numpy (requirements/web.txt), so the web tier does not need it for this.
def as_embedding(value: Any) -> tuple[float, ...] | None:
    """``value`` as a 128-number descriptor, or None unless it is a list of 128 finite numbers."""
    if not isinstance(value, list) or len(value) != EMBEDDING_SIZE:
        return None
    if not all(_number(v) is not None for v in value):
        return None
    return tuple(float(v) for v in value)


def face_embedding(face: ModelFace) -> tuple[float, ...] | None:
    """The descriptor the worker stored with the face's asset (``asset_summary["embedding"]``), or None."""
    return as_embedding((face.asset_summary or {}).get("embedding"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def nearest_face(embedding: tuple[float, ...], faces: Iterable[ModelFace]) -> tuple[dict | None, int]:
    """The face nearest to ``embedding`` as ``{"id", "name", "distance"}`` (None when no face has a descriptor),
    and how many faces were compared."""
    best, best_distance, checked = None, math.inf, 0
    for face in faces:
        vector = face_embedding(face)
        if vector is None:
            continue
        checked += 1
        distance = math.dist(vector, embedding)
        if distance < best_distance:
            best, best_distance = face, distance
    if best is None:
        return None, 0
    return {"id": best.pk, "name": best.name, "distance": round(best_distance, DIGITS)}, checked


def _engine_reason(engine: dict) -> str:
    """Why the engine's own screening failed (the contract has ``passed`` and the figures, not a code)."""
    weight, limit = _number(engine.get("max_weight")), _number(engine.get("weight_limit"))
    return DOMINATED if weight is not None and limit is not None and weight > limit else NEAR_CONTRIBUTOR


def candidate_screening(*, store, metrics: dict) -> dict:
    """The full screening of a candidate whose job ``metrics`` came from the worker (see the module docstring)."""
    engine = metrics.get("screening") if isinstance(metrics.get("screening"), dict) else {}
    embedding = as_embedding(metrics.get("embedding"))
    result = {**engine, "engine_passed": engine.get("passed") is True, "nearest_face": None,
              "gallery_margin": NOT_A_REAL_PERSON_MARGIN, "faces_checked": 0}
    if embedding is None:
        return {**result, "passed": False, "reason": NOT_MEASURED}
    nearest, checked = nearest_face(embedding, catalog.usable_faces(store=store).only(
        "pk", "name", "asset_summary").order_by())
    result.update(nearest_face=nearest, faces_checked=checked)
    if nearest is not None and nearest["distance"] < NOT_A_REAL_PERSON_MARGIN:
        return {**result, "passed": False, "reason": NEAR_EXISTING_FACE}
    if engine and engine.get("passed") is not True:
        return {**result, "passed": False, "reason": _engine_reason(engine)}
    return {**result, "passed": True, "reason": ""}


def job_screen(job: Job) -> None:
    """Screen a succeeded generate_face job in place (its ``metrics["screening"]``); other kinds are left alone."""
    if job.kind != JobKind.GENERATE_FACE:
        return
    job.metrics = {**job.metrics, "screening": candidate_screening(store=job.store, metrics=job.metrics)}


def job_screening(job: Job) -> dict | None:
    """The job's screening verdict, or None for a job never screened (made before screening existed)."""
    found = (job.metrics or {}).get("screening")
    if not isinstance(found, dict) or "gallery_margin" not in found:
        return None
    return found


def candidates_spread(jobs: Iterable[Job]) -> dict:
    """How different a request's candidates are: ``{"count", "min", "mean"}`` of the pairwise descriptor
    distances among the candidates that have one (``min``/``mean`` None below two)."""
    vectors = [v for v in (as_embedding((job.metrics or {}).get("embedding")) for job in jobs) if v is not None]
    pairs = [math.dist(a, b) for a, b in itertools.combinations(vectors, 2)]
    if not pairs:
        return {"count": len(vectors), "min": None, "mean": None}
    return {"count": len(vectors), "min": round(min(pairs), DIGITS), "mean": round(sum(pairs) / len(pairs), DIGITS)}
