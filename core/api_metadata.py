"""What ``OPTIONS`` answers on API routes: the view's name, media types and allowed methods, no field listing.

DRF's default (SimpleMetadata) describes the fields a PUT/POST takes by cloning the request and calling
``get_object()`` and ``get_serializer()``. Here that crashed (the clone carries no resolved store; views without a
``model`` cannot build a queryset) and would mislead where it worked: most views validate their input with a
separate serializer from the one they answer with. The OpenAPI schema at /api/schema/ is the description of every
operation's input; OPTIONS points there.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework.metadata import BaseMetadata


class ApiMetadata(BaseMetadata):
    def determine_metadata(self, request, view) -> dict:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "allowed_methods": list(view.allowed_methods),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": request.build_absolute_uri(reverse("api-schema")),
        }
