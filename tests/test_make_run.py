"""`make run`'s steps on a fresh data folder: migrate, seed the demo store, start web + workers, sign in."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from accounts.management.commands.seed_demo import DEMO_EMAIL, DEMO_PASSWORD
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def embedded_env(var_dir: Path, port: int) -> dict:
    keep = {k: v for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_BACKEND", "DJANGO_SETTINGS_MODULE"}}
    return {**keep, "GASANG_VAR_DIR": str(var_dir), "PORT": str(port), "PYTHONUNBUFFERED": "1"}


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds}s")


def test_embedded_stack_starts_and_demo_login_signs_in(tmp_path):
    port = free_port()
    env = embedded_env(tmp_path / "var", port)
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    seeded = subprocess.run([python, "manage.py", "seed_demo"], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in seeded.stdout

    stack = subprocess.Popen([python, "-m", "config.run_embedded"], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz")
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = browser.open(base + "/").read().decode()  # redirected to the login form
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf, "username": DEMO_EMAIL,
                                       "password": DEMO_PASSWORD}).encode()
        request = urllib.request.Request(base + "/accounts/login/", data=form, headers={"Referer": base + "/"})
        home = browser.open(request)
        time.sleep(3)  # give the workers time to fail if they are going to
        assert home.geturl() == base + "/"
        assert "가상 데모 스토어" in home.read().decode()
        assert stack.poll() is None, "the stack stopped: a worker or the web server died"
    finally:
        os.killpg(stack.pid, signal.SIGINT)
        output = stack.communicate(timeout=30)[0]
    assert "gpu@" in output and "events@" in output and "webhooks@" in output and "ready" in output
    assert f"http://127.0.0.1:{port}/" in output
