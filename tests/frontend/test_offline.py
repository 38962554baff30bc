"""Without internet everything still works: the API docs and the dashboard load only this server's own files
(ReDoc from drf-spectacular-sidecar, no CDN scripts, no web fonts)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory

DASHBOARD_PAGES = ["home", "shots", "gallery", "jobs", "presets", "settings", "settings-billing"]


@pytest.mark.django_db
def test_the_docs_page_references_only_this_servers_static_files(client):
    html = client.get(reverse("api-docs")).content.decode()

    urls = re.findall(r'(?:src|href|spec-url)="([^"]+)"', html)
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    assert "http://" not in html and "https://" not in html and "fonts.googleapis" not in html


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_docs_and_dashboard_load_nothing_from_another_host(page, live_server):
    own_host = urlsplit(live_server.url).netloc
    elsewhere: list[str] = []

    def only_this_server(route):
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).netloc != own_host:
            elsewhere.append(url)
            route.abort()  # as on a machine without internet
        else:
            route.continue_()

    page.route("**/*", only_this_server)

    page.goto(reverse("api-docs"))
    page.get_by_role("heading", name=re.compile("Gasang API")).wait_for()
    assert page.get_by_text("Virtual model faces for online stores").first.is_visible()

    member = MembershipFactory()
    page.goto(reverse("login"))
    page.get_by_label("이메일 주소").fill(member.user.email)
    page.get_by_label("비밀번호").fill("correct-horse-battery")
    page.locator("main").get_by_role("button", name="로그인").click()
    page.wait_for_url("**/")
    for name in DASHBOARD_PAGES:
        page.goto(reverse(name))
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == "ko", name
        assert page.get_by_role("navigation", name="주 메뉴").is_visible(), name

    assert not elsewhere, f"requests to other hosts: {elsewhere}"
