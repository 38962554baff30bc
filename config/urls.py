from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from core.health import healthz  # answered by core.health.HealthCheckMiddleware first; the route names it

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema", template_name="frontend/api_docs.html"),
         name="api-docs"),  # ReDoc from our static files, no web fonts: nothing loads from another host
    path("healthz", healthz, name="healthz"),
    path("billing/", include("billing.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("frontend.urls")),
]
