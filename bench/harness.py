"""A standalone environment for the benchmarks: real PostgreSQL, Redis, S3 (moto) and the app's processes.

No pytest. ``bench_env()`` provisions

- PostgreSQL: a throwaway database ``gasang_bench_<random>`` on the server at 127.0.0.1:5432 when it answers
  (dropped at exit), else a private server from the installed binaries; ``own_postgres=True`` always starts a
  private server (``PgServer``) that the caller may stop, restart and kill;
- Redis: 127.0.0.1:6379 with a unique ``CELERY_KEY_PREFIX`` (its keys are deleted at exit), else a throwaway one;
- S3: moto in server mode on loopback (``tests.s3_server``) with a fresh bucket;

then runs ``manage.py migrate`` (``config.settings.local`` with ``DEBUG=0``), seeds a store, its owner, a read+write
API token, a product shot (skimage's astronaut) and a published gallery face (matplotlib's Grace Hopper), and
hands back a ``BenchEnv`` whose ``stack`` (``tests.stack.Stack``) starts gunicorn, the GPU worker, the events
worker and the outbox relay. Every server and process it starts is stopped at exit, also on Ctrl-C or SIGTERM.

Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.services import _pg_bin, _pg_user, _port_open, free_port, start_throwaway_redis  # noqa: E402
from tests.stack import Stack  # noqa: E402  (imports django.conf lazily; no settings needed here)

OUT_DIR = ROOT / "bench" / "out"
GUNICORN_WORKERS = 4
GUNICORN_THREADS = 1
BENCH_RATE_LIMITS_OFF = ("API_RATE_TOKEN", "API_RATE_STORE", "API_RATE_JOB_CREATE", "API_RATE_AUTH_FAILURES")


def say(message: str = "") -> None:
    print(message, flush=True)


# ---- cleanup that also runs on Ctrl-C and SIGTERM ------------------------------------------------------------

_cleanups: list[tuple[str, Callable[[], None]]] = []
_cleanup_lock = threading.Lock()


def on_exit(what: str, action: Callable[[], None]) -> Callable[[], None]:
    """Register ``action`` to run once at exit (LIFO). Returns a callable that runs it now (and unregisters it)."""
    entry = (what, action)
    _cleanups.append(entry)

    def run_now() -> None:
        with _cleanup_lock:
            if entry not in _cleanups:
                return
            _cleanups.remove(entry)
        _run(entry)

    return run_now


def _run(entry: tuple[str, Callable[[], None]]) -> None:
    what, action = entry
    try:
        action()
    except Exception as exc:  # cleanup must go on with the rest
        say(f"  (cleanup of {what} failed: {type(exc).__name__}: {exc})")


def cleanup_all(keep: int = 0) -> None:
    """Run the registered cleanups, newest first, until only the oldest ``keep`` remain."""
    while True:
        with _cleanup_lock:
            if len(_cleanups) <= keep:
                return
            entry = _cleanups.pop()
        _run(entry)


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


atexit.register(cleanup_all)  # also the path of Ctrl-C: KeyboardInterrupt unwinds, then atexit
if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGTERM, _on_sigterm)


# ---- PostgreSQL ----------------------------------------------------------------------------------------------


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; run its binaries as the postgres user then.
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PgServer:
    """A private PostgreSQL on a free port that can be stopped, started, restarted and killed (``pg_ctl``)."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not self.initdb or not self.pg_ctl:
            raise RuntimeError("no PostgreSQL binaries (initdb/pg_ctl) installed")
        self.data = Path(tempfile.mkdtemp(prefix="gasang-bench-pg-"))
        self.log = self.data.parent / f"{self.data.name}.log"
        if os.geteuid() == 0:
            shutil.chown(self.data, "postgres")
            self.log.touch()
            shutil.chown(self.log, "postgres")
        self.user = "postgres" if os.geteuid() == 0 else getpass.getuser()
        self.port = free_port()
        subprocess.run(
            _as_postgres([self.initdb, "-D", str(self.data), "-U", self.user, "-A", "trust"]),
            check=True,
            capture_output=True,
        )
        on_exit("private PostgreSQL", self.destroy)
        self.start()

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.data), *args]), check=True, capture_output=True,
                       timeout=timeout)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=200")
        self._ctl("-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "-t", "60", "restart")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            with contextlib.suppress(Exception):
                self.stop("immediate")
        shutil.rmtree(self.data, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.log.unlink()

    def admin_dsn(self) -> dict:
        return {"host": "127.0.0.1", "port": self.port, "user": self.user, "dbname": "postgres"}


def _create_database(admin: dict, name: str) -> Callable[[], None]:
    """CREATE DATABASE ``name``; returns the action that drops it (registered to run at exit too)."""
    import psycopg2

    conn = psycopg2.connect(connect_timeout=5, **admin)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()

    def drop() -> None:
        conn = psycopg2.connect(connect_timeout=5, **admin)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()

    return on_exit(f"database {name}", drop)


def provision_postgres(own: bool = False) -> tuple[str, PgServer | None, str]:
    """(DATABASE_URL, the private server or None, a description)."""
    name = f"gasang_bench_{uuid.uuid4().hex[:10]}"
    if not own and _port_open("127.0.0.1", 5432):
        user = _pg_user("127.0.0.1", 5432)
        if user:
            _create_database({"host": "127.0.0.1", "port": 5432, "user": user, "dbname": "postgres"}, name)
            return f"postgres://{user}@127.0.0.1:5432/{name}", None, f"127.0.0.1:5432 database {name}"
    server = PgServer()
    _create_database(server.admin_dsn(), name)
    url = f"postgres://{server.user}@127.0.0.1:{server.port}/{name}"
    return url, server, f"private server 127.0.0.1:{server.port} (data {server.data}) database {name}"


# ---- Redis ---------------------------------------------------------------------------------------------------


def provision_redis(prefix: str) -> tuple[str, str]:
    """(redis url, description). On a shared server the keys under ``prefix`` are deleted at exit."""
    if _port_open("127.0.0.1", 6379):
        url = "redis://127.0.0.1:6379/0"

        def forget() -> None:
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=3)
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])

        on_exit(f"redis keys {prefix}*", forget)
        return url, f"127.0.0.1:6379 with key prefix {prefix}"
    port = start_throwaway_redis()  # stopped by tests.services' own atexit hook
    return f"redis://127.0.0.1:{port}/0", f"throwaway redis-server on 127.0.0.1:{port}"


# ---- the environment -----------------------------------------------------------------------------------------


@dataclass
class BenchEnv:
    env: dict[str, str]
    stack: Stack
    log_dir: Path
    database_url: str
    redis_url: str
    key_prefix: str
    s3: object  # tests.s3_server.S3Server
    bucket: str
    store_id: int
    token: str
    shot_id: int
    face_id: int
    pg: PgServer | None = None
    web_port: int | None = None
    descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start_web(self, workers: int = GUNICORN_WORKERS, threads: int = GUNICORN_THREADS, timeout: float = 90) -> str:
        """Start gunicorn on a free loopback port (sync workers when ``threads`` is 1, else gthread as in
        production); returns a description of its configuration."""
        self.web_port = free_port()
        worker_class = "gthread" if threads > 1 else "sync"
        args = ["--bind", f"127.0.0.1:{self.web_port}", "--workers", str(workers), "--threads", str(threads),
                "--worker-class", worker_class, "--backlog", "2048"]
        self.stack.start("web", *args)
        wait_for(lambda: http_ok(self.base_url + "/healthz"), timeout, "gunicorn to answer /healthz")
        return f"gunicorn config.wsgi --workers {workers} --threads {threads} ({worker_class}) on {self.base_url}"

    def start(self, *names: str) -> None:
        for name in names:
            self.stack.start(name)

    def client(self) -> ApiClient:
        return ApiClient(self.web_port, self.token)

    def s3_keys(self, prefix: str) -> list[str]:
        listed = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for item in listed.get("Contents", [])]

    def redis(self):
        import redis

        return redis.Redis.from_url(self.redis_url, socket_connect_timeout=3)

    def purge_queue(self, queue: str) -> int:
        """Delete every message waiting on ``queue`` (this run's key prefix only); returns how many."""
        client = self.redis()
        dropped = 0
        for key in list(client.scan_iter(match=f"{self.key_prefix}{queue}*", count=1000)):
            if client.type(key) == b"list":
                dropped += client.llen(key)
            client.delete(key)
        return dropped

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(self.database_url, connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                rows = cur.fetchall() if cur.description else []
            conn.commit()
            return rows
        finally:
            conn.close()

    def log_tail(self, name: str, chars: int = 3000) -> str:
        return self.stack.log(name)[-chars:]


def _bench_environ(database_url: str, redis_url: str, prefix: str, s3, bucket: str, var_dir: Path,
                   visibility_timeout: int) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("S3_", "CELERY_", "STRIPE_"))}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_KEY_PREFIX": prefix,
        "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": s3.endpoint_url,
        "S3_BUCKET": bucket,
        "S3_REGION": s3.region,
        "S3_ACCESS_KEY_ID": s3.access_key,
        "S3_SECRET_ACCESS_KEY": s3.secret_key,
        "GASANG_VAR_DIR": str(var_dir),
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "PYTHONUNBUFFERED": "1",
        # Benches measure the app, not the API rate limits (accounts/throttling.py): off unless set for a run.
        **{name: os.environ.get(name, "off") for name in BENCH_RATE_LIMITS_OFF},
        "REDIS_URL": redis_url,  # the shared cache (Prefer: wait slots, rate-limit counters), under the key prefix
    }


@contextlib.contextmanager
def bench_env(name: str, *, own_postgres: bool = False, visibility_timeout: int = 15) -> Iterator[BenchEnv]:
    """Provision services, migrate and seed; yield a ``BenchEnv``. Everything is torn down on the way out."""
    started = time.monotonic()
    mark = len(_cleanups)
    try:
        bench = _provision(name, own_postgres, visibility_timeout)
        say(f"environment ready in {time.monotonic() - started:.1f}s:")
        for key, text in bench.descriptions.items():
            say(f"  {key:<11} {text}")
        yield bench
    finally:
        cleanup_all(keep=mark)  # processes, S3, database, redis keys, private server: everything of this env


def _provision(name: str, own_postgres: bool, visibility_timeout: int) -> BenchEnv:
    from tests.s3_server import running_s3_server

    log_dir = OUT_DIR / "logs" / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    log_dir.mkdir(parents=True, exist_ok=True)
    var_dir = Path(tempfile.mkdtemp(prefix="gasang-bench-var-"))
    on_exit("bench var dir", lambda: shutil.rmtree(var_dir, ignore_errors=True))
    prefix = f"gasang-bench-{uuid.uuid4().hex[:8]}:"
    database_url, pg, pg_text = provision_postgres(own=own_postgres)
    redis_url, redis_text = provision_redis(prefix)
    on_exit("attempt counters", lambda: _forget_attempts(database_url, redis_url))
    resources = contextlib.ExitStack()
    on_exit("S3 server", resources.close)
    s3 = resources.enter_context(running_s3_server())
    bucket = f"gasang-bench-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    env = _bench_environ(database_url, redis_url, prefix, s3, bucket, var_dir, visibility_timeout)
    stack = Stack(env=env, log_dir=log_dir)
    on_exit("app processes", stack.stop)
    migrate = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
    if migrate.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{migrate.stdout[-2000:]}\n{migrate.stderr[-4000:]}")
    seeded = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--seed"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    if seeded.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{seeded.stdout[-2000:]}\n{seeded.stderr[-4000:]}")
    seed = json.loads(seeded.stdout.strip().splitlines()[-1])
    return BenchEnv(
        env=env, stack=stack, log_dir=log_dir, database_url=database_url, redis_url=redis_url,
        key_prefix=prefix, s3=s3, bucket=bucket, pg=pg, descriptions={
            "postgresql": pg_text, "redis": redis_text, "s3": f"moto server {s3.endpoint_url} bucket {bucket}",
            "settings": "config.settings.local, DEBUG=0, CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True",
            "logs": str(log_dir),
        }, **seed,
    )


def _forget_attempts(database_url: str, redis_url: str) -> None:
    """The GPU worker counts attempts in Redis under gasang:attempts:<job id> (no key prefix): delete this run's."""
    import psycopg2
    import redis

    try:
        conn = psycopg2.connect(database_url, connect_timeout=5)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT id FROM generation_job")
                keys = [f"gasang:attempts:{row[0]}" for row in cur.fetchall()]
        finally:
            conn.close()
    except psycopg2.Error:  # never migrated, or the server is gone: nothing to forget
        return
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])


def _seed() -> None:
    """Run inside the bench env (a subprocess): create the store, owner, token, shot and gallery face."""
    import django

    django.setup()
    from accounts import services
    from accounts.models import User
    from catalog.models import ModelFace, ProductShot
    from core import objectstore
    from tests.generation.photos import astronaut, grace_hopper, jpeg_bytes

    email = f"bench-{uuid.uuid4().hex[:8]}@gasang.local"
    store = services.user_signup(email=email, password=uuid.uuid4().hex, store_name="Bench store", name="Bench")
    owner = User.objects.get(email=email)
    token = services.api_token_create(store=store, created_by=owner, name="bench", scopes=["read", "write"])
    try:  # a paid plan with metered overage, so thousands of bench jobs are not refused for quota (402)
        from billing.services import billing_plan_assign
    except ImportError:
        billing_plan_assign = None
    if billing_plan_assign is not None:
        billing_plan_assign(store=store, plan_code=os.environ.get("BENCH_PLAN", "business"))
    shot_key = objectstore.put_bytes(f"stores/{store.pk}/shots/bench-astronaut.jpg", jpeg_bytes(astronaut()))
    shot = ProductShot.objects.create(
        store=store, image=shot_key, faces_state=ProductShot.FacesState.READY, original_filename="astronaut.jpg",
        content_type="image/jpeg", width=512, height=512,
    )
    face_key = objectstore.put_bytes("gallery/faces/bench-grace-hopper.jpg", jpeg_bytes(grace_hopper()))
    face = ModelFace.objects.create(store=None, name="Grace (bench)", image=face_key,
                                    curation=ModelFace.Curation.PUBLISHED)
    print(json.dumps({"store_id": store.pk, "token": token.plaintext, "shot_id": shot.pk, "face_id": face.pk}))


# ---- HTTP ----------------------------------------------------------------------------------------------------


def http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


class ApiClient:
    """One keep-alive HTTP/1.1 connection to gunicorn on loopback with the store's Bearer token.

    Gunicorn's sync workers close the connection after each response; http.client then reconnects on the
    next request, so each request pays a loopback TCP connect in that configuration.
    """

    def __init__(self, port: int, token: str, timeout: float = 30) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes]:
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise

    def json(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        status, data = self.request(method, path, body)
        try:
            return status, json.loads(data or b"{}")
        except ValueError:
            return status, {"raw": data[:300].decode(errors="replace")}

    def close(self) -> None:
        self.conn.close()


@dataclass
class Sample:
    started: float  # time.monotonic() at send
    seconds: float
    status: int  # 0 when the request raised (connection refused/reset, timeout)
    ok: bool
    error: str = ""


def run_load(port: int, token: str, request: Callable[[ApiClient], tuple[int, bytes]], *, connections: int,
             seconds: float, ok_status: tuple[int, ...] = (200,), stop: threading.Event | None = None) -> list[Sample]:
    """``connections`` threads, each with its own connection, send requests back to back for ``seconds``."""
    samples: list[Sample] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        client = ApiClient(port, token)
        mine: list[Sample] = []
        while time.monotonic() < deadline and not (stop and stop.is_set()):
            began = time.monotonic()
            try:
                status, body = request(client)
                ok = status in ok_status
                error = "" if ok else f"HTTP {status}: {body[:120].decode(errors='replace')}"
            except (OSError, http.client.HTTPException) as exc:
                status, ok, error = 0, False, f"{type(exc).__name__}: {exc}"
            mine.append(Sample(began, time.monotonic() - began, status, ok, error))
            if not ok and status == 0:
                time.sleep(0.01)  # connection refused: do not spin
        client.close()
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(samples, key=lambda s: s.started)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = q / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(samples: list[Sample], seconds: float) -> dict:
    good = [s.seconds * 1000 for s in samples if s.ok]
    errors: dict[str, int] = {}
    for s in samples:
        if not s.ok:
            key = s.error.split(":")[0] if s.status == 0 else f"HTTP {s.status}"
            errors[key] = errors.get(key, 0) + 1
    return {
        "requests": len(samples),
        "errors": len(samples) - len(good),
        "error_kinds": errors,
        "throughput_rps": round(len(good) / seconds, 1) if seconds else float("nan"),
        "p50_ms": round(percentile(good, 50), 1),
        "p90_ms": round(percentile(good, 90), 1),
        "p99_ms": round(percentile(good, 99), 1),
        "max_ms": round(max(good), 1) if good else float("nan"),
    }


def write_json(name: str, data: dict) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / name
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def machine_note() -> str:
    load = os.getloadavg()
    return (f"{os.cpu_count()} CPU core(s), load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} at start "
            f"(shared machine: other processes compete; figures are noisy)")


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


if __name__ == "__main__":
    if sys.argv[1:] == ["--seed"]:
        _seed()
    else:
        sys.exit("bench/harness.py is a library; `--seed` is for its own use (inside a prepared environment)")
