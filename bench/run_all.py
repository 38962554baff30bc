"""``make bench``: every benchmark in sequence with modest defaults, then a short summary.

Usage: ``.venv/bin/python bench/run_all.py [--only api_load,fault_checks,...] [--quick]``

Runs, each as its own process with a time limit (its servers are stopped by the bench itself, also when
interrupted):

- ``bench/api_load.py``: throughput and p99 of ``POST /api/v1/jobs/`` vs a no-op DRF endpoint, job overhead;
- ``bench/fault_checks.py``: 10 ``kill -9`` of the GPU worker mid-job, PostgreSQL restart under load;
- ``bench/prefer_wait.py``: ``/healthz`` latency while 3 ``Prefer: wait=60`` requests wait (no GPU worker);
- ``bench/broker_restart.py``: Redis restarted without its data mid-job (and once the GPU worker lost too):
  time for the interrupted job and the one queued behind it to end;
- ``bench/webhook_isolation.py``: another store's job latency while one store has 8 endpoints answering in 4.5 s;
- ``bench/product_quality.py``: the swap on product shots (identity, consistency, landmarks, lighting kept);
- ``bench/swap_speed.py``: the classical swap cold and warm, s/MP, face asset preparation time;
- ``bench/face_quality.py`` and ``bench/gpu_models.py --device cpu`` when those files exist (skipped otherwise).

Each bench's output goes to the console and to ``bench/out/<name>.log``; the summary to ``bench/out/summary.txt``
and ``bench/out/summary.json``. Exit status 0 when every bench that ran passed. Whole run: ~12-17 min on a 2-core
machine (``--quick``: ~5 min, fewer kills and shorter phases).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"


def steps(quick: bool) -> list[tuple[str, list[str], int]]:
    """(name, arguments after the script path, time limit in seconds)."""
    return [
        ("api_load", ["--seconds", "5" if quick else "15", "--jobs", "5" if quick else "10"], 420),
        ("fault_checks", ["--kills", "3" if quick else "10", "--visibility-timeout", "10"], 720),
        ("prefer_wait", [], 300),
        ("broker_restart", ["--rounds", "2" if quick else "3", "--worker-loss-rounds", "0" if quick else "1"], 480),
        ("webhook_isolation", ["--rounds", "2" if quick else "3"], 420),
        ("face_quality", ["--limit", "4" if quick else "12", "--out", str(OUT)], 420),
        ("product_quality", ["--sources", "3" if quick else "8", "--out", str(OUT / "product")], 600),
        ("swap_speed", [], 300),
        ("gpu_models", ["--device", "cpu", "--batches", "1", "--weights", "init", "--iters", "1", "--warmup", "0",
                        "--json", str(OUT / "gpu_models.json")], 480),
    ]


def run_step(name: str, argv: list[str], limit: int) -> dict:
    script = BENCH / f"{name}.py"
    if not script.exists():
        print(f"\n===== {name}: skipped (bench/{name}.py does not exist)", flush=True)
        return {"name": name, "status": "skipped", "seconds": 0, "verdicts": []}
    command = [sys.executable, str(script), *argv]
    print(f"\n===== {name}: {' '.join(command[1:])} (limit {limit}s)", flush=True)
    log_path = OUT / f"{name}.log"
    began = time.monotonic()
    status = "?"
    lines: list[str] = []
    with open(log_path, "w") as log:
        # Own process group, so a time-out can stop the bench and whatever it forked.
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                bufsize=1, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = began + limit
        try:
            import selectors

            selector = selectors.DefaultSelector()
            selector.register(proc.stdout, selectors.EVENT_READ)
            while True:
                if time.monotonic() > deadline:
                    status = "timeout"
                    _stop(proc)
                    break
                if not selector.select(timeout=1):
                    if proc.poll() is not None:
                        break
                    continue
                line = proc.stdout.readline()
                if not line:
                    break
                sys.stdout.write(line)
                log.write(line)
                lines.append(line.rstrip("\n"))
            proc.wait(60)
        except KeyboardInterrupt:
            print(f"\ninterrupted: stopping {name} (it stops its servers)", flush=True)
            _stop(proc)
            raise
        finally:
            if proc.poll() is None:
                _stop(proc)
    if status != "timeout":
        status = "passed" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    verdicts = [line.strip() for line in lines if "PASS" in line or "FAIL" in line]
    if not verdicts:  # a bench without PASS/FAIL lines: its last lines are its summary
        verdicts = [line.strip() for line in lines if line.strip()][-5:]
    return {"name": name, "status": status, "seconds": round(time.monotonic() - began, 1), "verdicts": verdicts,
            "log": str(log_path)}


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (the benches clean up on it), then SIGKILL after 60 s."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    except ProcessLookupError:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", type=lambda s: s.split(","), default=None, help="comma-separated bench names")
    parser.add_argument("--quick", action="store_true", help="shorter phases and fewer kills")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # unwinds: the bench is stopped
    OUT.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"make bench: {os.cpu_count()} CPU core(s), load average {load[0]:.2f} at start; figures from a shared "
          "machine are noisy", flush=True)
    began = time.monotonic()
    results = []
    for name, step_args, limit in steps(args.quick):
        if args.only and name not in args.only:
            continue
        results.append(run_step(name, step_args, limit))

    summary = [f"bench summary ({time.monotonic() - began:.0f}s in all)"]
    for result in results:
        summary.append(f"  {result['name']:<13} {result['status']:<18} {result['seconds']:>6.0f}s")
        summary.extend(f"      {line}" for line in result["verdicts"][-8:])
    text = "\n".join(summary)
    print("\n" + text, flush=True)
    (OUT / "summary.txt").write_text(text + "\n")
    (OUT / "summary.json").write_text(json.dumps(results, indent=2))
    ran = [r for r in results if r["status"] != "skipped"]
    return 0 if all(r["status"] == "passed" for r in ran) else 1


if __name__ == "__main__":
    sys.exit(main())
