"""An owner issues API tokens: shown once, stored hashed, rejected once revoked or expired."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ApiToken
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

    read = client.get("/api/v1/tokens/", **bearer(plaintext))
    write = client.post("/api/v1/tokens/", {"name": "x"}, content_type="application/json", **bearer(plaintext))

    assert read.status_code == 200
    assert write.status_code == 403 and "write" in write.json()["detail"]


def test_token_stops_working_when_its_creator_leaves_the_store(client):
    owner = MembershipFactory()
    editor = MembershipFactory(store=owner.store, role="editor")
    plaintext = token_for(editor)
    client.force_login(owner.user)
    client.delete(f"/api/v1/members/{editor.pk}/")

    assert client.get("/api/v1/store/", **bearer(plaintext)).status_code == 401
