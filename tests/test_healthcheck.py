"""The compose health check passes with production settings (behind a TLS-terminating proxy).

gunicorn runs the app with the production environment; the web service's healthcheck command from
docker/compose.yml runs as written (only its port changed), over plain http, with the container's own address as
Host — as Docker runs it. Every other path keeps the https redirect and the ALLOWED_HOSTS check.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.services import free_port
from tests.test_deploy_settings import PRODUCTION_ENV

ROOT = Path(__file__).resolve().parents[1]


def compose_healthcheck() -> list[str]:
    compose = yaml.safe_load((ROOT / "docker" / "compose.yml").read_text())
    test = compose["services"]["web"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python"], test
    return test[2:]


@pytest.fixture(scope="module")
def production_web():
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "GASANG_VAR_DIR"}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [str(gunicorn), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env={**clean, **PRODUCTION_ENV}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(port, "/favicon.ico", host="app.gasang.example")
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("gunicorn exited:\n" + proc.stdout.read().decode(errors="replace"))
            time.sleep(0.2)
    yield port
    proc.terminate()
    proc.wait(20)


def get(port: int, path: str, host: str, headers: dict | None = None) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": host, **(headers or {})})
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def test_the_compose_healthcheck_command_passes_with_production_settings(production_web):
    command = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{production_web}") for arg in compose_healthcheck()]

    result = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=30)

    assert result.returncode == 0, result.stderr


def test_healthz_answers_200_over_plain_http_to_the_containers_address(production_web):
    response = get(production_web, "/healthz", host=f"127.0.0.1:{production_web}")

    assert response.status == 200 and json.loads(response.body) == {"status": "ok"}


def test_other_paths_keep_the_https_redirect_and_the_host_check(production_web):
    plain = get(production_web, "/api/v1/", host="app.gasang.example")
    foreign = get(production_web, "/api/v1/", host="evil.example", headers={"X-Forwarded-Proto": "https"})

    assert plain.status == 301 and plain.getheader("Location") == "https://app.gasang.example/api/v1/"
    assert foreign.status == 400
