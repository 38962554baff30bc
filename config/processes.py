"""The command lines of Gasang's own processes, shared by ``make run`` (config/run_embedded.py), the end-to-end
tests and the benches (tests/stack.py), so that all of them run the workers the same way."""

from __future__ import annotations

import sys

PYTHON = sys.executable


def gpu_worker(node: str) -> list[str]:
    # prefork with one child, so cancelling a running job can terminate it
    return [
        *(PYTHON, "-m", "celery", "-A", "gpu_worker.app", "worker", "-Q", "gpu"),
        *("--pool", "prefork", "--concurrency", "1", "--loglevel", "INFO", "-n", node),
    ]


def events_worker(node: str) -> list[str]:
    return [
        *(PYTHON, "-m", "celery", "-A", "config.celery_app", "worker", "-Q", "events,default"),
        *("--pool", "solo", "--loglevel", "INFO", "-n", node),
    ]


def webhooks_worker(node: str, concurrency: int = 8) -> list[str]:
    # Outgoing webhooks only, on their own worker so customer endpoints never delay job events. Threads: each
    # delivery mostly waits on the network (timeouts WEBHOOK_CONNECT_TIMEOUT / WEBHOOK_READ_TIMEOUT), and one
    # store may use at most WEBHOOK_MAX_IN_FLIGHT of them at once.
    return [
        *(PYTHON, "-m", "celery", "-A", "config.celery_app", "worker", "-Q", "webhooks"),
        *("--pool", "threads", "--concurrency", str(concurrency), "--loglevel", "INFO", "-n", node),
    ]


def outbox_relay(*options: str) -> list[str]:
    return [PYTHON, "manage.py", "relay_outbox", *options]


def prepare_var_dir(var_dir) -> None:
    """The folders embedded mode writes to: the filesystem broker's queues and local media."""
    for sub in ("broker/messages", "broker/control", "broker/processed", "media"):
        (var_dir / sub).mkdir(parents=True, exist_ok=True)
