"""Fault checks of issue 4: the GPU worker killed mid-job, and PostgreSQL restarted under load.

Usage::

    .venv/bin/python bench/fault_checks.py                      # both checks, 10 kills
    .venv/bin/python bench/fault_checks.py --kills 3 --only kill
    .venv/bin/python bench/fault_checks.py --only pg --down-seconds 5

(a) ``kill -9`` loop: ``--kills`` pipeline jobs (swap -> restore on the seeded shot with a gallery face), one at a
    time. For each: wait until the API says ``running``, SIGKILL the GPU worker's process group (worker and its
    prefork child: ``tests.stack.Stack.kill``), start a fresh worker, wait for the job to finish; it must end
    ``succeeded`` with exactly one object under ``stores/<store>/jobs/<job id>/`` in S3 (the one its outputs name).
    The killed message is redelivered by a worker's scan of unacknowledged messages, and only once the broker's
    visibility timeout (``CELERY_VISIBILITY_TIMEOUT``, ``--visibility-timeout``, default 15 s as in the tests) has
    passed. kombu 5.5's Redis transport scans when the worker starts and then only every ~100 s (its 10 s timer
    skips 9 ticks of 10: ``QoS.restore_visible(interval=10)``). A worker restarted at once finds the message still
    within the timeout and redelivers it ~100 s later; so by default the new worker starts ``--restart-delay`` =
    timeout + 1 s after the kill and its startup scan redelivers at once (``--restart-delay 0`` shows the ~100 s).
(b) PostgreSQL restart under load: a private PostgreSQL (``harness.PgServer``), gunicorn and the outbox relay on it;
    ``--connections`` connections (half ``GET /api/v1/store/``, half ``POST /api/v1/jobs/``) load it for
    ``--before`` s, then PostgreSQL is stopped (``pg_ctl stop -m fast``), held down ``--down-seconds`` s and started
    again, and the load goes on ``--after`` s. Failures are counted for requests that overlapped the outage and for
    requests sent after PostgreSQL accepted connections again (goal: none). The relay must have published every job
    accepted before and after.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    ApiClient,
    BenchEnv,
    Sample,
    bench_env,
    machine_note,
    port_answers,
    run_load,
    say,
    summarize,
    wait_for,
    write_json,
)

TERMINAL = ("succeeded", "failed", "canceled")


def job_state(client: ApiClient, job_id: str) -> dict:
    status, job = client.json("GET", f"/api/v1/jobs/{job_id}/")
    if status != 200:
        raise RuntimeError(f"GET /api/v1/jobs/{job_id}/ answered {status}: {job}")
    return job


def wait_state(client: ApiClient, job_id: str, states: tuple[str, ...], timeout: float, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_state(client, job_id)
        if job["state"] in states:
            return job
        time.sleep(interval)
    raise TimeoutError(f"job {job_id} not in {states} after {timeout:.0f}s")


# ---- (a) kill -9 the GPU worker mid-job ----------------------------------------------------------------------


def kill_loop(args) -> dict:
    say(f"\n(a) kill -9 the GPU worker mid-job, {args.kills} times; CELERY_VISIBILITY_TIMEOUT="
        f"{args.visibility_timeout}s; the new worker starts {args.restart_delay:.0f}s after the kill")
    with bench_env("fault_kill", visibility_timeout=args.visibility_timeout) as bench:
        say(f"  server      {bench.start_web(workers=2)}")
        bench.start("relay", "events", "gpu")
        client = bench.client()
        body = {"kind": "pipeline", "inputs": {"face": bench.face_id, "product_shot": bench.shot_id}}

        began = time.monotonic()
        status, warm = client.json("POST", "/api/v1/jobs/", body)
        if status != 201:
            raise RuntimeError(f"POST /api/v1/jobs/ answered {status}: {warm}")
        warm = wait_state(client, warm["id"], TERMINAL, 240, interval=0.1)
        if warm["state"] != "succeeded":
            raise RuntimeError(f"warm-up pipeline job {warm['state']}: {warm.get('error')}\n{bench.log_tail('gpu')}")
        say(f"  warm-up pipeline job: {time.monotonic() - began:.1f}s end to end, "
            f"run_s {warm['metrics'].get('run_s')}s on the worker")

        rows = []
        say(f"  {'#':>3} {'killed at':>10} {'state':>10} {'attempts':>8} {'objects':>7} "
            f"{'kill->done s':>12} {'restart->done s':>15}  verdict")
        for number in range(1, args.kills + 1):
            rows.append(_kill_once(bench, client, body, number, args))
        client.close()
        gpu_log = bench.log_tail("gpu", 2000)

    passed = [r for r in rows if r["ok"]]
    missed = [r for r in rows if r["missed"]]
    seconds = [r["kill_to_done_s"] for r in rows if r["kill_to_done_s"] is not None]
    result = {
        "iterations": rows,
        "passed": len(passed),
        "missed": len(missed),
        "kill_to_done_s": {"min": min(seconds, default=None), "max": max(seconds, default=None),
                           "mean": round(sum(seconds) / len(seconds), 1) if seconds else None},
        "visibility_timeout_s": args.visibility_timeout,
    }
    result["pass"] = len(passed) == len(rows) and not missed
    say(f"  summary: {len(passed)}/{len(rows)} jobs succeeded with exactly one output set after a kill -9"
        + (f"; {len(missed)} kill(s) came after the job had finished" if missed else "")
        + f"; kill -> finished {result['kill_to_done_s']['min']}..{result['kill_to_done_s']['max']} s "
        f"(mean {result['kill_to_done_s']['mean']}): {'PASS' if result['pass'] else 'FAIL'}")
    if not result["pass"]:
        say("  GPU worker log tail:\n" + gpu_log)
    return result


def _kill_once(bench: BenchEnv, client: ApiClient, body: dict, number: int, args) -> dict:
    status, job = client.json("POST", "/api/v1/jobs/", body)
    if status != 201:
        raise RuntimeError(f"POST /api/v1/jobs/ answered {status}: {job}")
    job_id = job["id"]
    running = wait_state(client, job_id, ("running", *TERMINAL), 120)
    bench.stack.kill("gpu")  # SIGKILL to the worker and its prefork child, mid-job
    killed = time.monotonic()
    time.sleep(max(0.0, args.restart_delay))
    bench.stack.start("gpu")
    restarted = time.monotonic()
    at = f"{running['state']} {running['progress']}%"
    try:
        done = wait_state(client, job_id, TERMINAL, args.visibility_timeout + 150, interval=0.1)
        kill_to_done, restart_to_done = round(time.monotonic() - killed, 1), round(time.monotonic() - restarted, 1)
    except TimeoutError:
        done, kill_to_done, restart_to_done = job_state(client, job_id), None, None
    output = (done.get("outputs") or {}).get("image", {}).get("key")
    objects = bench.s3_keys(f"stores/{bench.store_id}/jobs/{job_id}/")
    missed = running["state"] != "running" or (done["state"] == "succeeded" and done["attempts"] < 2)
    ok = done["state"] == "succeeded" and objects == [output] and not missed
    verdict = "ok" if ok else ("MISSED: finished before the kill" if missed else "FAIL")
    if done["state"] != "succeeded":
        verdict += f" ({done['state']}: {done.get('error')})"
    elif objects != [output]:
        verdict += f" (objects {objects}, outputs {output})"
    say(f"  {number:>3} {at:>10} {done['state']:>10} {done['attempts']:>8} {len(objects):>7} "
        f"{kill_to_done if kill_to_done is not None else 'timeout':>12} {restart_to_done or '':>15}  {verdict}")
    return {"job": job_id, "killed_at": at, "state": done["state"], "attempts": done["attempts"],
            "objects": len(objects), "kill_to_done_s": kill_to_done, "restart_to_done_s": restart_to_done,
            "ok": ok, "missed": missed}


# ---- (b) PostgreSQL restart under load -----------------------------------------------------------------------


def pg_restart(args) -> dict:
    say(f"\n(b) PostgreSQL restart under load: {args.connections} connections, {args.before:.0f}s before, "
        f"{args.down_seconds:.0f}s down, {args.after:.0f}s after")
    with bench_env("fault_pg", own_postgres=True) as bench:
        say(f"  server      {bench.start_web(workers=4)}")
        bench.start("relay")
        job_body = {"kind": "restore", "inputs": {"product_shot": bench.shot_id}, "params": {"strength": 0.5}}
        results: dict[str, list[Sample]] = {}
        stop = threading.Event()
        total = args.before + args.down_seconds + args.after + 60  # upper bound; `stop` ends it

        def drive(name, request, ok_status, connections):
            results[name] = run_load(bench.web_port, bench.token, request, connections=connections, seconds=total,
                                     ok_status=ok_status, stop=stop)

        half = max(1, args.connections // 2)
        get_store = lambda c: c.request("GET", "/api/v1/store/")  # noqa: E731
        post_job = lambda c: c.request("POST", "/api/v1/jobs/", job_body)  # noqa: E731
        for warm in (get_store, post_job):  # every gunicorn worker loads the app and both code paths
            run_load(bench.web_port, bench.token, warm, connections=args.connections, seconds=2)
        threads = [
            threading.Thread(target=drive, args=("GET /api/v1/store/", get_store, (200,), half)),
            threading.Thread(target=drive, args=("POST /api/v1/jobs/", post_job, (201,), args.connections - half)),
        ]
        for thread in threads:
            thread.start()
        try:
            time.sleep(args.before)
            down_at = time.monotonic()
            bench.pg.stop("fast")
            stopped = time.monotonic()
            time.sleep(args.down_seconds)
            bench.pg.start()
            wait_for(lambda: port_answers(bench.pg.port), 30, "PostgreSQL to accept connections", interval=0.05)
            up_at = time.monotonic()
            time.sleep(args.after)
        finally:
            stop.set()
            for thread in threads:
                thread.join(60)
        say(f"  PostgreSQL stopped in {stopped - down_at:.1f}s, down {up_at - down_at:.1f}s in all "
            f"(stop, {args.down_seconds:.0f}s hold, start)")

        report: dict = {"down_s": round(up_at - down_at, 2), "endpoints": {}}
        after_failures = 0
        for name, samples in results.items():
            before = [s for s in samples if s.started + s.seconds < down_at]
            during = [s for s in samples if s.started < up_at and s.started + s.seconds >= down_at]
            after = [s for s in samples if s.started >= up_at]
            rows = {}
            for label, part in (("before", before), ("during", during), ("after", after)):
                span = {"before": args.before, "during": up_at - down_at, "after": args.after}[label]
                rows[label] = summarize(part, span)
            late = [round(s.started - up_at, 2) for s in after if not s.ok]
            rows["after"]["failed_at_s_after_up"] = late[:20]
            after_failures += len(late)
            report["endpoints"][name] = rows
            for label in ("before", "during", "after"):
                r = rows[label]
                say(f"  {name:<20} {label:<6} {r['requests']:>5} req {r['errors']:>4} failed  "
                    f"p50 {r['p50_ms']:>7.1f}  p99 {r['p99_ms']:>7.1f} ms  {r['error_kinds'] or ''}")
            if late:
                say(f"      failures after PostgreSQL was back, at +s: {late[:20]}")
                say("      e.g. " + "; ".join(sorted({s.error for s in after if not s.ok})[:3]))

        unpublished = _unpublished_after(bench, 30)
        created = bench.sql("SELECT count(*) FROM generation_job")[0][0]
        report.update({"after_failures": after_failures, "jobs_created": created, "outbox_unpublished": unpublished})
        bench.purge_queue("gpu")
        bench.sql("UPDATE generation_job SET state = 'canceled', error_code = 'canceled' WHERE state = 'queued'")
        relay_errors = bench.stack.log("relay").count("Traceback")
        report["relay_tracebacks"] = relay_errors
        web_log = bench.stack.log("web")
        report["web_log_tail"] = web_log[-3000:] if after_failures else ""

    report["pass"] = after_failures == 0 and unpublished == 0
    say(f"  {created} jobs accepted; outbox unpublished after 30 s: {unpublished}; relay tracebacks: {relay_errors}")
    say(f"  failures after PostgreSQL was back: {after_failures} (goal 0); outbox drained: "
        f"{'yes' if unpublished == 0 else 'NO'}: {'PASS' if report['pass'] else 'FAIL'}")
    if after_failures:
        say("  gunicorn log tail:\n" + report["web_log_tail"])
    return report


def _unpublished_after(bench: BenchEnv, timeout: float) -> int:
    def count() -> int:
        return bench.sql("SELECT count(*) FROM generation_outboxmessage WHERE published_at IS NULL")[0][0]

    deadline = time.monotonic() + timeout
    left = count()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = count()
    return left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("kill", "pg"), default=None)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--visibility-timeout", type=int, default=15, help="CELERY_VISIBILITY_TIMEOUT for (a)")
    parser.add_argument("--restart-delay", type=float, default=None,
                        help="seconds between the kill and the new worker (default: the visibility timeout + 1)")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--before", type=float, default=5.0)
    parser.add_argument("--down-seconds", type=float, default=3.0)
    parser.add_argument("--after", type=float, default=10.0)
    parser.add_argument("--json", default="fault_checks.json", help="file name under bench/out/")
    args = parser.parse_args(argv)
    if args.restart_delay is None:
        args.restart_delay = args.visibility_timeout + 1.0

    say("fault_checks: " + machine_note())
    results: dict = {"args": vars(args)}
    if args.only in (None, "kill"):
        results["kill"] = kill_loop(args)
    if args.only in (None, "pg"):
        results["pg_restart"] = pg_restart(args)
    path = write_json(args.json, results)
    passed = all(part["pass"] for key, part in results.items() if key != "args")
    say(f"\nfault_checks: {'PASS' if passed else 'FAIL'} (figures in {path})")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted: servers stopped")
        sys.exit(130)
