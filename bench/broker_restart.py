"""Issue 12 point 7: how long a job interrupted by a broker restart takes to end.

Usage::

    .venv/bin/python bench/broker_restart.py                       # 3 rounds + 1 round where the worker dies too
    .venv/bin/python bench/broker_restart.py --rounds 5 --down-seconds 10 --worker-loss-rounds 0

A private ``redis-server`` without persistence is the broker (the other services as in ``harness.bench_env``);
one GPU worker, so the second job of each round waits in the broker behind the first. Each round posts two
pipeline jobs A and B; once A runs: SIGSTOP the GPU worker (A held mid-run), SIGKILL Redis (A's unacked message
and B's queued one are lost with it), SIGCONT the worker (A goes on while Redis is down: its events cannot be
sent), hold Redis down ``--down-seconds``, start it again on the same port. Both jobs must end ``succeeded``:
A through its worker resending its outcome, B through the relay noticing the lost data (its marker key).
Figures: broker down -> A ended, broker back -> A ended, broker back -> B ended.

``--worker-loss-rounds``: the same, but the GPU worker is also SIGKILLed while Redis is down (and a new one started
when Redis is back): A ends only through its lease (``JOB_LEASE_SECONDS``, ``--lease``, default 120 as in
production) running out and the relay queuing it again.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_checks import TERMINAL, job_state, wait_state  # noqa: E402
from harness import bench_env, free_port, machine_note, on_exit, port_answers, say, wait_for, write_json  # noqa: E402


class PrivateRedis:
    """redis-server on a free loopback port, no persistence: a restart loses everything it held."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        on_exit(f"redis-server :{self.port}", self.kill)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [shutil.which("redis-server"), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: port_answers(self.port), 20, "redis-server to listen", interval=0.02)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def _round(bench, client, redis: PrivateRedis, body: dict, number: int, args, worker_loss: bool) -> dict:
    status_a, a = client.json("POST", "/api/v1/jobs/", body)
    status_b, b = client.json("POST", "/api/v1/jobs/", body)
    if (status_a, status_b) != (201, 201):
        raise RuntimeError(f"POST /api/v1/jobs/ answered {status_a}/{status_b}: {a} {b}")
    held = wait_state(client, a["id"], ("running", *TERMINAL), 120)
    gpu = bench.stack.procs["gpu"].pid
    os.killpg(gpu, signal.SIGSTOP)
    redis.kill()
    down_at = time.monotonic()
    if worker_loss:
        bench.stack.kill("gpu")
    else:
        os.killpg(gpu, signal.SIGCONT)
    time.sleep(args.down_seconds)
    redis.start()
    up_at = time.monotonic()
    if worker_loss:
        bench.stack.start("gpu")
    ended: dict[str, float | None] = {}
    deadline = up_at + args.lease + 240
    while time.monotonic() < deadline and len(ended) < 2:
        for job in (a, b):
            if job["id"] not in ended and job_state(client, job["id"])["state"] in TERMINAL:
                ended[job["id"]] = time.monotonic()
        time.sleep(0.1)
    done_a, done_b = job_state(client, a["id"]), job_state(client, b["id"])
    a_end, b_end = ended.get(a["id"]), ended.get(b["id"])
    row = {
        "round": number, "worker_loss": worker_loss, "held_at": f"{held['state']} {held['progress']}%",
        "a_state": done_a["state"], "a_attempts": done_a["attempts"], "b_state": done_b["state"],
        "down_to_a_end_s": round(a_end - down_at, 1) if a_end else None,
        "up_to_a_end_s": round(a_end - up_at, 1) if a_end else None,
        "up_to_b_end_s": round(b_end - up_at, 1) if b_end else None,
    }
    row["ok"] = held["state"] == "running" and done_a["state"] == done_b["state"] == "succeeded"
    say(f"  {number:>3} {'yes' if worker_loss else 'no':>11} {row['held_at']:>12} {row['a_state']:>10} "
        f"{row['a_attempts']:>3} {row['b_state']:>10} {row['down_to_a_end_s'] or 'never':>12} "
        f"{row['up_to_a_end_s'] or 'never':>10} {row['up_to_b_end_s'] or 'never':>10}  "
        f"{'ok' if row['ok'] else 'FAIL'}")
    return row


def run(args) -> dict:
    say(f"broker restart mid-job: {args.rounds} round(s), {args.worker_loss_rounds} with the worker lost too; "
        f"Redis down {args.down_seconds:.0f}s; JOB_LEASE_SECONDS={args.lease}")
    with bench_env("broker_restart") as bench:
        redis = PrivateRedis()
        redis.start()
        bench.env["CELERY_BROKER_URL"] = redis.url  # every process of the stack uses the private broker
        bench.env["JOB_LEASE_SECONDS"] = str(args.lease)
        say(f"  broker      private redis-server {redis.url} (no persistence)")
        say(f"  server      {bench.start_web(workers=2)}")
        bench.start("relay", "events", "gpu")
        client = bench.client()
        body = {"kind": "pipeline", "inputs": {"face": bench.face_id, "product_shot": bench.shot_id}}
        status, warm = client.json("POST", "/api/v1/jobs/", body)
        warm = wait_state(client, warm["id"], TERMINAL, 240, interval=0.1)
        say(f"  warm-up pipeline job {warm['state']}, run_s {warm['metrics'].get('run_s')}s on the worker")
        say(f"  {'#':>3} {'worker lost':>11} {'A held at':>12} {'A':>10} {'att':>3} {'B':>10} {'down->A s':>12} "
            f"{'up->A s':>10} {'up->B s':>10}")
        rows = [_round(bench, client, redis, body, n, args, False) for n in range(1, args.rounds + 1)]
        rows += [_round(bench, client, redis, body, args.rounds + n, args, True)
                 for n in range(1, args.worker_loss_rounds + 1)]
        client.close()
        if not all(r["ok"] for r in rows):
            say("  GPU worker log tail:\n" + bench.log_tail("gpu", 3000))
            say("  relay log tail:\n" + bench.log_tail("relay", 2000))
    result = {"args": vars(args), "rounds": rows, "pass": all(r["ok"] for r in rows)}
    for loss in (False, True):
        part = [r for r in rows if r["worker_loss"] is loss]
        for key in ("up_to_a_end_s", "up_to_b_end_s"):
            values = [r[key] for r in part if r[key] is not None]
            if values:
                result[f"{key}{'_worker_lost' if loss else ''}_max"] = max(values)
    say(f"broker_restart: {'PASS' if result['pass'] else 'FAIL'}; "
        + ", ".join(f"{k} {v}" for k, v in result.items() if k.endswith("_max")))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker-loss-rounds", type=int, default=1)
    parser.add_argument("--down-seconds", type=float, default=3.0)
    parser.add_argument("--lease", type=int, default=120, help="JOB_LEASE_SECONDS for the run")
    parser.add_argument("--json", default="broker_restart.json", help="file name under bench/out/")
    args = parser.parse_args(argv)
    if not shutil.which("redis-server"):
        say("broker_restart: skipped (no redis-server binary)")
        return 0
    say("broker_restart: " + machine_note())
    result = run(args)
    say(f"figures in {write_json(args.json, result)}")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted: servers stopped")
        sys.exit(130)
