"""Reads for accounts. The store is a required argument wherever data belongs to a tenant."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Invitation, Membership, Store, User
from accounts.tokens import hash_secret

# A request's store comes with its options (catalog.StoreOptions, a one-to-one): every job creation reads them.
STORE_AND_OPTIONS = ("store", "store__options")


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related(*STORE_AND_OPTIONS).order_by("store__name")


def membership_for(*, user: User, store: Store) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, store=store).first()


def store_memberships(*, store: Store) -> QuerySet[Membership]:
    return Membership.objects.filter(store=store).select_related("user")


def store_invitations(*, store: Store) -> QuerySet[Invitation]:
    return Invitation.objects.filter(store=store)


def store_api_tokens(*, store: Store) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(store=store)


def api_token_by_secret(*, secret: str) -> ApiToken | None:
    """The active token for a plaintext secret, or None (unknown, revoked or expired)."""
    tokens = ApiToken.objects.select_related(*STORE_AND_OPTIONS, "created_by")
    token = tokens.filter(token_hash=hash_secret(secret)).first()
    if token is None or not token.is_active:
        return None
    return token


def invitation_by_secret(*, secret: str) -> Invitation | None:
    return Invitation.objects.select_related("store").filter(token_hash=hash_secret(secret)).first()


def pending_invitations(*, store: Store) -> QuerySet[Invitation]:
    return store_invitations(store=store).filter(accepted_at__isnull=True, expires_at__gt=timezone.now())
