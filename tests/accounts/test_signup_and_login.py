"""A seller signs up, gets a store they own, logs out and in, and resets a forgotten password."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import Membership, Role, Store, User

pytestmark = pytest.mark.django_db


def signup(client, **overrides):
    data = {"email": "Owner@Example.com", "password": "s3cure-pass-word", "store_name": "Seoul Knit", "locale": "ko"}
    return client.post(reverse("signup"), {**data, **overrides})


def test_signup_creates_store_with_owner_and_logs_in(client):
    response = signup(client)

    assert response.status_code == 302 and response.url == reverse("home")
    user = User.objects.get(email="owner@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == Role.OWNER
    assert membership.store.name == "Seoul Knit"
    home = client.get(reverse("home"))
    assert home.status_code == 200 and "Seoul Knit" in home.content.decode()


def test_signup_rejects_duplicate_email_and_weak_password_with_form_errors(client):
    signup(client)
    client.logout()

    duplicate = signup(client, email="owner@example.com", store_name="Other")
    weak = signup(client, email="new@example.com", password="12345678")

    assert duplicate.status_code == 200 and duplicate.context["form"].errors["email"]
    assert weak.status_code == 200 and weak.context["form"].errors["password"]
    assert Store.objects.count() == 1


def test_login_with_email_and_logout(client):
    signup(client)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302

    bad = client.post(reverse("login"), {"username": "owner@example.com", "password": "wrong"})
    good = client.post(reverse("login"), {"username": "owner@example.com", "password": "s3cure-pass-word"})

    assert bad.status_code == 200 and bad.context["form"].non_field_errors()
    assert good.status_code == 302 and client.get(reverse("home")).status_code == 200


def test_password_reset_by_email_link(client):
    signup(client)
    client.post(reverse("logout"))

    client.post(reverse("password_reset"), {"email": "owner@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"})

    assert done.status_code == 302
    assert client.login(username="owner@example.com", password="brand-new-pass-77")


def test_invitation_link_adds_member_with_role(client):
    from tests.accounts.factories import MembershipFactory, UserFactory

    owner = MembershipFactory()
    client.force_login(owner.user)
    created = client.post("/api/v1/invitations/", {"email": "knit@example.com", "role": "viewer"},
                          content_type="application/json")
    assert created.status_code == 201
    accept_path = re.sub(r"^https?://[^/]+", "", created.json()["accept_url"])

    invitee = UserFactory(email="knit@example.com")
    client.force_login(invitee)
    client.post(accept_path)
    reused = client.post(accept_path)

    assert Membership.objects.get(user=invitee, store=owner.store).role == Role.VIEWER
    assert reused.status_code == 404
