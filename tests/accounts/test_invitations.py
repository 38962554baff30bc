"""An invitation link works only for the account with the invited e-mail address."""

import re

import pytest
from django.core.exceptions import ValidationError

from accounts import services
from accounts.models import Invitation, Membership, Role
from tests.accounts.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def invite(client, owner, email="knit@example.com") -> str:
    client.force_login(owner.user)
    created = client.post("/api/v1/invitations/", {"email": email, "role": "editor"}, content_type="application/json")
    assert created.status_code == 201
    client.logout()
    return re.sub(r"^https?://[^/]+", "", created.json()["accept_url"])


def test_someone_else_holding_the_link_cannot_join(client):
    # Before: anyone logged in who held the link joined the store.
    owner = MembershipFactory()
    accept_path = invite(client, owner)
    intruder = UserFactory(email="intruder@example.com")
    client.force_login(intruder)

    page = client.get(accept_path)
    accepted = client.post(accept_path)

    for response in (page, accepted):
        assert response.status_code == 403
        html = response.content.decode()
        assert "k***@example.com" in html and "intruder@example.com" in html
        assert "knit@example.com" not in html  # the full address is not handed to whoever holds a leaked link
        assert "Accept invitation" not in html
    assert not Membership.objects.filter(user=intruder, store=owner.store).exists()
    assert Invitation.objects.get().is_pending


def test_the_invited_address_joins_whatever_its_letter_case(client):
    owner = MembershipFactory()
    accept_path = invite(client, owner, email="Knit@Example.com")
    invitee = UserFactory(email="KNIT@example.COM")
    client.force_login(invitee)

    joined = client.post(accept_path)

    assert joined.status_code == 302
    assert Membership.objects.get(user=invitee, store=owner.store).role == Role.EDITOR


def test_refusal_is_in_korean_for_korean_users(client):
    owner = MembershipFactory()
    accept_path = invite(client, owner)
    client.force_login(UserFactory(email="intruder@example.com"))

    page = client.get(accept_path, HTTP_ACCEPT_LANGUAGE="ko")

    assert page.status_code == 403 and "초대된 이메일 주소로 로그인" in page.content.decode()


def test_service_refuses_a_mismatched_account_with_a_clear_code():
    owner = MembershipFactory()
    issued = services.invitation_create(store=owner.store, invited_by=owner.user, email="knit@example.com",
                                        role=Role.VIEWER)

    with pytest.raises(ValidationError) as refused:
        services.invitation_accept(secret=issued.plaintext, user=UserFactory(email="other@example.com"))

    assert refused.value.code == "email_mismatch" and "k***@example.com" in refused.value.messages[0]
