"""Billing under /api/v1/billing/: the balance, usage per day, invoices, and the Stripe Checkout / portal links.

Reads are open to every member (integrations check their credits); Checkout and the portal are owner-only
(and therefore never available to API tokens).
"""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy import StoreScopedAPIView, StoreScopedViewSet
from billing import selectors, subscriptions
from billing.models import Invoice
from billing.serializers import (
    BalanceSerializer,
    CheckoutSerializer,
    InvoiceSerializer,
    PortalSerializer,
    RedirectSerializer,
    UsageSerializer,
)

DASHBOARD_BILLING_PATH = "/settings/billing/"
MAX_USAGE_DAYS = 366


def _own_url(request, url: str | None, fallback: str) -> str:
    """A redirect target on our own host only (no open redirect through Stripe)."""
    if not url:
        return request.build_absolute_uri(fallback)
    if not url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        raise exceptions.ValidationError({"url": "Redirect URLs must point to this site."})
    return url


class BalanceApi(StoreScopedAPIView):
    """The store's plan and credits in the current billing period."""

    serializer_class = BalanceSerializer

    @extend_schema(responses=BalanceSerializer)
    def get(self, request):
        return Response(BalanceSerializer(selectors.balance(store=request.store)).data)


class UsageApi(StoreScopedAPIView):
    """Credits used per day (in the store's time zone, today included) and job kind; failed and canceled jobs
    cost nothing and are not listed."""

    serializer_class = UsageSerializer

    @extend_schema(
        responses=UsageSerializer,
        parameters=[OpenApiParameter("days", OpenApiTypes.INT, required=False, description="1–366, default 30")],
    )
    def get(self, request):
        try:
            days = int(request.query_params.get("days", 30))
        except ValueError:
            raise exceptions.ValidationError({"days": "A whole number of days."}) from None
        if not 1 <= days <= MAX_USAGE_DAYS:
            raise exceptions.ValidationError({"days": f"Between 1 and {MAX_USAGE_DAYS}."})
        rows = selectors.usage_by_day(store=request.store, days=days)
        data = {"store": request.store.pk, "days": days, "time_zone": request.store.time_zone,
                "total_credits": sum(r["credits"] for r in rows), "results": rows}
        return Response(UsageSerializer(data).data)


class InvoiceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StoreScopedViewSet):
    model = Invoice
    serializer_class = InvoiceSerializer
    read_role = Role.OWNER
    write_role = Role.OWNER
    ordering = "-created_at"


class CheckoutApi(StoreScopedAPIView):
    """Start a Stripe Checkout to subscribe to, or upgrade to, a paid plan; send the owner to ``url``."""

    serializer_class = CheckoutSerializer
    write_role = Role.OWNER

    @extend_schema(request=CheckoutSerializer, responses={200: RedirectSerializer})
    def post(self, request):
        serializer = CheckoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        url = subscriptions.checkout_start(
            store=request.store,
            plan_code=data["plan"],
            email=request.user.email if request.user.is_authenticated else "",
            success_url=_own_url(request, data.get("success_url"), DASHBOARD_BILLING_PATH + "?checkout=success"),
            cancel_url=_own_url(request, data.get("cancel_url"), DASHBOARD_BILLING_PATH + "?checkout=canceled"),
        )
        return Response({"url": url})


class PortalApi(StoreScopedAPIView):
    """A Stripe customer-portal link: payment method, invoices, plan changes, cancellation."""

    serializer_class = PortalSerializer
    write_role = Role.OWNER

    @extend_schema(request=PortalSerializer, responses={200: RedirectSerializer})
    def post(self, request):
        serializer = PortalSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return_url = _own_url(request, serializer.validated_data.get("return_url"), DASHBOARD_BILLING_PATH)
        return Response({"url": subscriptions.portal_url(store=request.store, return_url=return_url)})
