"""Non-API billing routes (included from config/urls.py as path("billing/", include("billing.urls")))."""

from django.urls import path

from billing.views import stripe_webhook

urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
]
