"""Translations for the English descriptions catalog seeds into every store's five default presets.

The seeded English text stays what is stored, so a preset reads in each viewer's language; the edit form shows
it translated and stores an unchanged translation back as the seeded text.
"""

from django.utils.translation import gettext_lazy as _

from core.translations import key_for_label

SEED_DESCRIPTIONS = {
    "Poised, refined, mature look.": _("Poised, refined, mature look."),
    "Clear, fresh-faced, natural makeup.": _("Clear, fresh-faced, natural makeup."),
    "Neat, modest and graceful.": _("Neat, modest and graceful."),
    "Moody, languid, bold makeup.": _("Moody, languid, bold makeup."),
    "Bright, sporty and cool.": _("Bright, sporty and cool."),
}


def seed_description(text: str) -> str:
    """A seeded description in the active language; a store's own text is returned as it is."""
    return str(SEED_DESCRIPTIONS.get(text, text))


def stored_description(text: str) -> str:
    """What to store for a description typed in the form: a seeded text's translation (in any of the site's
    languages) goes back to the seeded English, so it keeps following the viewer's language."""
    return key_for_label(text, SEED_DESCRIPTIONS) or text
