"""What each role may do: viewers read, editors also write store content, only owners manage the store."""

import pytest

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, UserFactory, token_for

pytestmark = pytest.mark.django_db

ALLOWED, FORBIDDEN = "allowed", "forbidden"

# action -> expected outcome for (viewer, editor, owner)
MATRIX = {
    "read store": (ALLOWED, ALLOWED, ALLOWED),
    "list members": (ALLOWED, ALLOWED, ALLOWED),
    "list tokens": (ALLOWED, ALLOWED, ALLOWED),
    "create token": (FORBIDDEN, ALLOWED, ALLOWED),
    "rename store": (FORBIDDEN, FORBIDDEN, ALLOWED),
    "invite member": (FORBIDDEN, FORBIDDEN, ALLOWED),
    "list invitations": (FORBIDDEN, FORBIDDEN, ALLOWED),
    "change a role": (FORBIDDEN, FORBIDDEN, ALLOWED),
    "remove a member": (FORBIDDEN, FORBIDDEN, ALLOWED),
}


def perform(client, action: str, other_member_id: int):
    json = "application/json"
    return {
        "read store": lambda: client.get("/api/v1/store/"),
        "list members": lambda: client.get("/api/v1/members/"),
        "list tokens": lambda: client.get("/api/v1/tokens/"),
        "create token": lambda: client.post("/api/v1/tokens/", {"name": "t", "scopes": ["read"]}, content_type=json),
        "rename store": lambda: client.patch("/api/v1/store/", {"name": "Renamed"}, content_type=json),
        "invite member": lambda: client.post("/api/v1/invitations/", {"email": "n@example.com"}, content_type=json),
        "list invitations": lambda: client.get("/api/v1/invitations/"),
        "change a role": lambda: client.patch(f"/api/v1/members/{other_member_id}/", {"role": "editor"},
                                              content_type=json),
        "remove a member": lambda: client.delete(f"/api/v1/members/{other_member_id}/"),
    }[action]()


@pytest.mark.parametrize("action", MATRIX)
@pytest.mark.parametrize("role_index, role", enumerate([Role.VIEWER, Role.EDITOR, Role.OWNER]))
def test_role_matrix(client, action, role_index, role):
    store_owner = MembershipFactory()
    actor = MembershipFactory(store=store_owner.store, role=role)
    other = MembershipFactory(store=store_owner.store, role=Role.VIEWER)
    client.force_login(actor.user)

    response = perform(client, action, other.pk)

    expected = MATRIX[action][role_index]
    if expected == ALLOWED:
        assert response.status_code in (200, 201, 204), response.content
    else:
        assert response.status_code == 403, response.content
        assert "role" in response.json()["detail"]


def test_tokens_never_act_as_owner_even_when_created_by_one(client):
    owner = MembershipFactory()
    plaintext = token_for(owner)

    response = client.post("/api/v1/invitations/", {"email": "n@example.com"}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    assert response.status_code == 403 and "API tokens cannot" in response.json()["detail"]


def test_last_owner_cannot_be_demoted_or_removed(client):
    owner = MembershipFactory()
    client.force_login(owner.user)

    demote = client.patch(f"/api/v1/members/{owner.pk}/", {"role": "viewer"}, content_type="application/json")
    remove = client.delete(f"/api/v1/members/{owner.pk}/")

    assert demote.status_code == 400 and "owner" in demote.json()["detail"]
    assert remove.status_code == 400


def test_user_without_store_gets_clear_403(client):
    client.force_login(UserFactory())

    response = client.get("/api/v1/store/")

    assert response.status_code == 403 and "not a member" in response.json()["detail"]
