"""Suite-wide setup: real services first, then Django (pytest-django finishes setup after this hook)."""

from __future__ import annotations

import os
import sys
import uuid

import pytest

from tests.services import Services, provision

_services_key = pytest.StashKey[Services]()


def pytest_configure(config: pytest.Config) -> None:
    if "config.env" in sys.modules:
        raise pytest.UsageError("config.env was imported before the test services were provisioned; "
                                "import Django/config modules inside fixtures in conftest files")
    services = provision()
    config.stash[_services_key] = services
    if services.problems and os.environ.get("REQUIRE_SERVICES") == "1":
        raise pytest.UsageError("REQUIRE_SERVICES=1 but: " + "; ".join(services.problems))
    if services.database_url:
        os.environ["DATABASE_URL"] = services.database_url
    else:
        os.environ.pop("DATABASE_URL", None)  # SQLite fallback; `services` tests are skipped
        os.environ["GASANG_VAR_DIR"] = os.environ.get("GASANG_VAR_DIR", "var/test")
    if services.redis_url:
        os.environ["REDIS_URL"] = services.redis_url
        # Publishing tests use the real Redis; the prefix keeps this run's queues apart from any other
        # run or developer worker on the same server.
        os.environ["CELERY_BROKER_URL"] = services.redis_url
        os.environ["CELERY_KEY_PREFIX"] = f"gasang-test-{uuid.uuid4().hex[:8]}:"
        os.environ["CELERY_VISIBILITY_TIMEOUT"] = "15"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    from django.conf import settings

    settings.DATABASES  # noqa: B018 - load settings now so pytest-django sets Django up


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    services = config.stash[_services_key]
    if not services.problems:
        return
    skip = pytest.mark.skip(reason="needs real services: " + "; ".join(services.problems))
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    services = config.stash[_services_key]
    if services.problems:
        terminalreporter.write_sep(
            "!", "SERVICE TESTS SKIPPED — " + "; ".join(services.problems) + " (set REQUIRE_SERVICES=1 to fail)",
            red=True, bold=True,
        )
    else:
        terminalreporter.write_line(f"services: PostgreSQL {services.database_url} · Redis {services.redis_url}")


@pytest.fixture(scope="session")
def services(pytestconfig) -> Services:
    return pytestconfig.stash[_services_key]


@pytest.fixture(scope="session")
def redis_url(services) -> str:
    if not services.redis_url:
        pytest.skip("Redis unavailable")
    return services.redis_url


@pytest.fixture(autouse=True)
def _fresh_price_list():
    """Each test starts from the database's price list: a test's rolled-back price edit must not linger."""
    from billing.prices import forget_price_list

    forget_price_list()
    yield
    forget_price_list()
