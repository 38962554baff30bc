"""Style tags on faces and presets: lower-case, trimmed, de-duplicated, bounded."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def clean_tags(tags, field: str = "tags") -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise ValidationError({field: _("Tags must be a list of strings.")})
    cleaned = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    if len(cleaned) > 20 or any(len(t) > 40 for t in cleaned):
        raise ValidationError({field: _("Use at most 20 tags of at most 40 characters each.")})
    return cleaned
