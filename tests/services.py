"""Real PostgreSQL and Redis for the test suite, never mocks.

Use the servers on 127.0.0.1 (5432 / 6379) when they answer; otherwise start
throwaway servers from the installed binaries on free ports, stopped at exit.
``TEST_DATABASE_URL`` / ``TEST_REDIS_URL`` point the suite somewhere else.
"""

from __future__ import annotations

import atexit
import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Services:
    database_url: str | None = None
    redis_url: str | None = None
    problems: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_for_port(port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open("127.0.0.1", port):
            return True
        time.sleep(0.1)
    return False


def _pg_user(host: str, port: int) -> str | None:
    import psycopg2

    for user in dict.fromkeys([os.environ.get("PGUSER"), "postgres", getpass.getuser()]):
        if not user:
            continue
        try:
            psycopg2.connect(host=host, port=port, user=user, dbname="postgres", connect_timeout=3).close()
            return user
        except psycopg2.Error:
            continue
    return None


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI containers often are root.
    if os.geteuid() == 0 and shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_throwaway_postgres() -> tuple[int, str]:
    """Start a private PostgreSQL on a free port; returns (port, superuser). Raises RuntimeError."""
    initdb, postgres = _pg_bin("initdb"), _pg_bin("postgres")
    if not initdb or not postgres:
        raise RuntimeError("no PostgreSQL binaries (initdb/postgres) installed")
    data = Path(tempfile.mkdtemp(prefix="gasang-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    user = "postgres" if os.geteuid() == 0 else getpass.getuser()
    subprocess.run(_as_postgres_user([initdb, "-D", str(data), "-U", user, "-A", "trust"]),
                   check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(
        _as_postgres_user([postgres, "-D", str(data), "-p", str(port), "-k", str(data),
                           "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    atexit.register(lambda: (proc.terminate(), proc.wait(15), shutil.rmtree(data, ignore_errors=True)))
    if not _wait_for_port(port):
        raise RuntimeError("throwaway PostgreSQL did not start")
    time.sleep(0.3)
    return port, user


def start_throwaway_redis() -> int:
    server = shutil.which("redis-server")
    if not server:
        raise RuntimeError("no redis-server binary installed")
    port = free_port()
    proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    atexit.register(lambda: (proc.terminate(), proc.wait(15)))
    if not _wait_for_port(port):
        raise RuntimeError("throwaway Redis did not start")
    return port


def _postgres_url() -> tuple[str | None, str | None]:
    name = f"gasang_{uuid.uuid4().hex[:10]}"  # Django creates test_<name>; unique so parallel runs never collide
    if os.environ.get("TEST_DATABASE_URL"):
        return os.environ["TEST_DATABASE_URL"], None
    user = _pg_user("127.0.0.1", 5432) if _port_open("127.0.0.1", 5432) else None
    if user:
        return f"postgres://{user}@127.0.0.1:5432/{name}", None
    try:
        port, user = start_throwaway_postgres()
    except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
        return None, f"PostgreSQL unavailable: {exc}"
    return f"postgres://{user}@127.0.0.1:{port}/{name}", None


def _redis_url() -> tuple[str | None, str | None]:
    if os.environ.get("TEST_REDIS_URL"):
        return os.environ["TEST_REDIS_URL"], None
    if _port_open("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0", None
    try:
        return f"redis://127.0.0.1:{start_throwaway_redis()}/0", None
    except (RuntimeError, OSError) as exc:
        return None, f"Redis unavailable: {exc}"


def provision() -> Services:
    services = Services()
    services.database_url, pg_problem = _postgres_url()
    services.redis_url, redis_problem = _redis_url()
    services.problems = [p for p in (pg_problem, redis_problem) if p]
    return services
