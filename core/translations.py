"""Reading a translated label back to the key it translates, whichever of the site's languages it was typed in."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings
from django.utils import translation


def key_for_label(text: str, labels: Mapping[str, object], fold: Callable[[str], str] = str.strip) -> str | None:
    """The key of ``labels`` (key -> lazy translation) whose label, in any of ``settings.LANGUAGES``, is ``text``
    once both are passed through ``fold``; None when no label matches."""
    wanted = fold(text)
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for key, label in labels.items():
                if fold(str(label)) == wanted:
                    return key
    return None
