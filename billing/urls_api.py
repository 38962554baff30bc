"""Billing routes under /api/v1/ (included from config/api_urls.py)."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from billing.apis import BalanceApi, CheckoutApi, InvoiceViewSet, PortalApi, UsageApi

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("billing/invoices", InvoiceViewSet, basename="billing-invoice")

urlpatterns = [
    path("billing/", BalanceApi.as_view(), name="billing-balance"),
    path("billing/usage/", UsageApi.as_view(), name="billing-usage"),
    path("billing/checkout/", CheckoutApi.as_view(), name="billing-checkout"),
    path("billing/portal/", PortalApi.as_view(), name="billing-portal"),
    *router.urls,
]
