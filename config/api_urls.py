"""Routes under /api/v1/. Every store-data view derives from accounts.tenancy's scoped bases."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from accounts.apis import ApiTokenViewSet, CurrentStoreApi, InvitationViewSet, MembershipViewSet, PingApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("members", MembershipViewSet, basename="member")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register("tokens", ApiTokenViewSet, basename="token")

urlpatterns = [
    path("store/", CurrentStoreApi.as_view(), name="current-store"),
    path("ping/", PingApi.as_view(), name="ping"),
    *router.urls,
    path("", include("catalog.urls")),
    path("", include("generation.urls")),
    path("", include("billing.urls_api")),
]
