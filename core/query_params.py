"""List filters are declared as serializers: one class both validates the query string and documents it.

A view passes the class to ``extend_schema(parameters=[FilterSerializer])`` (drf-spectacular lists each field as
a query parameter, with its type and choices) and reads ``validated_query(request, FilterSerializer)``: an unknown
choice, a malformed id or an over-long value answers 400 naming the parameter, never a 500 from the database or a
silently ignored filter. Fields should be optional; absent (or empty) parameters are absent from the result.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers


def validated_query(request, serializer_class: type[serializers.Serializer]) -> dict:
    """The query parameters ``serializer_class`` declares, validated; an empty parameter counts as absent."""
    query = request.query_params.copy()
    for name in [name for name, values in query.lists() if all(value == "" for value in values)]:
        del query[name]
    serializer = serializer_class(data=query)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class TagsQueryField(serializers.CharField):
    """``tags=a,b``: comma-separated tags, trimmed and lower-cased, as the list the face selectors take."""

    MAX_TAGS = 20
    MAX_TAG_LENGTH = 40

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", self.MAX_TAGS * (self.MAX_TAG_LENGTH + 1))
        kwargs.setdefault("help_text", "Comma-separated tags; faces must carry all.")
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> list[str]:
        tags = list(dict.fromkeys(t.strip().lower() for t in super().to_internal_value(data).split(",") if t.strip()))
        if len(tags) > self.MAX_TAGS or any(len(t) > self.MAX_TAG_LENGTH for t in tags):
            raise serializers.ValidationError(_("Use at most 20 tags of at most 40 characters each."))
        return tags
