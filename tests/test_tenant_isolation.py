"""Store A can never see or touch store B's data, through any API route.

The routes come from the URL configuration itself, so the matrix grows as routes are added.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.tenancy import _StoreScopedMixin
from tests.accounts.factories import MembershipFactory, token_for
from tests.tenant_factories import TENANT_FACTORIES

API_PREFIX = "api/v1/"
# Routes that are not store data. Keep this empty unless a route truly has no tenant.
UNSCOPED_ROUTES: set[str] = set()


@dataclass(frozen=True)
class Route:
    path: str  # e.g. "api/v1/tokens/<pk>/"
    view: type
    methods: tuple[str, ...]

    @property
    def is_detail(self) -> bool:
        return "<pk>" in self.path

    def url(self, pk: int | None = None) -> str:
        return "/" + self.path.replace("<pk>", str(pk))


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def _normalise(raw: str) -> str:
    # Routers emit regexes like ^tokens/(?P<pk>[^/.]+)/$ ; show them as tokens/<pk>/
    import re

    path = raw.replace("^", "").replace("$", "")
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", path)
    return re.sub(r"<\w+:(\w+)>", r"<\1>", path)


def api_routes() -> list[Route]:
    routes = []
    for raw, callback in _walk(get_resolver().url_patterns):
        path = _normalise(raw)
        if not path.startswith(API_PREFIX) or "format" in path:
            continue
        view = callback.cls
        actions = getattr(callback, "actions", None)
        methods = tuple(actions) if actions else tuple(
            m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)
        )
        routes.append(Route(path, view, methods))
    return routes


ROUTES = api_routes()


@pytest.fixture
def two_stores(db):
    store_a_owner = MembershipFactory()
    store_b_owner = MembershipFactory()
    return store_a_owner, store_b_owner


@pytest.fixture(params=["session", "token"])
def client_of_a(request, client, two_stores):
    owner_a, _ = two_stores
    if request.param == "session":
        client.force_login(owner_a.user)
        return client
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token_for(owner_a)}"
    return client


def test_every_api_route_is_store_scoped():
    assert ROUTES, "no API routes found"
    unscoped = [r.path for r in ROUTES if not issubclass(r.view, _StoreScopedMixin) and r.path not in UNSCOPED_ROUTES]
    assert not unscoped, f"API views must derive from accounts.tenancy's scoped bases: {unscoped}"


def test_every_api_model_has_a_tenant_factory():
    models = {r.view.model for r in ROUTES if getattr(r.view, "model", None)}
    missing = sorted(m.__name__ for m in models if m not in TENANT_FACTORIES)
    assert not missing, f"add these models to tests/tenant_factories.py: {missing}"


@pytest.mark.parametrize("route", [r for r in ROUTES if r.is_detail], ids=lambda r: r.path)
def test_store_b_objects_are_404_for_store_a(route, client_of_a, two_stores):
    _, owner_b = two_stores
    foreign = TENANT_FACTORIES[route.view.model](owner_b.store, owner_b)

    for method in route.methods:
        response = getattr(client_of_a, method)(route.url(foreign.pk), {}, content_type="application/json")
        # A token lacking the owner role may be refused (403) before lookup; it must never succeed or leak.
        assert response.status_code in (404, 403), f"{method.upper()} {route.url(foreign.pk)} -> {response.status_code}"
        if response.status_code == 403:
            assert "token" in response.json()["detail"].lower()
    assert type(foreign).objects.filter(pk=foreign.pk).exists(), "store B's object was deleted by store A"


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.is_detail and "get" in r.methods],
                         ids=lambda r: r.path)
def test_lists_never_show_store_b_rows(route, client_of_a, two_stores):
    owner_a, owner_b = two_stores
    model = getattr(route.view, "model", None)
    if model is None:  # singleton resources such as api/v1/store/ answer for the caller's store only
        response = client_of_a.get(route.url())
        assert response.status_code == 200
        body = response.json()
        assert body.get("id", body.get("store")) == owner_a.store.pk, body
        return
    own = TENANT_FACTORIES[model](owner_a.store, owner_a)
    foreign = TENANT_FACTORIES[model](owner_b.store, owner_b)

    response = client_of_a.get(route.url())

    if response.status_code == 403:  # owner-only lists refuse tokens outright
        assert "token" in response.json()["detail"].lower()
        return
    ids = [str(row["id"]) for row in response.json()["results"]]
    assert str(own.pk) in ids, "the matrix is vacuous if store A cannot see its own row"
    assert str(foreign.pk) not in ids
