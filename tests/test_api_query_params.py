"""Bad query parameters, NUL characters and OPTIONS get clear 4xx answers (or 200 for OPTIONS), never a 500.

NUL characters are what PostgreSQL refuses (psycopg raises on the query, jsonb rejects ``\\u0000``), so those
cases run against the real database (``services``).
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from generation.models import WebhookDelivery, WebhookEndpoint
from tests.accounts.factories import MembershipFactory, token_for
from tests.catalog.factories import ModelFaceFactory
from tests.tenant_factories import TENANT_FACTORIES
from tests.test_tenant_isolation import ROUTES

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    return MembershipFactory()


@pytest.fixture
def api(owner) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(owner)}")
    return client


def assert_refused(response, field: str) -> None:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"} and body["code"] == "invalid", body
    assert field in body["errors"], body


@pytest.mark.services
@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/jobs/?state=%00", "state"),
        ("/api/v1/jobs/?kind=%00", "kind"),
        ("/api/v1/faces/?tags=%00", "tags"),
        ("/api/v1/gallery/?tags=%00", "tags"),
        ("/api/v1/gallery/?tags=elegant,fr%00esh", "tags"),
        ("/api/v1/presets/?anything=%00", "anything"),
        ("/api/v1/jobs/?cursor=%00", "cursor"),
    ],
)
def test_nul_in_a_query_parameter_is_refused_with_400(api, url, field):
    assert_refused(api.get(url), field)


@pytest.mark.services
def test_nul_inside_a_json_body_is_refused_with_400(api):
    response = api.post(
        "/api/v1/presets/", {"name": "Look", "params": {"face_tags": ["elegant\u0000"]}}, format="json"
    )

    assert_refused(response, "body")


@pytest.mark.services
def test_an_escaped_backslash_before_u0000_is_ordinary_text(api):
    response = api.post("/api/v1/presets/", {"name": "Look \\u0000", "params": {}}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["name"] == "Look \\u0000"


@pytest.mark.services
def test_the_dashboard_refuses_nul_in_a_query_with_a_plain_400(client, owner):
    client.force_login(owner.user)

    response = client.get("/gallery/?tag=%00")

    assert response.status_code == 400 and b"NUL" in response.content


@pytest.mark.parametrize(
    "url, field",
    [
        ("/api/v1/webhook-deliveries/?endpoint=abc", "endpoint"),
        ("/api/v1/webhook-deliveries/?endpoint=-1", "endpoint"),
        ("/api/v1/webhook-deliveries/?endpoint=99999999999999999999999", "endpoint"),
        ("/api/v1/jobs/?state=AAA", "state"),
        ("/api/v1/jobs/?kind=AAA", "kind"),
        ("/api/v1/jobs/?batch=abc", "batch"),
        ("/api/v1/gallery/?scope=AAA", "scope"),
        ("/api/v1/faces/?tags=" + ",".join(f"t{i}" for i in range(21)), "tags"),
        ("/api/v1/jobs/?page_size=-1", "page_size"),
        ("/api/v1/jobs/?page_size=0", "page_size"),
        ("/api/v1/jobs/?page_size=abc", "page_size"),
        ("/api/v1/faces/?page_size=201", "page_size"),
        ("/api/v1/gallery/?page_size=1.5", "page_size"),
    ],
)
def test_invalid_filter_and_page_size_values_are_refused_with_400(api, url, field):
    assert_refused(api.get(url), field)


def test_a_token_with_an_unknown_scope_is_refused(client, owner):
    client.force_login(owner.user)

    response = client.post("/api/v1/tokens/", {"name": "ci", "scopes": ["AAA"]}, content_type="application/json")

    assert_refused(response, "scopes")


def test_valid_filters_still_filter_and_empty_ones_mean_no_filter(api, owner):
    hook = WebhookEndpoint.objects.create(store=owner.store, url="https://example.com/a", secret="whsec_AAAA")
    other = WebhookEndpoint.objects.create(store=owner.store, url="https://example.com/b", secret="whsec_BBBB")
    delivery = WebhookDelivery.objects.create(store=owner.store, endpoint=hook, event_type="job.completed", payload={})
    WebhookDelivery.objects.create(store=owner.store, endpoint=other, event_type="job.completed", payload={})
    tagged = ModelFaceFactory(store=owner.store, created_by=owner.user, tags=["elegant"])
    ModelFaceFactory(store=owner.store, created_by=owner.user, tags=["fresh"])

    deliveries = api.get(f"/api/v1/webhook-deliveries/?endpoint={hook.pk}").json()["results"]
    everything = api.get("/api/v1/webhook-deliveries/?endpoint=").json()["results"]
    faces = api.get("/api/v1/gallery/?scope=store&tags=Elegant").json()["results"]
    first_page = api.get("/api/v1/faces/?page_size=1").json()
    unfiltered_jobs = api.get("/api/v1/jobs/?state=&kind=&batch=&page_size=")

    assert [d["id"] for d in deliveries] == [str(delivery.pk)]
    assert len(everything) == 2
    assert [f["id"] for f in faces] == [tagged.pk]
    assert len(first_page["results"]) == 1 and first_page["next"]
    assert unfiltered_jobs.status_code == 200


def _detail_pk(route, owner) -> int | str | None:
    model = getattr(route.view, "model", None)
    if not route.is_detail or model is None:
        return None
    return TENANT_FACTORIES[model](owner.store, owner).pk


@pytest.mark.parametrize("route", ROUTES, ids=lambda route: route.path)
def test_options_answers_every_api_route_without_a_server_error(owner, route):
    client = APIClient(raise_request_exception=False)
    client.force_login(owner.user)  # an owner's session may read every route

    response = client.options(route.url(_detail_pk(route, owner)))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["schema"].endswith("/api/schema/") and "OPTIONS" in body["allowed_methods"]
