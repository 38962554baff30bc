"""The GPU fleet's Celery tasks: run a job spec, detect faces on a product shot. Events out, no database."""

from __future__ import annotations

import logging
import os
import time
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_process_init

from gpu_worker import attempts, pipelines
from gpu_worker.app import BROKER_URL, VAR_DIR, app
from gpu_worker.face.errors import FaceEngineError
from gpu_worker.spec import (
    QUEUE_EVENTS,
    TASK_APPLY_EVENT,
    TASK_DETECT_FACES,
    TASK_RUN_JOB,
    SpecError,
    validate_job_spec,
)
from gpu_worker.storage import StorageError, default_storage

log = logging.getLogger(__name__)


@worker_process_init.connect
def _warm_models(**_kwargs) -> None:
    """Load neural models in the forked pool process (never in the parent, which must not touch CUDA)."""
    from gpu_worker.neural.selection import preload

    try:
        log.info("engines: %s", preload())
    except Exception:  # a broken weight install must not stop the worker: jobs fall back or fail with a reason
        log.exception("preloading neural models failed")


def publish(event_type: str, subject: str, attempt: int, **fields) -> None:
    suffix = f":{fields['progress']}" if event_type == "progress" else ""
    event = {
        "event_id": f"{subject}:{attempt}:{event_type}{suffix}",
        "type": event_type,
        "subject": subject,
        "attempt": attempt,
        "at": time.time(),
        **fields,
    }
    app.send_task(TASK_APPLY_EVENT, args=[event], queue=QUEUE_EVENTS)


@app.task(name=TASK_RUN_JOB, acks_late=True, reject_on_worker_lost=True)
def run_job(spec: dict) -> None:
    try:
        spec = validate_job_spec(spec)
    except SpecError as exc:
        log.error("dropping malformed job spec: %s", exc)
        return
    job_id = spec["job_id"]
    attempt = attempts.next_attempt(job_id, BROKER_URL, VAR_DIR)
    if attempt > spec["attempt_limit"]:
        publish(
            "failed",
            job_id,
            attempt,
            error={
                "code": "too_many_attempts",
                "message": f"The worker stopped during this job {attempt - 1} times; giving up.",
            },
        )
        return
    publish("started", job_id, attempt, worker=os.uname().nodename)
    storage = default_storage()
    try:
        result = pipelines.run(spec, storage.get, lambda pct: publish("progress", job_id, attempt, progress=pct))
        key = f"{spec['output_prefix']}result.png"
        storage.put(key, result.png, "image/png")  # same key on every attempt: one output set
    except FaceEngineError as exc:
        publish("failed", job_id, attempt, error={"code": exc.code, "message": exc.message})
        return
    except StorageError as exc:
        publish("failed", job_id, attempt, error={"code": "storage_error", "message": str(exc)[:300]})
        return
    except SoftTimeLimitExceeded:
        publish("failed", job_id, attempt, error={"code": "timeout", "message": "The job ran past its time limit."})
        return
    except Exception as exc:  # a bug: fail the job with a reason instead of retrying forever
        log.exception("job %s crashed", job_id)
        publish(
            "failed",
            job_id,
            attempt,
            error={"code": "internal_error", "message": f"Internal error ({type(exc).__name__}); we were notified."},
        )
        return
    publish("succeeded", job_id, attempt, outputs={"image": key}, metrics={**result.metrics, "attempt": attempt})


@app.task(name=TASK_DETECT_FACES, acks_late=True, reject_on_worker_lost=True)
def detect_faces(spec: dict) -> None:
    from gpu_worker.face.detect import detect_boxes

    shot_id = str(spec.get("shot_id"))
    attempt_tag = uuid.uuid4().int % 10**6  # detection is idempotent; each run's event is its own
    try:
        image = pipelines.decode_image(default_storage().get(spec["image"]))
        boxes = detect_boxes(image)
    except (FaceEngineError, StorageError, KeyError) as exc:
        publish("faces_detected", shot_id, attempt_tag, error={"code": "detection_failed", "message": str(exc)[:300]})
        return
    boxes.sort(key=lambda found: found[0][0])  # left to right: the order face_index refers to
    faces = [
        {"box": [left, top, right - left, bottom - top], "score": round(s, 3)}
        for (left, top, right, bottom), s in boxes
    ]
    publish("faces_detected", shot_id, attempt_tag, faces=faces)
