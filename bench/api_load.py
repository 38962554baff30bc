"""API throughput and latency, and the job overhead at idle (issue 4).

Usage::

    .venv/bin/python bench/api_load.py                       # 16 connections, 15 s per endpoint, 10 overhead jobs
    .venv/bin/python bench/api_load.py --seconds 30 --workers 4 --threads 1 --jobs 20

On one gunicorn (PostgreSQL + Redis + S3, ``bench/harness.py``), in the same run. Both endpoints are loaded in
alternating slices (``--rounds``, default 5 of 3 s each), so that the speed drift of a shared VM falls on both
alike; per endpoint the slices are added up:

1. ``GET /api/v1/ping/`` (a store-scoped DRF no-op: token auth, store resolution, JSON; falls back to
   ``GET /api/v1/store/`` when the ping route is absent) with ``--connections`` concurrent connections for
   ``--seconds`` in all;
2. ``POST /api/v1/jobs/`` (kind ``restore`` on the seeded product shot) the same way. No GPU worker runs, so no
   engine competes for the CPU; the outbox relay runs, woken by PostgreSQL NOTIFY, and publishes to Redis.
   Afterwards the outbox is drained and this run's ``gpu`` queue purged.

Per endpoint: requests, errors, throughput (successful req/s), p50/p90/p99, and the CPU each request cost in
gunicorn, PostgreSQL, Redis and the outbox relay; then jobs/no-op and PASS/FAIL against the goals (ratio >= 0.35,
POST p99 <= 200 ms).

3. Job overhead at idle: with the GPU worker, events worker and relay running, ``--jobs`` restore jobs one at a
   time; wall time = from sending the POST until ``GET /api/v1/jobs/{id}/`` (polled every 20 ms) says
   ``succeeded``; engine compute = the sum of ``metrics.stages[*].timings`` (the per-stage wall-clock seconds each
   engine measures around its own work); overhead = wall - engine compute; goal: median <= 300 ms. ``run_s``
   (the pipeline's whole run: input download + decode + engines + PNG encode, measured on the worker) is shown too,
   and the overhead against it.

The load generator is Python threads in this process, on the same machine as gunicorn: it takes CPU from the
server, and how much is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    ApiClient,
    BenchEnv,
    bench_env,
    machine_note,
    percentile,
    run_load,
    say,
    summarize,
    wait_for,
    write_json,
)

GOAL_RATIO = 0.35
GOAL_P99_MS = 200.0
GOAL_OVERHEAD_MS = 300.0
POLL_SECONDS = 0.02
TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stats():
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                name, rest = handle.read().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        yield name, rest.split()  # fields after the name: state ppid pgrp ... utime(12) stime(13)


def cpu_seconds(*, pgid: int | None = None, name: str | None = None) -> float:
    """User + system CPU seconds of the live processes in process group ``pgid`` or with command ``name``."""
    ticks = sum(int(fields[11]) + int(fields[12]) for comm, fields in _proc_stats()
                if (pgid is not None and int(fields[2]) == pgid) or comm == name)
    return ticks / TICKS


def server_side_cpu(bench: BenchEnv) -> dict:
    """CPU seconds so far of gunicorn (master + workers), PostgreSQL backends, Redis and the outbox relay."""
    relay = bench.stack.procs.get("relay")
    return {
        "gunicorn": cpu_seconds(pgid=bench.stack.procs["web"].pid),
        "postgres": cpu_seconds(name="postgres"),
        "redis": cpu_seconds(name="redis-server"),
        "relay": cpu_seconds(pgid=relay.pid) if relay is not None else 0.0,
    }


def interleaved_phases(bench: BenchEnv, phases: dict, *, connections: int, seconds: float, rounds: int) -> dict:
    """Load each endpoint in turn, ``rounds`` times, ``seconds / rounds`` at a time, and add the slices up.

    On a shared VM the CPU speed drifts by tens of percent within a minute; alternating short slices puts both
    endpoints under the same drift, so their ratio means something (two 15 s phases back to back did not).
    """
    collected = {name: {"samples": [], "wall": 0.0, "cpu": {}, "loadgen": 0.0} for name in phases}
    for _ in range(rounds):
        for name, (request, ok_status) in phases.items():
            into = collected[name]
            cpu_before, self_before, began = server_side_cpu(bench), time.process_time(), time.monotonic()
            into["samples"] += run_load(bench.web_port, bench.token, request, connections=connections,
                                        seconds=seconds / rounds, ok_status=ok_status)
            into["wall"] += time.monotonic() - began
            into["loadgen"] += time.process_time() - self_before
            for kind, value in server_side_cpu(bench).items():
                into["cpu"][kind] = into["cpu"].get(kind, 0.0) + value - cpu_before[kind]
    results = {}
    for name, into in collected.items():
        wall = into["wall"]
        stats = summarize(into["samples"], wall)
        stats["phase"] = name
        stats["seconds"] = round(wall, 2)
        stats["server_cpu_cores"] = {kind: round(value / wall, 2) for kind, value in into["cpu"].items()}
        # CPU milliseconds each successful request cost, per process kind: where the time goes.
        stats["cpu_ms_per_request"] = {
            kind: round(cores * 1000 / stats["throughput_rps"], 2) if stats["throughput_rps"] else None
            for kind, cores in stats["server_cpu_cores"].items()
        }
        stats["loadgen_cpu_cores"] = round(into["loadgen"] / wall, 2)
        examples = sorted({sample.error for sample in into["samples"] if not sample.ok})[:3]
        if examples:
            stats["error_examples"] = examples
        results[name] = stats
    return results


def print_phase(stats: dict) -> None:
    say(f"  {stats['phase']:<24} {stats['requests']:>6} req  {stats['errors']:>4} err  "
        f"{stats['throughput_rps']:>7.1f} req/s  p50 {stats['p50_ms']:>6.1f}  p90 {stats['p90_ms']:>6.1f}  "
        f"p99 {stats['p99_ms']:>6.1f}  max {stats['max_ms']:>7.1f} ms")
    cores = ", ".join(f"{name} {value:.2f}" for name, value in stats["server_cpu_cores"].items())
    per_request = ", ".join(f"{name} {value}" for name, value in stats["cpu_ms_per_request"].items())
    say(f"  {'':<24} cpu cores: {cores}, load generator {stats['loadgen_cpu_cores']:.2f}; "
        f"cpu ms per request: {per_request}")
    for example in stats.get("error_examples", []):
        say(f"      error: {example}")


def no_op_path(bench: BenchEnv) -> str:
    client = bench.client()
    try:
        status, _ = client.request("GET", "/api/v1/ping/")
    finally:
        client.close()
    if status == 200:
        return "/api/v1/ping/"
    say(f"  GET /api/v1/ping/ answered {status}: using GET /api/v1/store/ as the no-op instead")
    return "/api/v1/store/"


def drain_outbox(bench: BenchEnv, timeout: float = 90) -> int:
    def unpublished() -> int:
        return bench.sql("SELECT count(*) FROM generation_outboxmessage WHERE published_at IS NULL")[0][0]

    with contextlib.suppress(TimeoutError):
        wait_for(lambda: unpublished() == 0, timeout, "the outbox to drain", interval=0.5)
    return unpublished()


def api_phases(bench: BenchEnv, args) -> dict:
    noop = no_op_path(bench)
    job_body = {"kind": "restore", "inputs": {"product_shot": bench.shot_id}, "params": {"strength": 0.5}}

    def get_noop(client: ApiClient):
        return client.request("GET", noop)

    def post_job(client: ApiClient):
        return client.request("POST", "/api/v1/jobs/", job_body)

    say(f"\nload: {args.connections} connections, {args.seconds:.0f} s per endpoint in {args.rounds} alternating "
        f"slices after {args.warmup:.0f} s warm-up (Python threads, http.client; this process)")
    run_load(bench.web_port, bench.token, get_noop, connections=args.connections, seconds=args.warmup)
    run_load(bench.web_port, bench.token, post_job, connections=args.connections, seconds=min(args.warmup, 2),
             ok_status=(201,))
    phases = {f"GET {noop}": (get_noop, (200,)), "POST /api/v1/jobs/": (post_job, (201,))}
    measured = interleaved_phases(bench, phases, connections=args.connections, seconds=args.seconds,
                                  rounds=args.rounds)
    noop_stats, jobs_stats = measured[f"GET {noop}"], measured["POST /api/v1/jobs/"]
    print_phase(noop_stats)
    print_phase(jobs_stats)

    left = drain_outbox(bench)
    created = bench.sql("SELECT count(*) FROM generation_job")[0][0]
    purged = bench.purge_queue("gpu")
    # Nobody will run them: mark them canceled so the relay's stale-job sweep never queues them again.
    bench.sql("UPDATE generation_job SET state = 'canceled', error_code = 'canceled' WHERE state = 'queued'")
    say(f"  {created} jobs created; outbox {'drained' if not left else f'NOT drained ({left} left)'}; "
        f"purged {purged} message(s) from this run's gpu queue")

    ratio = jobs_stats["throughput_rps"] / noop_stats["throughput_rps"] if noop_stats["throughput_rps"] else 0.0
    ratio_ok = ratio >= GOAL_RATIO
    p99_ok = jobs_stats["p99_ms"] <= GOAL_P99_MS and jobs_stats["errors"] == 0
    say(f"  ratio jobs/no-op throughput = {ratio:.2f}  (goal >= {GOAL_RATIO}): {'PASS' if ratio_ok else 'FAIL'}")
    say(f"  POST /api/v1/jobs/ p99 = {jobs_stats['p99_ms']:.1f} ms, {jobs_stats['errors']} errors "
        f"(goal <= {GOAL_P99_MS:.0f} ms, no errors): {'PASS' if p99_ok else 'FAIL'}")
    return {"noop_path": noop, "noop": noop_stats, "jobs": jobs_stats, "ratio": round(ratio, 3),
            "ratio_pass": ratio_ok, "p99_pass": p99_ok, "outbox_left": left, "purged": purged}


def wait_job(client: ApiClient, job_id: str, timeout: float) -> tuple[dict, float]:
    deadline = time.monotonic() + timeout
    while True:
        status, job = client.json("GET", f"/api/v1/jobs/{job_id}/")
        if status == 200 and job["state"] in ("succeeded", "failed", "canceled"):
            return job, time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} not finished after {timeout:.0f}s (state {job.get('state')})")
        time.sleep(POLL_SECONDS)


def _epoch(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else float("nan")


def engine_seconds(metrics: dict) -> float:
    return sum(float(v) for stage in metrics.get("stages", []) for v in (stage.get("timings") or {}).values())


def overhead_phase(bench: BenchEnv, args) -> dict:
    say(f"\njob overhead at idle: {args.jobs} restore jobs one at a time (GPU worker concurrency 1, events worker, "
        f"relay); poll every {POLL_SECONDS * 1000:.0f} ms")
    bench.start("gpu", "events")
    client = bench.client()
    body = {"kind": "restore", "inputs": {"product_shot": bench.shot_id}, "params": {"strength": 0.5}}

    status, warm = client.json("POST", "/api/v1/jobs/", body)
    if status != 201:
        raise RuntimeError(f"POST /api/v1/jobs/ answered {status}: {warm}")
    warm_job, _ = wait_job(client, warm["id"], 240)
    if warm_job["state"] != "succeeded":
        raise RuntimeError(f"warm-up job {warm_job['state']}: {warm_job.get('error')}\n{bench.log_tail('gpu')}")

    rows = []
    say(f"  {'#':>3} {'wall':>6} {'engine':>6} {'run_s':>6} {'overhead':>8} {'vs run_s':>8} | {'POST':>5} "
        f"{'queue':>5} {'worker':>6} {'apply':>6}   (ms; timeline: POST answered, created->started, "
        "started->finished on the worker, finished->seen by the poller)")
    for number in range(1, args.jobs + 1):
        time.sleep(0.3)  # idle between jobs
        began, began_wall = time.monotonic(), time.time()
        status, created = client.json("POST", "/api/v1/jobs/", body)
        posted = time.monotonic()
        if status != 201:
            raise RuntimeError(f"POST /api/v1/jobs/ answered {status}: {created}")
        job, ended = wait_job(client, created["id"], 120)
        wall = ended - began
        seen_wall = began_wall + wall
        metrics = job.get("metrics") or {}
        engine = engine_seconds(metrics)
        run_s = float(metrics.get("run_s", 0.0))
        created_at, started_at, finished_at = (_epoch(job.get(k)) for k in ("created_at", "started_at", "finished_at"))
        row = {
            "job": job["id"], "state": job["state"], "wall_ms": wall * 1000, "engine_ms": engine * 1000,
            "run_ms": run_s * 1000, "overhead_ms": (wall - engine) * 1000, "overhead_vs_run_ms": (wall - run_s) * 1000,
            "post_ms": (posted - began) * 1000, "queue_ms": (started_at - created_at) * 1000,
            "worker_ms": (finished_at - started_at) * 1000, "apply_ms": (seen_wall - finished_at) * 1000,
        }
        rows.append(row)
        say(f"  {number:>3} {row['wall_ms']:>6.0f} {row['engine_ms']:>6.0f} {row['run_ms']:>6.0f} "
            f"{row['overhead_ms']:>8.0f} {row['overhead_vs_run_ms']:>8.0f} | {row['post_ms']:>5.0f} "
            f"{row['queue_ms']:>5.0f} {row['worker_ms']:>6.0f} {row['apply_ms']:>6.0f}"
            + ("" if job["state"] == "succeeded" else f"  {job['state']}: {job.get('error')}"))
    client.close()
    ok_rows = [r for r in rows if r["state"] == "succeeded"]
    overhead = [r["overhead_ms"] for r in ok_rows]
    vs_run = [r["overhead_vs_run_ms"] for r in ok_rows]
    result = {
        "jobs": rows,
        "failed": len(rows) - len(ok_rows),
        "overhead_median_ms": round(statistics.median(overhead), 1) if overhead else None,
        "overhead_p90_ms": round(percentile(overhead, 90), 1) if overhead else None,
        "overhead_vs_run_median_ms": round(statistics.median(vs_run), 1) if vs_run else None,
        "timeline_median_ms": {k: round(statistics.median(r[k] for r in ok_rows), 1)
                               for k in ("post_ms", "queue_ms", "worker_ms", "apply_ms")} if ok_rows else None,
        "wall_median_ms": round(statistics.median(r["wall_ms"] for r in ok_rows), 1) if ok_rows else None,
        "engine_median_ms": round(statistics.median(r["engine_ms"] for r in ok_rows), 1) if ok_rows else None,
    }
    result["pass"] = bool(overhead) and not result["failed"] and result["overhead_median_ms"] <= GOAL_OVERHEAD_MS
    say(f"  overhead (wall - engine timings): median {result['overhead_median_ms']} ms, "
        f"p90 {result['overhead_p90_ms']} ms (goal median <= {GOAL_OVERHEAD_MS:.0f} ms): "
        f"{'PASS' if result['pass'] else 'FAIL'}")
    say(f"  overhead against run_s (wall - whole worker pipeline run): median {result['overhead_vs_run_median_ms']} ms;"
        f" wall median {result['wall_median_ms']} ms, engine median {result['engine_median_ms']} ms")
    say(f"  timeline medians (ms): {result['timeline_median_ms']}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="load time per endpoint")
    parser.add_argument("--rounds", type=int, default=5, help="alternating slices the load time is cut into")
    parser.add_argument("--warmup", type=float, default=3.0, help="untimed load before the phases")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (1 = sync worker)")
    parser.add_argument("--jobs", type=int, default=10, help="jobs for the overhead measurement (0 skips it)")
    parser.add_argument("--json", default="api_load.json", help="file name under bench/out/")
    args = parser.parse_args(argv)

    say("api_load: " + machine_note())
    results: dict = {"args": vars(args)}
    with bench_env("api_load") as bench:
        config = bench.start_web(workers=args.workers, threads=args.threads)
        bench.start("relay")
        say(f"  server      {config}")
        results["server"] = config
        results["environment"] = bench.descriptions
        results["api"] = api_phases(bench, args)
        if args.jobs:
            results["overhead"] = overhead_phase(bench, args)
    path = write_json(args.json, results)
    passed = results["api"]["ratio_pass"] and results["api"]["p99_pass"] and results.get("overhead", {}).get(
        "pass", True)
    say(f"\napi_load: {'PASS' if passed else 'FAIL'} (figures in {path})")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted: servers stopped")
        sys.exit(130)
