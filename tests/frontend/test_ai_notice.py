"""The generative-AI notice Korea's AI Basic Act (Art. 31) asks for: shown before a seller uses the service (sign-up)
and on every page that starts a job, in Korean and English, and in the public API docs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.accounts.factories import MembershipFactory
from tests.frontend.test_job_pages import named_shot
from tests.generation.factories import public_face

pytestmark = pytest.mark.django_db

KO = "가상은 생성형 AI를 씁니다"
EN = "Gasang uses generative AI"


@pytest.mark.parametrize(("language", "notice"), [("ko", "인공지능기본법 제31조"), ("en", "AI Basic Act, Art. 31")])
def test_sign_up_tells_the_seller_in_advance_that_gasang_uses_generative_ai(client, language, notice):
    page = client.get(reverse("signup"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert (KO if language == "ko" else EN) in page and notice in page


def test_every_page_that_starts_a_job_carries_the_notice(client):
    membership = MembershipFactory()
    client.force_login(membership.user)
    public_face()
    shot = named_shot(membership.store, "look-front.jpg")
    pages = [reverse("batch-new"), reverse("second-generation"), reverse("shot-detail", args=[shot.pk]),
             reverse("gallery"), reverse("candidates")]
    for url in pages:
        assert KO in client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode(), url


def test_the_public_api_docs_state_it_in_both_languages(client):
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/json").json()
    assert EN in schema["info"]["description"] and KO in schema["info"]["description"]
