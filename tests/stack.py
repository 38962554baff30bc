"""Real worker processes for end-to-end tests: GPU worker, events worker, webhooks worker and outbox relay.

They run against the test database (committed data: use ``django_db(transaction=True)``),
the suite's Redis broker (with this run's key prefix) and an S3-API server on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from config import processes
from tests.c2pa_pki import stack_pki

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        raise RuntimeError(f"the end-to-end stack needs PostgreSQL, not {db}")
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT']}/{connection.settings_dict['NAME']}"


@dataclass
class Stack:
    env: dict[str, str]
    log_dir: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    QUIET = ("--without-mingle", "--without-gossip")
    COMMANDS = {
        "gpu": [*processes.gpu_worker("gpu-test@%h"), *QUIET],
        "events": [*processes.events_worker("events-test@%h"), *QUIET],
        "webhooks": [*processes.webhooks_worker("webhooks-test@%h"), *QUIET],
        "relay": processes.outbox_relay("--interval", "0.3"),
        "web": [
            *(sys.executable, "-m", "gunicorn", "config.wsgi:application", "--workers", "2"),
            *("--worker-class", "gthread", "--threads", "4", "--timeout", "90"),  # as in docker/web.Dockerfile
        ],
    }

    def start(self, name: str, *extra: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [*self.COMMANDS[name], *extra],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs[name] = proc
        return proc

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)  # the whole process group: a prefork child dies with its parent
            proc.wait(30)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name, signal.SIGTERM)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def stack_env(s3, bucket: str, broker_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url or settings.CELERY_BROKER_URL,
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "S3_BUCKET": bucket,
        "S3_ACCESS_KEY_ID": s3.access_key,
        "S3_SECRET_ACCESS_KEY": s3.secret_key,
        "PYTHONUNBUFFERED": "1",
    }
    # Every job output is signed with a throwaway certificate, as an operator's would sign it (#18).
    pki = stack_pki()
    env.update({"GASANG_C2PA_CERT": pki["cert"], "GASANG_C2PA_KEY": pki["key"]})
    return env


def wait_until(predicate, timeout: float, what: str, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
