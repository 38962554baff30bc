"""An owner issues API tokens: shown once, stored hashed, rejected once revoked or expired."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.accounts.factories import MembershipFactory, token_for

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def all_database_text() -> str:
    """Every value of every table, as text, to prove a secret was never written anywhere."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            chunks.extend(str(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_created_token_is_shown_once_and_never_stored_in_plaintext(client):
    owner = MembershipFactory()
    client.force_login(owner.user)

    created = client.post("/api/v1/tokens/", {"name": "shop sync", "scopes": ["read", "write"]},
                          content_type="application/json")
    plaintext = created.json()["token"]

    assert created.status_code == 201 and plaintext.startswith("gsk_")
    assert plaintext not in all_database_text()
    listed = client.get("/api/v1/tokens/").json()["results"]
    assert [t["prefix"] for t in listed] == [plaintext[:12]] and "token" not in listed[0]
    works = client.generic("GET", "/api/v1/store/", **bearer(plaintext))
    assert works.status_code == 200 and works.json()["slug"] == owner.store.slug


def test_token_use_records_last_used(client):
    owner = MembershipFactory()
    plaintext = token_for(owner)

    client.get("/api/v1/store/", **bearer(plaintext))

    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown", "malformed"])
def test_revoked_expired_and_unknown_tokens_get_401(client, state):
    owner = MembershipFactory()
    plaintext = token_for(owner)
    token = ApiToken.objects.get()
    headers = bearer(plaintext)
    if state == "revoked":
        client.force_login(owner.user)
        assert client.delete(f"/api/v1/tokens/{token.pk}/").json()["revoked_at"]
        client.logout()
    elif state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif state == "unknown":
        headers = bearer("gsk_" + "x" * 43)
    else:
        headers = {"HTTP_AUTHORIZATION": "Bearer"}

    response = client.get("/api/v1/store/", **headers)

    assert response.status_code == 401
    assert response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expiry_in_the_past_is_refused(client):
    owner = MembershipFactory()
    client.force_login(owner.user)

    response = client.post("/api/v1/tokens/", {"name": "old", "expires_at": "2001-01-01T00:00:00Z"},
                           content_type="application/json")

    assert response.status_code == 400 and "future" in response.json()["detail"]


def test_read_scope_token_cannot_write(client):
    owner = MembershipFactory()
    plaintext = token_for(owner, scopes=["read"])

    read = client.get("/api/v1/presets/", **bearer(plaintext))
    write = client.post("/api/v1/presets/", {"name": "x"}, content_type="application/json", **bearer(plaintext))

    assert read.status_code == 200
    assert write.status_code == 403 and "write" in write.json()["detail"]


def test_a_token_cannot_mint_list_or_revoke_tokens(client):
    # Before: a write-only token expiring in 15 s minted a read+write token with no expiry, which outlived it.
    owner = MembershipFactory()
    owners_other_token = ApiToken.objects.get(pk=api_token_create(
        store=owner.store, created_by=owner.user, name="shop sync", scopes=["read"]).obj.pk)
    parent = token_for(owner, scopes=["write"], expires_at=timezone.now() + timedelta(seconds=15))
    full = token_for(owner, scopes=["read", "write"])

    minted = client.post("/api/v1/tokens/", {"name": "child", "scopes": ["read", "write"]},
                         content_type="application/json", **bearer(parent))
    listed = client.get("/api/v1/tokens/", **bearer(full))
    shown = client.get(f"/api/v1/tokens/{owners_other_token.pk}/", **bearer(full))
    revoked = client.delete(f"/api/v1/tokens/{owners_other_token.pk}/", **bearer(full))

    for response in (minted, listed, shown, revoked):
        assert response.status_code == 403, response.content
        body = response.json()
        assert body["code"] == "session_required" and "API tokens cannot" in body["detail"]
    assert ApiToken.objects.count() == 3
    owners_other_token.refresh_from_db()
    assert owners_other_token.revoked_at is None


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_dashboard_session_of_owner_or_editor_still_manages_tokens(client, role):
    member = MembershipFactory(store=MembershipFactory().store, role=role)
    client.force_login(member.user)

    created = client.post("/api/v1/tokens/", {"name": "sync", "scopes": ["read"]}, content_type="application/json")
    listed = client.get("/api/v1/tokens/")
    revoked = client.delete(f"/api/v1/tokens/{created.json()['id']}/")

    assert created.status_code == 201 and listed.status_code == 200 and revoked.status_code == 200
    assert [t["id"] for t in listed.json()["results"]] == [created.json()["id"]]
    assert revoked.json()["revoked_at"] is not None


# What a read+write token may do with the store itself (README "API": "What API tokens may do").
TOKEN_BOUNDARIES = [
    ("get", "/api/v1/store/", 200),
    ("patch", "/api/v1/store/", 403),
    ("get", "/api/v1/tokens/", 403),
    ("post", "/api/v1/tokens/", 403),
    ("get", "/api/v1/members/", 403),
    ("get", "/api/v1/invitations/", 403),
    ("post", "/api/v1/invitations/", 403),
    ("get", "/api/v1/webhooks/", 200),
    ("post", "/api/v1/webhooks/", 403),
    ("patch", "/api/v1/webhooks/{webhook}/", 403),
    ("delete", "/api/v1/webhooks/{webhook}/", 403),
    ("post", "/api/v1/webhooks/{webhook}/rotate-secret/", 403),
    ("get", "/api/v1/webhook-deliveries/", 200),
    ("get", "/api/v1/billing/", 200),
    ("get", "/api/v1/billing/usage/", 200),
    ("get", "/api/v1/billing/invoices/", 403),
    ("post", "/api/v1/billing/checkout/", 403),
    ("post", "/api/v1/billing/portal/", 403),
]


@pytest.mark.parametrize("method, path, expected", TOKEN_BOUNDARIES, ids=lambda v: str(v))
def test_what_a_token_may_do_with_the_store(client, method, path, expected):
    from generation.models import WebhookEndpoint
    from tests.tenant_factories import TENANT_FACTORIES

    owner = MembershipFactory()
    webhook = TENANT_FACTORIES[WebhookEndpoint](owner.store, owner)
    body = {"name": "x", "url": "https://example.com/hook", "plan": "pro", "email": "n@example.com"}

    response = getattr(client, method)(path.format(webhook=webhook.pk), body, content_type="application/json",
                                       **bearer(token_for(owner)))

    assert response.status_code == expected, response.content
    if expected == 403:
        assert response.json()["code"] == "session_required"


def test_token_stops_working_when_its_creator_leaves_the_store(client):
    owner = MembershipFactory()
    editor = MembershipFactory(store=owner.store, role="editor")
    plaintext = token_for(editor)
    client.force_login(owner.user)
    client.delete(f"/api/v1/members/{editor.pk}/")

    assert client.get("/api/v1/store/", **bearer(plaintext)).status_code == 401
