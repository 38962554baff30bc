"""``make run``: web server + events worker + webhooks worker + GPU worker + outbox relay in the foreground,
embedded mode.

Ctrl-C (or SIGTERM) stops them all. Any child dying stops the rest, so a broken
worker is noticed instead of silently missing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import processes

ROOT = Path(__file__).resolve().parent.parent
PYTHON = processes.PYTHON


def _commands(port: str) -> dict[str, list[str]]:
    beat_schedule = Path(os.environ.get("GASANG_VAR_DIR", ROOT / "var")) / "beat-schedule"
    return {
        "web": [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        "events-worker": [*processes.events_worker("events@%h"), "--beat", "--schedule", str(beat_schedule)],
        "webhooks-worker": processes.webhooks_worker("webhooks@%h"),
        "gpu-worker": processes.gpu_worker("gpu@%h"),
        "outbox-relay": processes.outbox_relay(),
    }


def main() -> int:
    port = os.environ.get("PORT", "8000")
    var_dir = Path(os.environ.get("GASANG_VAR_DIR", ROOT / "var"))
    for sub in ("broker/messages", "broker/control", "broker/processed", "media"):
        (var_dir / sub).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GASANG_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings.local"}
    children = {name: subprocess.Popen(cmd, cwd=ROOT, env=env) for name, cmd in _commands(port).items()}
    print(f"\nGasang is running at http://127.0.0.1:{port}/  (Ctrl-C stops everything)\n", flush=True)

    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with code {child.returncode}; stopping the others", file=sys.stderr)
                exit_code, stopping = 1, True
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
