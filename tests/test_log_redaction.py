"""Invitation and password-reset secrets never reach the logs: Django's request log or gunicorn's access log."""

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from accounts import services
from accounts.models import Role
from config.gunicorn_logging import GunicornLogger
from tests.accounts.factories import MembershipFactory


@pytest.fixture
def production_log():
    """What the root console handler (config.settings.base.LOGGING) writes, as text."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_visited_invitation_link_is_logged_without_its_secret(client, production_log):
    owner = MembershipFactory()
    issued = services.invitation_create(store=owner.store, invited_by=owner.user, email="knit@example.com",
                                        role=Role.VIEWER)
    services.invitation_accept(secret=issued.plaintext, user=MembershipFactory(user__email="knit@example.com").user)

    used = client.get(f"/invite/{issued.plaintext}/")  # 404: Django logs "Not Found: <path>"

    log = production_log.getvalue()
    assert used.status_code == 404 and "Not Found: /invite/[redacted]/" in log
    assert issued.plaintext not in log


def test_gunicorn_access_log_redacts_reset_and_invitation_secrets(capsys):
    config = Config()
    config.set("accesslog", "-")
    logger = GunicornLogger(config)
    environ = {
        "REQUEST_METHOD": "GET", "RAW_URI": "/accounts/reset/MQ/cb7x-0f1e2d3c4b5a69788796a5b4c3d2e1f0/",
        "PATH_INFO": "/accounts/reset/MQ/cb7x-0f1e2d3c4b5a69788796a5b4c3d2e1f0/", "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "198.51.100.7",
        "HTTP_REFERER": "https://app.gasang.example/accounts/login/?next=%2Finvite%2FsEcReT-Invite_123%2F",
    }
    response = SimpleNamespace(status="302 Found", sent=0, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])

    logger.access(response, request, environ, timedelta(milliseconds=3))

    line = capsys.readouterr().out
    assert "GET /accounts/reset/MQ/[redacted]/ HTTP/1.1" in line and "%2Finvite%2F[redacted]%2F" in line
    assert "cb7x-0f1e2d3c4b5a69788796a5b4c3d2e1f0" not in line and "sEcReT-Invite_123" not in line
