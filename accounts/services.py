"""Writes for users, stores, memberships, invitations and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import ApiToken, Invitation, Membership, Role, Store, User
from accounts.tokens import API_TOKEN_PREFIX, display_prefix, hash_secret, new_secret

INVITATION_LIFETIME = timedelta(days=7)
STORE_CREATED_HOOKS: list = []  # callables(store) run on commit; catalog seeds presets through this


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "store"
    slug, n = base, 1
    while Store.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def store_create(*, owner: User, name: str, locale: str = Store.Locale.KOREAN) -> Store:
    """Create a store with ``owner`` as its owner. Raises ValidationError on a bad name or locale."""
    store = Store(name=name.strip(), slug=_unique_slug(name), locale=locale)
    store.full_clean()
    store.save()
    Membership.objects.create(user=owner, store=store, role=Role.OWNER)
    for hook in STORE_CREATED_HOOKS:
        hook(store=store)
    return store


@transaction.atomic
def user_signup(*, email: str, password: str, store_name: str, name: str = "", locale: str = "ko") -> Store:
    """Create a user and their first store (they own it). Raises ValidationError on bad input."""
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("An account with this email already exists.")})
    user = User(email=email, name=name)
    user.set_password(password)
    user.full_clean()
    user.save()
    return store_create(owner=user, name=store_name, locale=locale)


@dataclass(frozen=True)
class IssuedSecret:
    """A freshly created object and the plaintext secret that is shown exactly once."""

    obj: ApiToken | Invitation
    plaintext: str


@transaction.atomic
def api_token_create(
    *, store: Store, created_by: User, name: str, scopes: list[str], expires_at: datetime | None = None
) -> IssuedSecret:
    """Issue a store API token. Only its hash and display prefix are stored."""
    scopes = sorted(set(scopes))
    if not scopes or any(s not in ApiToken.Scope.values for s in scopes):
        raise ValidationError({"scopes": _("Choose at least one of: read, write.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    plaintext = new_secret(API_TOKEN_PREFIX)
    token = ApiToken(
        store=store,
        created_by=created_by,
        name=name.strip(),
        scopes=scopes,
        expires_at=expires_at,
        prefix=display_prefix(plaintext),
        token_hash=hash_secret(plaintext),
    )
    token.full_clean()
    token.save()
    return IssuedSecret(obj=token, plaintext=plaintext)


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


@transaction.atomic
def invitation_create(*, store: Store, invited_by: User, email: str, role: str) -> IssuedSecret:
    """Create an invitation link for ``email`` with ``role``; the link's secret is returned once."""
    email = User.objects.normalize_email(email).lower()
    if Membership.objects.filter(store=store, user__email__iexact=email).exists():
        raise ValidationError({"email": _("This person is already a member of the store.")})
    plaintext = new_secret()
    invitation = Invitation(
        store=store,
        email=email,
        role=role,
        invited_by=invited_by,
        token_hash=hash_secret(plaintext),
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    invitation.full_clean()
    invitation.save()
    return IssuedSecret(obj=invitation, plaintext=plaintext)


@transaction.atomic
def invitation_accept(*, secret: str, user: User) -> Membership:
    """Turn a pending invitation into a membership for ``user``.

    The link is bound to the invited address: only an account with that e-mail (case-insensitive) may use it,
    so a forwarded or leaked link is worthless to anyone else. Raises ValidationError when the link is unknown,
    used or expired (code ``invalid``) or the account's e-mail is not the invited one (code ``email_mismatch``).
    """
    invitation = Invitation.objects.select_for_update().filter(token_hash=hash_secret(secret)).first()
    if invitation is None or not invitation.is_pending:
        raise ValidationError(_("This invitation link is invalid, already used or expired."), code="invalid")
    if not invitation.is_for(user):
        raise ValidationError(
            _("This invitation was sent to %(email)s. Log in with that e-mail address to accept it.")
            % {"email": invitation.masked_email},
            code="email_mismatch",
        )
    membership, _created = Membership.objects.get_or_create(
        store=invitation.store, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def _ensure_another_owner(membership: Membership) -> None:
    if membership.role != Role.OWNER:
        return
    owners = Membership.objects.select_for_update().filter(store=membership.store, role=Role.OWNER)
    if owners.exclude(pk=membership.pk).count() == 0:
        raise ValidationError(_("A store needs at least one owner."))


@transaction.atomic
def membership_update_role(*, membership: Membership, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if role != Role.OWNER:
        _ensure_another_owner(membership)
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _ensure_another_owner(membership)
    membership.delete()


def store_update(*, store: Store, name: str | None = None, locale: str | None = None) -> Store:
    if name is not None:
        store.name = name.strip()
    if locale is not None:
        store.locale = locale
    store.full_clean()
    store.save()
    return store


def require_role(*, membership: Membership | None, minimum: str) -> Membership:
    if membership is None or not membership.has_role(minimum):
        raise PermissionDenied(_("Your role in this store does not allow this."))
    return membership
