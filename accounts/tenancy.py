"""Tenant isolation by construction.

Every API view that touches store data derives from ``StoreScopedAPIView`` or
``StoreScopedViewSet``. They resolve the request's store (from the API token, or
from the dashboard session's selected store), check the caller's role, and build
every queryset as ``<model>.objects.filter(store=request.store)``. Subclasses
cannot override ``get_queryset``/``get_object``: they may only narrow the already
scoped queryset in ``scope_queryset``.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, generics, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import ApiToken, Membership, Role, Store
from accounts.selectors import membership_for, user_memberships

SESSION_STORE_KEY = "store_id"
_SEALED = ("get_queryset", "get_object")


def session_store(request) -> Store | None:
    """The store selected in a dashboard session (or the user's first store)."""
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = user_memberships(user=user)
    selected = request.session.get(SESSION_STORE_KEY)
    membership = memberships.filter(store_id=selected).first() if selected else None
    membership = membership or memberships.first()
    return membership.store if membership else None


class StoreAccess:
    """Who is calling, for which store, with which effective role."""

    def __init__(self, store: Store, role: str, token: ApiToken | None) -> None:
        self.store = store
        self.role = role
        self.token = token

    @classmethod
    def for_request(cls, request) -> StoreAccess:
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if token is not None:
            membership = membership_for(user=token.created_by, store=token.store)
            if membership is None:
                raise exceptions.AuthenticationFailed(_("The token's creator is no longer a member of the store."))
            # A token never acts above editor, and never above its creator's role.
            role = Role.EDITOR if membership.has_role(Role.EDITOR) else Role.VIEWER
            return cls(token.store, role, token)
        store = session_store(request)
        if store is None:
            raise exceptions.PermissionDenied(_("You are not a member of any store yet."))
        membership = membership_for(user=request.user, store=store)
        return cls(store, membership.role, None)

    def has_role(self, minimum: str) -> bool:
        return Membership(role=self.role).has_role(minimum)


TOKEN_REFUSED_CODE = "session_required"
TOKEN_REFUSED_MESSAGE = _(
    "API tokens cannot manage the store (API tokens, members, invitations, webhook endpoints, store settings, "
    "billing). Sign in to the dashboard to do this."
)


class TokenAllowedPermission(BasePermission):
    """Store management is a dashboard (session) action: a token may only do what ``view.tokens_may_*`` allow.

    This keeps anything a token could leave behind (another token, a webhook endpoint, a member) from
    outliving the token itself: revoking or expiring a token ends everything it could do.
    """

    message = TOKEN_REFUSED_MESSAGE
    code = TOKEN_REFUSED_CODE

    def has_permission(self, request, view) -> bool:
        if view.store_access.token is None:
            return True
        return view.tokens_may_read if request.method in SAFE_METHODS else view.tokens_may_write


class StoreRolePermission(BasePermission):
    """Reads need ``view.read_role``, writes ``view.write_role``; tokens also need the matching scope."""

    def has_permission(self, request, view) -> bool:
        access: StoreAccess = view.store_access
        safe = request.method in SAFE_METHODS
        if access.token is not None:
            scope = ApiToken.Scope.READ if safe else ApiToken.Scope.WRITE
            if not access.token.allows(scope):
                self.message = _("This API token lacks the '%(scope)s' scope.") % {"scope": scope}
                return False
        needed = view.read_role if safe else view.write_role
        if not access.has_role(needed):
            if access.token is not None and needed == Role.OWNER:
                self.message, self.code = TOKEN_REFUSED_MESSAGE, TOKEN_REFUSED_CODE
            else:
                self.message = _("Your role in this store (%(role)s) does not allow this.") % {"role": access.role}
            return False
        return True


class _StoreScopedMixin:
    """Shared by the two base classes below; see the module docstring."""

    model = None  # the scoped model; it must have a ``store`` foreign key
    read_role: str = Role.VIEWER
    write_role: str = Role.EDITOR
    # Whether an API token (rather than a dashboard session) may read / write here; see README "API".
    tokens_may_read: bool = True
    tokens_may_write: bool = True
    store_access: StoreAccess

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name in _SEALED:
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} must not override {name}(); narrow the queryset in scope_queryset()")

    def initial(self, request, *args, **kwargs) -> None:
        self.perform_authentication(request)
        if request.user.is_authenticated:
            self.store_access = StoreAccess.for_request(request)
            request.store = self.store_access.store
        super().initial(request, *args, **kwargs)

    def get_permissions(self):
        return [*super().get_permissions(), TokenAllowedPermission(), StoreRolePermission()]

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        """Narrow (filter, annotate, select_related) the already store-scoped queryset."""
        return queryset

    def get_queryset(self) -> QuerySet:
        if self.model is None:
            raise TypeError(f"{type(self).__name__} must set `model`")
        if getattr(self, "swagger_fake_view", False):  # OpenAPI generation has no store
            return self.model.objects.none()
        return self.scope_queryset(self.model.objects.filter(store=self.request.store))

    def get_object(self):
        return generics.GenericAPIView.get_object(self)


class StoreScopedAPIView(_StoreScopedMixin, generics.GenericAPIView):
    pass


class StoreScopedViewSet(_StoreScopedMixin, viewsets.GenericViewSet):
    pass
