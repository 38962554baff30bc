"""Style tags on faces and presets: lower-case English keys, trimmed, de-duplicated, bounded; shown translated."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.translations import key_for_label


def clean_tags(tags, field: str = "tags") -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise ValidationError({field: _("Tags must be a list of strings.")})
    cleaned = list(dict.fromkeys(tag_key(t).lower() for t in tags if t.strip()))  # "우아한" is stored as "elegant"
    if len(cleaned) > 20 or any(len(t) > 40 for t in cleaned):
        raise ValidationError({field: _("Use at most 20 tags of at most 40 characters each.")})
    return cleaned


# Tags are stored as these English keys (the API, the gallery and the GPU worker's backdrops use them); people read
# them in the dashboard's language. Other tags a store or curator typed are shown as typed.
STYLE_TAG_LABELS = {
    "elegant": gettext_lazy("elegant"),
    "innocent": gettext_lazy("innocent"),
    "graceful": gettext_lazy("graceful"),
    "edgy": gettext_lazy("edgy"),
    "fresh": gettext_lazy("fresh"),
    "natural": gettext_lazy("natural"),
    "cute": gettext_lazy("cute"),
    "lovely": gettext_lazy("lovely"),
    "chic": gettext_lazy("chic"),
    "casual": gettext_lazy("casual"),
    "sporty": gettext_lazy("sporty"),
    "classic": gettext_lazy("classic"),
    "modern": gettext_lazy("modern"),
    "feminine": gettext_lazy("feminine"),
    "cool": gettext_lazy("cool"),
    "warm": gettext_lazy("warm"),
}


def tag_label(tag: str) -> str:
    """A stored tag as people read it in the active language ("우아한" for "elegant" in Korean)."""
    return str(STYLE_TAG_LABELS.get(tag, tag))


def tag_key(text: str) -> str:
    """What someone typed back to the stored tag: a known label in any of the site's languages gives its key
    ("우아한" → "elegant"); anything else is kept (lower-cased by ``clean_tags``)."""
    wanted = text.strip().casefold()
    if wanted in STYLE_TAG_LABELS:
        return wanted
    return key_for_label(text, STYLE_TAG_LABELS, fold=lambda label: label.strip().casefold()) or text.strip()
