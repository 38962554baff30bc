"""One way to create a store-owned object per API model, for the cross-tenant route matrix.

A new API route whose model has no entry here makes tests/test_tenant_isolation.py fail,
so every new resource is covered by the matrix the day it is added.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Model

from accounts.models import ApiToken, Invitation, Membership, Role, Store
from accounts.services import api_token_create, invitation_create
from catalog.models import ModelFace, ProductShot, StylePreset
from tests.accounts.factories import MembershipFactory
from tests.catalog.factories import ModelFaceFactory, ProductShotFactory, StylePresetFactory

TENANT_FACTORIES: dict[type[Model], Callable[[Store, Membership], Model]] = {
    Membership: lambda store, owner: MembershipFactory(store=store, role=Role.VIEWER),
    Invitation: lambda store, owner: invitation_create(
        store=store, invited_by=owner.user, email=f"invitee-{store.pk}@example.com", role=Role.VIEWER
    ).obj,
    ApiToken: lambda store, owner: api_token_create(
        store=store, created_by=owner.user, name="other", scopes=["read"]
    ).obj,
    StylePreset: lambda store, owner: StylePresetFactory(store=store),
    ProductShot: lambda store, owner: ProductShotFactory(store=store, uploaded_by=owner.user),
    ModelFace: lambda store, owner: ModelFaceFactory(store=store, created_by=owner.user),
}


def register(model: type[Model], factory: Callable[[Store, Membership], Model]) -> None:
    TENANT_FACTORIES[model] = factory


def _generation_factories() -> None:
    from django.utils import timezone

    from catalog.models import ModelFace
    from generation.models import Batch, Job, ParentPhoto, WebhookDelivery, WebhookEndpoint

    def face(store):
        return ModelFace.objects.create(store=store, image=f"stores/{store.pk}/faces/x.png")

    def endpoint(store):
        return WebhookEndpoint.objects.create(store=store, url="https://example.com/hook", secret="whsec_AAAA")

    register(Job, lambda store, owner: Job.objects.create(store=store, kind="restore", created_by=owner.user))
    register(Batch, lambda store, owner: Batch.objects.create(store=store, face=face(store), created_by=owner.user))
    register(WebhookEndpoint, lambda store, owner: endpoint(store))
    register(ParentPhoto, lambda store, owner: ParentPhoto.objects.create(
        store=store, image=f"stores/{store.pk}/parents/p.jpg", relation="mother", consent_given_by="someone",
        consent_purpose="a child portrait", consent_given_at=timezone.now(), created_by=owner.user))
    register(WebhookDelivery, lambda store, owner: WebhookDelivery.objects.create(
        store=store, endpoint=endpoint(store), event_type="job.completed", payload={}))


_generation_factories()


def _billing_factories() -> None:
    import tests.billing.factories  # noqa: F401 - registers Invoice


_billing_factories()
