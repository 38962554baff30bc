"""``make run``: web server + events worker + webhooks worker + GPU worker + outbox relay in the foreground,
embedded mode.

Each child's output is shown prefixed with its name. Once every worker says it is ready, the demo batch is started
(generation/demo.py) and the URL and demo login are printed last, so they do not scroll away under the workers'
banners. Ctrl-C (or SIGTERM) stops them all. Any child dying stops the rest, so a broken worker is noticed instead
of silently missing.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from config import processes

ROOT = Path(__file__).resolve().parent.parent
PYTHON = processes.PYTHON
WORKERS = ("events-worker", "webhooks-worker", "gpu-worker")
READY_MARK = " ready."  # Celery's "celery@host ready." once a worker consumes
READY_SECONDS = 180


def _commands(port: str) -> dict[str, list[str]]:
    beat_schedule = Path(os.environ.get("GASANG_VAR_DIR", ROOT / "var")) / "beat-schedule"
    return {
        "web": [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        "events-worker": [*processes.events_worker("events@%h"), "--beat", "--schedule", str(beat_schedule)],
        "webhooks-worker": processes.webhooks_worker("webhooks@%h"),
        "gpu-worker": processes.gpu_worker("gpu@%h"),
        "outbox-relay": processes.outbox_relay(),
    }


class Child:
    """A process whose output is forwarded line by line, prefixed with its name; notes when it says it is ready."""

    width = max(len(name) for name in ("web", "outbox-relay", *WORKERS))

    def __init__(self, name: str, command: list[str], env: dict) -> None:
        self.name = name
        self.ready = threading.Event()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, bufsize=1, errors="replace")
        threading.Thread(target=self._forward, daemon=True).start()

    def _forward(self) -> None:
        for line in self.process.stdout:
            if READY_MARK in line:
                self.ready.set()
            print(f"{self.name:>{self.width}} | {line}", end="", flush=True)


def _banner(port: str) -> str:
    from generation.demo import DEMO_EMAIL, DEMO_PASSWORD  # after setup: it reads the models

    rule = "=" * 64
    return (f"\n{rule}\n  Gasang is running at http://127.0.0.1:{port}/\n"
            f"  Log in as  {DEMO_EMAIL}  /  {DEMO_PASSWORD}\n  Ctrl-C stops everything.\n{rule}\n")


def _announce_when_ready(children: dict[str, Child], port: str, env: dict) -> None:
    deadline = time.monotonic() + READY_SECONDS
    for name in WORKERS:
        if not children[name].ready.wait(timeout=max(0.0, deadline - time.monotonic())):
            print(f"!!! {name} did not report ready within {READY_SECONDS}s", file=sys.stderr, flush=True)
    subprocess.run([PYTHON, "manage.py", "seed_demo", "--start-batch"], cwd=ROOT, env=env, check=False)
    import django

    django.setup()
    print(_banner(port), flush=True)


def _development_signer(env: dict, var_dir: Path) -> dict:
    """Without an operator's signer, outputs are signed with a throwaway development certificate (made once under
    var/c2pa/) that the verification page trusts, so the demo shows what production does."""
    if env.get("GASANG_C2PA_CERT") or env.get("GASANG_C2PA_SIGN_HOOK"):
        return {}
    from gpu_worker.tools.dev_certificate import development_signer

    made = development_signer(var_dir / "c2pa")
    return {"GASANG_C2PA_CERT": made["cert"], "GASANG_C2PA_KEY": made["key"],
            "GASANG_C2PA_TRUST": env.get("GASANG_C2PA_TRUST") or made["ca"]}


def main() -> int:
    port = os.environ.get("PORT", "8000")
    var_dir = Path(os.environ.get("GASANG_VAR_DIR", ROOT / "var"))
    processes.prepare_var_dir(var_dir)
    env = {**os.environ, "GASANG_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings.local",
           "PYTHONUNBUFFERED": "1"}
    os.environ.update({"GASANG_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "config.settings.local"})
    env.update(_development_signer(env, var_dir))
    children = {name: Child(name, cmd, env) for name, cmd in _commands(port).items()}
    threading.Thread(target=_announce_when_ready, args=(children, port, env), daemon=True).start()

    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.process.poll() is not None:
                print(f"{name} exited with code {child.process.returncode}; stopping the others", file=sys.stderr)
                exit_code, stopping = 1, True
        time.sleep(0.5)
    for child in children.values():
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
