"""Store-scoped API for the current store, its members, invitations and API tokens."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from accounts import services
from accounts.models import ApiToken, Invitation, Membership, Role, Store
from accounts.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    StoreSerializer,
)
from accounts.tenancy import StoreScopedAPIView, StoreScopedViewSet


class CurrentStoreApi(StoreScopedAPIView):
    """The store this request acts for (from the token, or the session's selected store)."""

    serializer_class = StoreSerializer
    write_role = Role.OWNER
    tokens_may_write = False  # renaming the store or changing its language is an owner's dashboard action

    @extend_schema(responses=StoreSerializer)
    def get(self, request):
        return Response(StoreSerializer(request.store).data)

    @extend_schema(request=StoreSerializer, responses=StoreSerializer)
    def patch(self, request):
        serializer = StoreSerializer(request.store, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        store = services.store_update(store=request.store, **serializer.validated_data)
        return Response(StoreSerializer(store).data)


class PingApi(StoreScopedAPIView):
    """A no-op that still authenticates and resolves the store: for health checks and load baselines."""

    @extend_schema(responses={200: {"type": "object", "properties": {"store": {"type": "integer"}}}})
    def get(self, request):
        return Response({"store": request.store.pk})


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    model = Membership
    serializer_class = MembershipSerializer
    write_role = Role.OWNER
    tokens_may_read = tokens_may_write = False  # the team's e-mail addresses are no integration's business
    ordering = "created_at"

    def scope_queryset(self, queryset):
        return queryset.select_related("user")

    @extend_schema(request=MembershipRoleSerializer, responses=MembershipSerializer)
    def partial_update(self, request, pk=None):
        membership = self.get_object()
        serializer = MembershipRoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_update_role(membership=membership, **serializer.validated_data)
        return Response(MembershipSerializer(membership).data)

    def destroy(self, request, pk=None):
        services.membership_remove(membership=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    model = Invitation
    serializer_class = InvitationSerializer
    read_role = Role.OWNER
    write_role = Role.OWNER
    tokens_may_read = tokens_may_write = False  # an invitation or a member would outlive the token

    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationCreatedSerializer})
    def create(self, request):
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.invitation_create(store=request.store, invited_by=request.user, **serializer.validated_data)
        data = InvitationSerializer(issued.obj).data
        data["accept_url"] = request.build_absolute_uri(reverse("invitation-accept", args=[issued.plaintext]))
        return Response(data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    """Token management is a dashboard (session) action of an owner or editor.

    A token can neither list, create nor revoke tokens: a token minted by a token would outlive its parent's
    expiry and revocation, and a token could revoke its owner's other tokens.
    """

    model = ApiToken
    serializer_class = ApiTokenSerializer
    ordering = "-created_at"
    tokens_may_read = tokens_may_write = False

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request):
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = services.api_token_create(store=request.store, created_by=request.user, **serializer.validated_data)
        data = ApiTokenSerializer(issued.obj).data
        data["token"] = issued.plaintext
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ApiTokenSerializer, description="Revoke the token; it stops working at once.")
    def destroy(self, request, pk=None):
        token = services.api_token_revoke(token=self.get_object())
        return Response(ApiTokenSerializer(token).data)


__all__ = ["ApiTokenViewSet", "CurrentStoreApi", "InvitationViewSet", "MembershipViewSet", "PingApi", "Store"]
