"""One way to create a store-owned object per API model, for the cross-tenant route matrix.

A new API route whose model has no entry here makes tests/test_tenant_isolation.py fail,
so every new resource is covered by the matrix the day it is added.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Model

from accounts.models import ApiToken, Invitation, Membership, Role, Store
from accounts.services import api_token_create, invitation_create
from tests.accounts.factories import MembershipFactory

TENANT_FACTORIES: dict[type[Model], Callable[[Store, Membership], Model]] = {
    Membership: lambda store, owner: MembershipFactory(store=store, role=Role.VIEWER),
    Invitation: lambda store, owner: invitation_create(
        store=store, invited_by=owner.user, email=f"invitee-{store.pk}@example.com", role=Role.VIEWER
    ).obj,
    ApiToken: lambda store, owner: api_token_create(
        store=store, created_by=owner.user, name="other", scopes=["read"]
    ).obj,
}


def register(model: type[Model], factory: Callable[[Store, Membership], Model]) -> None:
    TENANT_FACTORIES[model] = factory
