"""`make run` as a newcomer runs it, for the tests: migrate, seed the demo, start ``config.run_embedded`` on a fresh
data folder and a free port, and wait for the banner it prints once the workers are up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[1]
BANNER = "Gasang is running at"
START_SECONDS = 300  # the workers import torch and the demo waits for face detection: slow on a shared 2-core box


class EmbeddedRun:
    def __init__(self, var_dir: Path, demo_photos: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        keep = {k: v for k, v in os.environ.items()
                if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND", "DJANGO_SETTINGS_MODULE"}}
        self.env = {**keep, "GASANG_VAR_DIR": str(var_dir), "PORT": str(self.port), "PYTHONUNBUFFERED": "1"}
        if demo_photos is not None:
            self.env["GASANG_DEMO_PHOTOS"] = str(demo_photos)
        self.lines: list[str] = []
        self.announced = threading.Event()
        self.process: subprocess.Popen | None = None

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True)

    def start(self) -> str:
        """migrate + seed_demo (``make run``'s steps), then the stack; returns seed_demo's output."""
        self.manage("migrate", "--noinput")
        seeded = self.manage("seed_demo").stdout
        self.process = subprocess.Popen([sys.executable, "-m", "config.run_embedded"], cwd=ROOT, env=self.env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + START_SECONDS
        while not self.announced.wait(timeout=1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError("the stack did not announce itself:\n" + "".join(self.lines[-40:]))
        return seeded

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if BANNER in line:
                self.announced.set()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> str:
        if self.alive:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        return "".join(self.lines)
