"""Issue 12 point 3: does one store's slow webhooks delay another store's jobs?

Usage::

    .venv/bin/python bench/webhook_isolation.py                  # 8 endpoints answering in 4.5 s, 3 rounds
    .venv/bin/python bench/webhook_isolation.py --endpoints 8 --delay 4.5 --rounds 5

The real stack (``bench/harness.py``: PostgreSQL, Redis, S3, gunicorn, GPU worker with the classical engines,
events worker, webhooks worker, outbox relay). Store B gets ``--endpoints`` webhook endpoints (all events) on one
loopback receiver that answers each request after ``--delay`` seconds. Measured, for store A's ``restore`` job
(``POST /api/v1/jobs/`` until ``GET`` says ``succeeded``):

- baseline: ``--rounds`` jobs of store A while B is idle;
- under load: each round, store B runs one job (so its endpoints get ``job.started`` and ``job.completed``: 2 x
  ``--endpoints`` deliveries of ``--delay`` s each); as soon as B's first delivery reaches the receiver, store A
  posts its job. The round ends when all of B's deliveries were answered.

Goal: A's latency under load stays near the baseline (before the fix, with the deliveries on the events worker:
49 s against 1.1 s). The figures go to ``bench/out/webhook_isolation.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import ROOT, ApiClient, bench_env, machine_note, on_exit, say, wait_for, write_json  # noqa: E402

from tests.generation.receivers import Receiver  # noqa: E402

TERMINAL = ("succeeded", "failed", "canceled")


class SlowReceiver(Receiver):
    """tests/generation/receivers.py's receiver, answering every POST with 200 after ``delay`` seconds; counts what it
    received and answered and notes when the first request came."""

    def __init__(self, delay: float) -> None:
        self.first_request_at: float | None = None
        super().__init__(hold=True, hold_seconds=delay, on_request=self._noted)
        on_exit("slow webhook receiver", self.server.shutdown)

    def _noted(self, path: str) -> None:
        if self.first_request_at is None:
            self.first_request_at = time.monotonic()

    @property
    def received(self) -> int:
        return len(self.requests)

    def reset(self) -> None:
        self.requests.clear()
        self.paths.clear()
        self.answered = 0
        self.first_request_at = None


def post_job(client: ApiClient, shot_id: int) -> str:
    body = {"kind": "restore", "inputs": {"product_shot": shot_id}, "params": {"strength": 0.5}}
    status, job = client.json("POST", "/api/v1/jobs/", body)
    if status != 201:
        raise RuntimeError(f"POST /api/v1/jobs/ answered {status}: {job}")
    return job["id"]


def wait_terminal(client: ApiClient, job_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, job = client.json("GET", f"/api/v1/jobs/{job_id}/")
        if status == 200 and job["state"] in TERMINAL:
            return job
        time.sleep(0.02)
    raise TimeoutError(f"job {job_id} did not finish within {timeout:.0f}s")


def job_latency(client: ApiClient, shot_id: int, timeout: float) -> float:
    began = time.monotonic()
    job = wait_terminal(client, post_job(client, shot_id), timeout)
    if job["state"] != "succeeded":
        raise RuntimeError(f"store A's job {job['state']}: {job.get('error')}")
    return round(time.monotonic() - began, 2)


def seed_store_b(env: dict, url: str, endpoints: int) -> dict:
    seeded = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--seed-store-b", url, str(endpoints)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding store B failed:\n{seeded.stdout[-2000:]}\n{seeded.stderr[-4000:]}")
    return json.loads(seeded.stdout.strip().splitlines()[-1])


def _seed_store_b(url: str, endpoints: int) -> None:
    """Inside the bench env (a subprocess): store B, its token, a shot, and its endpoints (all events)."""
    import uuid

    import django

    django.setup()
    from accounts import services
    from accounts.models import User
    from catalog.models import ProductShot
    from core import objectstore
    from generation.models import WebhookEndpoint
    from generation.webhooks import webhook_endpoint_create
    from tests.generation.photos import astronaut, jpeg_bytes

    email = f"bench-b-{uuid.uuid4().hex[:8]}@gasang.local"
    store = services.user_signup(email=email, password=uuid.uuid4().hex, store_name="Slow hooks", name="B")
    owner = User.objects.get(email=email)
    token = services.api_token_create(store=store, created_by=owner, name="bench-b", scopes=["read", "write"])
    try:
        from billing.services import billing_plan_assign

        billing_plan_assign(store=store, plan_code="business")
    except ImportError:
        pass
    key = objectstore.put_bytes(f"stores/{store.pk}/shots/bench-b.jpg", jpeg_bytes(astronaut()))
    shot = ProductShot.objects.create(store=store, image=key, faces_state=ProductShot.FacesState.READY,
                                      original_filename="b.jpg", content_type="image/jpeg", width=512, height=512)
    for number in range(endpoints):
        # every event type named (not []), so that the bench also runs on trees from before issue 12 point 11
        webhook_endpoint_create(store=store, url=f"{url}/{number}", events=list(WebhookEndpoint.Event.values))
    print(json.dumps({"token": token.plaintext, "shot_id": shot.pk}))


def run(args) -> dict:
    with bench_env("webhook_isolation") as bench:
        say(f"  server      {bench.start_web(workers=2)}")
        workers = ["relay", "events", "gpu"]
        if "webhooks" in bench.stack.COMMANDS:  # the fixed tree has its own webhooks worker
            workers.append("webhooks")
        bench.start(*workers)
        say(f"  processes   {', '.join(workers)}")
        receiver = SlowReceiver(args.delay)
        store_b = seed_store_b(bench.env, receiver.url, args.endpoints)
        client_a, client_b = bench.client(), ApiClient(bench.web_port, store_b["token"])
        job_latency(client_a, bench.shot_id, 240)  # warm-up: loads the engines on the GPU worker

        baseline = [job_latency(client_a, bench.shot_id, 240) for _ in range(args.rounds)]
        say(f"  baseline    store A's job: {baseline} s")
        loaded, drains = [], []
        expected = 2 * args.endpoints
        for number in range(1, args.rounds + 1):
            receiver.reset()
            began = time.monotonic()
            post_job(client_b, store_b["shot_id"])
            wait_for(lambda: receiver.received, 240, "store B's first webhook delivery", interval=0.01)
            loaded.append(job_latency(client_a, bench.shot_id, 300))
            wait_for(lambda: receiver.answered >= expected, 600, f"store B's {expected} deliveries", interval=0.1)
            drains.append(round(time.monotonic() - began, 1))
            say(f"  round {number}     store A's job with B's deliveries in flight: {loaded[-1]} s "
                f"(B's {expected} deliveries all answered after {drains[-1]} s)")
        client_a.close()
        client_b.close()

    result = {
        "endpoints": args.endpoints, "delay_s": args.delay, "workers": workers,
        "baseline_s": baseline, "under_load_s": loaded, "store_b_drain_s": drains,
        "baseline_median_s": statistics.median(baseline), "under_load_median_s": statistics.median(loaded),
        "under_load_max_s": max(loaded),
    }
    # Pass: no job of store A waited for a customer endpoint (one delivery alone takes --delay seconds).
    result["pass"] = result["under_load_max_s"] < result["baseline_median_s"] + args.delay
    say(f"  summary: store A's job {result['baseline_median_s']} s alone, {result['under_load_median_s']} s median "
        f"(max {result['under_load_max_s']} s) while store B's {args.endpoints} endpoints answer in {args.delay} s: "
        f"{'PASS' if result['pass'] else 'FAIL'}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoints", type=int, default=8)
    parser.add_argument("--delay", type=float, default=4.5, help="seconds each of store B's endpoints takes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", default="webhook_isolation.json", help="file name under bench/out/")
    args = parser.parse_args(argv)
    say("webhook_isolation: " + machine_note())
    result = run(args)
    path = write_json(args.json, {"args": vars(args), **result})
    say(f"\nwebhook_isolation: {'PASS' if result['pass'] else 'FAIL'} (figures in {path})")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--seed-store-b"]:
        _seed_store_b(sys.argv[2], int(sys.argv[3]))
        sys.exit(0)
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted: servers stopped")
        sys.exit(130)
