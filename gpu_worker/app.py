"""The GPU fleet's Celery app. No Django, no database credentials: configuration comes from the environment.

Start a worker with ``celery -A gpu_worker.app worker -Q gpu --concurrency 1``.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_init
from kombu import Queue

from gpu_worker.spec import QUEUE_GPU, broker_transport_options

BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
VAR_DIR = Path(os.environ.get("GASANG_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
KEY_PREFIX = os.environ.get("CELERY_KEY_PREFIX", "")
# Above the task time limit (900 s), so a long job is never handed to a second worker while it runs.
VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT") or 960)

app = Celery("gasang_gpu")
app.conf.update(
    broker_url=BROKER_URL,
    broker_transport_options=broker_transport_options(BROKER_URL, str(VAR_DIR), KEY_PREFIX, VISIBILITY_TIMEOUT),
    broker_connection_retry_on_startup=True,
    task_serializer="json",
    accept_content=["json"],
    result_backend=None,
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=900,
    task_soft_time_limit=840,
    task_default_queue=QUEUE_GPU,
    task_queues=[Queue(QUEUE_GPU)],
    worker_hijack_root_logger=False,
)


@app.task(name="gpu_worker.ping")
def ping() -> str:
    """Liveness probe for the fleet: returns 'pong' (no result backend; used with eager runs and logs)."""
    return "pong"

app.conf.imports = ("gpu_worker.tasks",)


@worker_init.connect
def _require_content_credentials(**_kwargs) -> None:
    """Production refuses to start without a C2PA signer unless the operator opts out (content_credentials)."""
    from gpu_worker.content_credentials import SignerConfigError, check_signer

    try:
        check_signer()
    except SignerConfigError as exc:
        raise SystemExit(f"gasang gpu worker: {exc}") from exc  # SystemExit: celery logs and ignores Exceptions
