"""The GPU fleet's Celery tasks: run a job spec, detect faces on a product shot, prepare a face's asset.

Events out, no database."""

from __future__ import annotations

import logging
import os
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from gpu_worker import attempts, pipelines
from gpu_worker.app import BROKER_URL, VAR_DIR, app
from gpu_worker.face.errors import FaceEngineError
from gpu_worker.publish import STARTED_SECONDS, Heartbeat, publish, publish_final
from gpu_worker.spec import (
    FACE_ASSET_VERSION,
    TASK_DETECT_FACES,
    TASK_PREPARE_FACE_ASSET,
    TASK_RUN_JOB,
    SpecError,
    validate_job_spec,
)
from gpu_worker.storage import StorageError, default_storage

log = logging.getLogger(__name__)


@worker_process_init.connect
def _warm_models(**_kwargs) -> None:
    """Load neural models in the forked pool process (never in the parent, which must not touch CUDA)."""
    from gpu_worker.engines.selection import preload

    try:
        log.info("engines: %s", preload())
    except Exception:  # a broken weight install must not stop the worker: jobs fall back or fail with a reason
        log.exception("preloading neural models failed")


@app.task(name=TASK_RUN_JOB, acks_late=True, reject_on_worker_lost=True)
def run_job(spec: dict) -> None:
    try:
        spec = validate_job_spec(spec)
    except SpecError as exc:
        log.error("dropping malformed job spec: %s", exc)
        return
    job_id = spec["job_id"]
    floor = int(spec.get("attempts_before") or 0) + 1
    attempt = attempts.next_attempt(job_id, BROKER_URL, VAR_DIR, at_least=floor)
    if attempt > spec["attempt_limit"]:
        publish_final(
            "failed",
            job_id,
            attempt,
            error={
                "code": "too_many_attempts",
                "message": f"The worker stopped during this job {attempt - 1} times; giving up.",
            },
        )
        return
    # The heartbeat renews the job's lease until its outcome is sent (or this process dies).
    with Heartbeat(job_id, attempt):
        publish("started", job_id, attempt, patience=STARTED_SECONDS, worker=os.uname().nodename)
        outcome, fields = _execute(spec, attempt)
        publish_final(outcome, job_id, attempt, **fields)


def _execute(spec: dict, attempt: int) -> tuple[str, dict]:
    """Run the pipeline and store the result; returns the outcome event's type and fields."""
    job_id = spec["job_id"]
    storage = default_storage()
    try:
        result = pipelines.run(spec, storage.get, lambda pct: publish("progress", job_id, attempt, progress=pct))
        key = f"{spec['output_prefix']}result.{result.extension}"
        storage.put(key, result.data, result.mime)  # same key on every attempt: one output set
    except FaceEngineError as exc:
        error = {"code": exc.code, "message": exc.message, **({"input": exc.input} if exc.input else {})}
        return "failed", {"error": error}
    except StorageError as exc:
        return "failed", {"error": {"code": "storage_error", "message": str(exc)[:300]}}
    except SoftTimeLimitExceeded:
        return "failed", {"error": {"code": "timeout", "message": "The job ran past its time limit."}}
    except Exception as exc:  # a bug: fail the job with a reason instead of retrying forever
        log.exception("job %s crashed", job_id)
        message = f"Internal error ({type(exc).__name__}); we were notified."
        return "failed", {"error": {"code": "internal_error", "message": message}}
    return "succeeded", {"outputs": {"image": key}, "metrics": {**result.metrics, "attempt": attempt}}


@app.task(name=TASK_DETECT_FACES, acks_late=True, reject_on_worker_lost=True)
def detect_faces(spec: dict) -> None:
    from gpu_worker.face.detect import detect_boxes

    shot_id = str(spec.get("shot_id"))
    attempt_tag = uuid.uuid4().int % 10**6  # detection is idempotent; each run's event is its own
    try:
        image = pipelines.decode_image(default_storage().get(spec["image"]))
        boxes = detect_boxes(image)
    except (FaceEngineError, StorageError, KeyError) as exc:
        error = {"code": "detection_failed", "message": str(exc)[:300]}
        publish_final("faces_detected", shot_id, attempt_tag, error=error)
        return
    boxes.sort(key=lambda found: found[0][0])  # left to right: the order face_index refers to
    faces = [
        {"box": [left, top, right - left, bottom - top], "score": round(s, 3)}
        for (left, top, right, bottom), s in boxes
    ]
    publish_final("faces_detected", shot_id, attempt_tag, faces=faces)


@app.task(name=TASK_PREPARE_FACE_ASSET, acks_late=True, reject_on_worker_lost=True)
def prepare_face_asset(spec: dict) -> None:
    """Analyse a gallery face once and store the result for its jobs.

    ``spec``: ``{"face_id": str, "image": storage key, "asset_key": storage key}``. Publishes
    ``face_asset_prepared`` with ``asset={"key", "version", "summary"}``, or with ``error={"code", "message"}``
    when the face is unusable (the FaceEngineError's code: no_face, face_too_small, ...), storage fails, or this
    worker's asset format is not the FACE_ASSET_VERSION the web tier asked for. Idempotent: the same key is
    written on every run.
    """
    face_id = str(spec.get("face_id"))
    attempt_tag = uuid.uuid4().int % 10**6  # each run's event is its own; the web tier ignores stale ones
    outcome = _prepare_face_asset(spec)
    publish_final("face_asset_prepared", face_id, attempt_tag, **outcome)


def _prepare_face_asset(spec: dict) -> dict:
    """The ``face_asset_prepared`` event's fields for ``spec``: ``{"asset": ...}`` or ``{"error": ...}``."""
    try:
        from gpu_worker.face.asset import ASSET_VERSION, prepare_asset

        if ASSET_VERSION != FACE_ASSET_VERSION:  # the key's name promises FACE_ASSET_VERSION
            message = f"this worker prepares face assets of version {ASSET_VERSION}, not {FACE_ASSET_VERSION}"
            return {"error": {"code": "asset_version_mismatch", "message": message}}
        storage = default_storage()
        asset = prepare_asset(pipelines.decode_image(storage.get(spec["image"])))
        storage.put(spec["asset_key"], asset.to_bytes(), "application/octet-stream")
    except FaceEngineError as exc:
        return {"error": {"code": exc.code, "message": exc.message[:300]}}
    except StorageError as exc:
        return {"error": {"code": "storage_error", "message": str(exc)[:300]}}
    except KeyError as exc:
        return {"error": {"code": "bad_parameter", "message": f"the request lacks {exc}"}}
    except SoftTimeLimitExceeded:
        return {"error": {"code": "timeout", "message": "Preparing the face ran past its time limit."}}
    except Exception as exc:  # a bug: answer with a reason so the face does not stay pending forever
        log.exception("preparing the asset of face %s crashed", spec.get("face_id"))
        return {"error": {"code": "internal_error", "message": f"Internal error ({type(exc).__name__})."}}
    return {"asset": {"key": spec["asset_key"], "version": ASSET_VERSION, "summary": asset.summary()}}
