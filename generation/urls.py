from django.urls import path
from rest_framework.routers import DefaultRouter

from generation.apis import (
    BatchViewSet,
    CredentialCheckApi,
    JobViewSet,
    ParentPhotoViewSet,
    WebhookDeliveryViewSet,
    WebhookEndpointViewSet,
)

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("jobs", JobViewSet, basename="job")
router.register("batches", BatchViewSet, basename="batch")
router.register("parent-photos", ParentPhotoViewSet, basename="parent-photo")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
urlpatterns = [
    path("credentials/verify/", CredentialCheckApi.as_view(), name="credential-check"),
    *router.urls,
]
