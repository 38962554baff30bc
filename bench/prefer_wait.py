"""Issue 12, point 4: does ``Prefer: wait`` starve the web tier? ``/healthz`` latency while jobs are waited on.

Usage::

    .venv/bin/python bench/prefer_wait.py                       # 3 waiters, 2 gunicorn workers, both set-ups
    .venv/bin/python bench/prefer_wait.py --waiters 6 --workers 4 --only gthread

No GPU worker runs, so no job ever finishes and every honoured wait lasts its whole length. ``--waiters`` threads
each send one ``POST /api/v1/jobs/`` with ``Prefer: wait=60`` (the seeded store's token) at the same moment; meanwhile
one prober sends ``GET /healthz`` and another ``GET /api/v1/store/`` back to back (2 s timeout each, a timeout counts
as "unanswered" and the prober goes on). The window ends when every waiter has its answer, plus one second.

Set-ups (each on a fresh gunicorn of the bench environment, tests.stack / bench.harness):

- ``sync``: sync workers. A sync worker serves one request at a time, so with the fix it never waits (every waiter
  gets 202 at once with ``Gasang-Wait-Skipped: single-threaded``). Before the fix (run this script in a tree of an
  earlier commit: the code there ignores the caps) each waiter held a whole worker for up to 60 s;
- ``gthread``: the production configuration, ``--worker-class gthread --threads 4``, default caps (1 waiter per
  process, 2 per store, 30 s).

Prints, per set-up: the waiters' status codes, ``Preference-Applied`` / ``Gasang-Wait-Skipped`` and seconds, and
for both probers the p50 / p90 / max latency, the unanswered count and the longest unanswered stretch; writes
``bench/out/prefer_wait.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import bench_env, machine_note, percentile, say, write_json  # noqa: E402

SETUPS = {"sync": ({}, 1), "gthread": ({}, 4)}  # name: (extra environment, gunicorn threads per worker)
WAIT_ENV = ("PREFER_WAIT_PER_PROCESS", "PREFER_WAIT_PER_STORE", "PREFER_WAIT_MAX_SECONDS")


def request(port: int, method: str, path: str, *, headers: dict | None = None, body: dict | None = None,
            timeout: float = 90) -> tuple[int, dict, float]:
    """One request on a fresh connection: (status, response headers, seconds); status 0 when it timed out/failed."""
    began = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={**(headers or {}), "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status, dict(response.getheaders()), time.monotonic() - began
    except (OSError, http.client.HTTPException):
        return 0, {}, time.monotonic() - began
    finally:
        conn.close()


def probe(port: int, path: str, headers: dict, stop: threading.Event, out: list) -> None:
    while not stop.is_set():
        began = time.monotonic()
        status, _, seconds = request(port, "GET", path, headers=headers, timeout=2)
        out.append((status, seconds, began))
        if status == 0:
            continue  # unanswered within 2 s: count it and ask again
        time.sleep(0.05)


def longest_silence(samples: list[tuple[int, float, float]]) -> float:
    """The longest time between two answered probes (from the send of the one after an answer to the next answer)."""
    longest, since = 0.0, None
    for status, seconds, began in samples:
        if status == 200:
            if since is not None:
                longest = max(longest, began + seconds - since)
            since = None
        elif since is None:
            since = began
    return longest


def summary(samples: list[tuple[int, float, float]]) -> dict:
    answered = [seconds * 1000 for status, seconds, _ in samples if status == 200]
    return {
        "probes": len(samples),
        "unanswered": sum(1 for status, _, _ in samples if status == 0),
        "longest_unanswered_s": round(longest_silence(samples), 1),
        "p50_ms": round(percentile(answered, 50), 1),
        "p90_ms": round(percentile(answered, 90), 1),
        "max_ms": round(max(answered), 1) if answered else None,
    }


def run_setup(bench, name: str, args) -> dict:
    overrides, threads = SETUPS[name]
    for key in WAIT_ENV:
        bench.stack.env.pop(key, None)
    bench.stack.env.update(overrides)
    bench.stack.kill("web")
    config = bench.start_web(workers=args.workers, threads=threads)
    say(f"\n[{name}] {config}; {overrides or 'default caps'}")
    auth = {"Authorization": f"Bearer {bench.token}"}
    body = {"kind": "restore", "inputs": {"product_shot": bench.shot_id}, "params": {"strength": 0.5}}
    stop = threading.Event()
    health: list = []
    api: list = []
    probers = [threading.Thread(target=probe, args=(bench.web_port, "/healthz", {}, stop, health), daemon=True),
               threading.Thread(target=probe, args=(bench.web_port, "/api/v1/store/", auth, stop, api), daemon=True)]
    for thread in probers:
        thread.start()
    time.sleep(1.0)  # a baseline second before the waiters arrive
    waits: list = [None] * args.waiters

    def wait_one(index: int) -> None:
        # A long client timeout: a waiter queued behind others must get its answer, or the server side would
        # still hold its store slot when gunicorn is stopped (the slot then expires by itself, 15 s after its wait).
        waits[index] = request(bench.web_port, "POST", "/api/v1/jobs/", headers={**auth, "Prefer": "wait=60"},
                               body=body, timeout=200)

    waiters = [threading.Thread(target=wait_one, args=(i,), daemon=True) for i in range(args.waiters)]
    for thread in waiters:
        thread.start()
    for thread in waiters:
        thread.join(240)
    time.sleep(1.0)
    stop.set()
    for thread in probers:
        thread.join(5)
    answers = [{"status": status, "seconds": round(seconds, 2),
                "applied": headers.get("Preference-Applied"), "skipped": headers.get("Gasang-Wait-Skipped")}
               for status, headers, seconds in waits]
    result = {"config": config, "overrides": overrides, "waiters": answers, "healthz": summary(health),
              "api_store": summary(api)}
    for answer in answers:
        say(f"  waiter: {answer['status']} in {answer['seconds']:>6.2f}s  Preference-Applied={answer['applied']}  "
            f"Gasang-Wait-Skipped={answer['skipped']}")
    for label in ("healthz", "api_store"):
        s = result[label]
        say(f"  {label:<10} probes {s['probes']:>4}  unanswered(>2s) {s['unanswered']:>3} (longest stretch "
            f"{s['longest_unanswered_s']} s)  p50 {s['p50_ms']} ms  p90 {s['p90_ms']} ms  max {s['max_ms']} ms")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--waiters", type=int, default=3, help="concurrent Prefer: wait=60 requests (default 3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2, as tests.stack)")
    parser.add_argument("--only", default="", help="comma-separated set-ups: sync,gthread (default both)")
    args = parser.parse_args()
    names = [n for n in (args.only.split(",") if args.only else SETUPS) if n]
    say(f"Prefer: wait vs /healthz - {args.waiters} waiters, {args.workers} workers, no GPU worker. {machine_note()}")
    results = {}
    with bench_env("prefer_wait") as bench:
        bench.start("relay")  # jobs are published as in production; nothing consumes them
        for name in names:
            results[name] = run_setup(bench, name, args)
    path = write_json("prefer_wait.json", {"waiters": args.waiters, "workers": args.workers, "results": results})
    say(f"\nwritten {path}")
    failed = False
    for name, result in results.items():
        silent = max(result["healthz"]["longest_unanswered_s"], result["api_store"]["longest_unanswered_s"])
        lost = sum(1 for waiter in result["waiters"] if waiter["status"] == 0)
        ok = silent == 0 and lost == 0
        failed |= not ok
        say(f"{'PASS' if ok else 'FAIL'} {name}: /healthz p50 {result['healthz']['p50_ms']} ms, max "
            f"{result['healthz']['max_ms']} ms, unanswered (>2 s) for {silent} s; {lost} waiter(s) without an answer")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
