"""Password guessing is stopped per account and per address, with a clear message, and ends after the lockout."""

import os
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.accounts.factories.UserFactory's
LIMITS = {"LOGIN_MAX_FAILURES_PER_ACCOUNT": 3, "LOGIN_MAX_FAILURES_PER_IP": 5, "LOGIN_LOCKOUT_SECONDS": 900}
MESSAGE = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def small_limits():
    with override_settings(**LIMITS):
        yield


def fresh_ip() -> str:
    """An address of its own for each test (the counters live in the suite's shared Redis)."""
    return "2001:db8:" + ":".join(uuid.uuid4().hex[i:i + 4] for i in range(0, 24, 4))


def log_in(client, email, password, ip, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def test_account_is_locked_after_failures_even_with_the_right_password_from_another_address(client):
    # Before: 30 wrong logins in 20 s were all answered normally.
    user = UserFactory()
    attacker_ip = fresh_ip()
    failures = [log_in(client, user.email, f"guess-{n}", attacker_ip) for n in range(3)]

    refused = log_in(client, user.email, PASSWORD, fresh_ip())

    assert all(f.status_code == 200 and MESSAGE not in f.content.decode() for f in failures)
    assert refused.status_code == 429 and MESSAGE in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 900 and "15 minutes" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_address_is_locked_across_accounts(client):
    ip = fresh_ip()
    for n in range(5):  # one guess each for five accounts: no account reaches its own limit
        log_in(client, f"victim{n}-{uuid.uuid4().hex[:6]}@example.com", "guess", ip)
    own_account = UserFactory()

    from_that_address = log_in(client, own_account.email, PASSWORD, ip)
    from_elsewhere = log_in(client, own_account.email, PASSWORD, fresh_ip())

    assert from_that_address.status_code == 429 and MESSAGE in from_that_address.content.decode()
    assert from_elsewhere.status_code == 302


def test_lock_ends_after_the_lockout_window(client, time_machine):
    time_machine.move_to(datetime(2030, 3, 1, 9, 0, tzinfo=UTC), tick=False)
    user = UserFactory()
    ip = fresh_ip()
    for n in range(3):
        log_in(client, user.email, f"guess-{n}", ip)
    assert log_in(client, user.email, PASSWORD, ip).status_code == 429

    time_machine.shift(timedelta(seconds=899))
    still_locked = log_in(client, user.email, PASSWORD, ip)
    time_machine.shift(timedelta(seconds=2))
    after = log_in(client, user.email, PASSWORD, ip)

    assert still_locked.status_code == 429 and still_locked["Retry-After"] == "1"
    assert after.status_code == 302 and after.url == reverse("home")


def test_a_correct_login_clears_the_accounts_failures(client):
    user = UserFactory()
    ip = fresh_ip()
    for n in range(2):
        log_in(client, user.email, f"guess-{n}", ip)
    assert log_in(client, user.email, PASSWORD, ip).status_code == 302
    client.logout()

    for n in range(2):
        log_in(client, user.email, f"typo-{n}", ip)

    assert log_in(client, user.email, PASSWORD, ip).status_code == 302


def test_message_is_korean_for_korean_users(client):
    user = UserFactory()
    ip = fresh_ip()
    for n in range(3):
        log_in(client, user.email, f"guess-{n}", ip)

    refused = log_in(client, user.email, PASSWORD, ip, HTTP_ACCEPT_LANGUAGE="ko")

    assert refused.status_code == 429 and "로그인 실패가 너무 많습니다. 15분 후에 다시 시도하세요." in (
        refused.content.decode())


def test_admin_login_shares_the_throttle(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    ip = fresh_ip()
    for n in range(3):
        client.post("/admin/login/", {"username": staff.email, "password": f"guess-{n}"}, REMOTE_ADDR=ip)

    refused = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD}, REMOTE_ADDR=fresh_ip())

    assert MESSAGE in refused.content.decode() and "_auth_user_id" not in client.session


def test_guesses_sent_all_at_once_get_no_more_password_checks_than_the_limit(settings):
    """An attacker sends 12 guesses for one account at the same instant, each from its own address: only the
    account's limit (3) of them reach the password check; the others are refused without one."""
    from django.core.exceptions import PermissionDenied
    from django.db import connections
    from django.test import RequestFactory

    from accounts.login_throttle import ThrottledModelBackend

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # a real hash: the slow part
    email, backend, guesses = f"victim-{uuid.uuid4().hex[:8]}@example.com", ThrottledModelBackend(), 12
    start, outcomes = threading.Barrier(guesses), []

    def guess(n: int) -> None:
        request = RequestFactory().post("/accounts/login/", REMOTE_ADDR=fresh_ip())
        start.wait()
        try:
            backend.authenticate(request, username=email, password=f"guess-{n}")
            outcomes.append("checked")
        except PermissionDenied:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["checked"] * 3 + ["refused"] * 9


@pytest.mark.services
def test_lock_is_seen_by_every_web_process(client, redis_url):
    """The counters live in Redis: a lock recorded by one process (this one) holds in another (a subprocess)."""
    user = UserFactory()
    for n in range(3):
        log_in(client, user.email, f"guess-{n}", fresh_ip())
    probe = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from accounts.login_throttle import retry_after\n"
        f"print(retry_after(request=RequestFactory().post('/', REMOTE_ADDR='192.0.2.1'), username='{user.email}'))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}

    other_process = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2], env=env,
                                   capture_output=True, text=True, timeout=60)

    assert other_process.returncode == 0, other_process.stderr
    assert 0 < int(other_process.stdout.strip()) <= 900


def test_logins_still_work_while_the_cache_is_down(client):
    user = UserFactory()
    down = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
                        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}}}
    with override_settings(CACHES=down):
        response = log_in(client, user.email, PASSWORD, fresh_ip())

    assert response.status_code == 302
