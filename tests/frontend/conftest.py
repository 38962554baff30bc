"""Browser fixtures: the system Chromium through Playwright, screenshots, and the real worker stack.

Chromium is Debian's (`/usr/bin/chromium`; `make browser-deps` installs it). Without it the browser
tests are skipped with a loud reason. Django and config modules are imported inside fixtures
(see tests/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The S3-API server and the worker stack are shared with the job-path tests.
from tests.generation.conftest import s3_bucket, s3_server, stack  # noqa: F401

CHROMIUM = Path(os.environ.get("GASANG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
SHOTS_DIR = Path(__file__).resolve().parents[2] / "bench" / "out" / "ui"
DESKTOP = {"width": 1280, "height": 800}
MOBILE = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.skip(f"BROWSER TESTS SKIPPED: no Chromium at {CHROMIUM} (run `make browser-deps` or "
                    "`apt-get install -y chromium`)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on the test thread while the browser is open, so Django's
    # async-safety guard would refuse the tests' (synchronous) ORM calls and the database flush after each
    # test. Only while this module's browser is open: `manage.py check --deploy` elsewhere must not see it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(viewport=DESKTOP, locale="ko-KR", accept_downloads=True,
                                   base_url=live_server.url)
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


WIDE_ELEMENTS = """limit => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > limit + 1)
  .slice(-5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


class Screenshots:
    """Saves each step at desktop and mobile width when GASANG_SCREENSHOTS=1 (looked at by hand)."""

    def __init__(self, test_name: str) -> None:
        self.enabled = os.environ.get("GASANG_SCREENSHOTS") == "1"
        self.prefix = test_name.removeprefix("test_")[:40]
        self.count = 0

    def __call__(self, page, step: str) -> None:
        """Check the step at 375 px (no horizontal overflow) and save both widths when enabled."""
        self.count += 1
        name = f"{self.prefix}-{self.count:02d}-{step}"
        if self.enabled:
            SHOTS_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS_DIR / f"{name}-desktop.png"), full_page=True)
        page.set_viewport_size(MOBILE)
        page.wait_for_timeout(100)
        width = page.evaluate("document.documentElement.scrollWidth")
        culprits = page.evaluate(WIDE_ELEMENTS, MOBILE["width"]) if width > MOBILE["width"] else []
        if self.enabled:
            page.screenshot(path=str(SHOTS_DIR / f"{name}-mobile.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        assert width <= MOBILE["width"], f"{name}: the page is {width}px wide at 375px: {culprits}"


@pytest.fixture
def shoot(request):
    return Screenshots(request.node.name)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """``request.node.rep_call``: a fixture's teardown can tell whether the test failed (and keep its evidence)."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
