"""Translations for the English descriptions catalog seeds into every store's five default presets."""

from django.utils.translation import gettext_lazy as _

SEED_DESCRIPTIONS = {
    "Poised, refined, mature look.": _("Poised, refined, mature look."),
    "Clear, fresh-faced, natural makeup.": _("Clear, fresh-faced, natural makeup."),
    "Neat, modest and graceful.": _("Neat, modest and graceful."),
    "Moody, languid, bold makeup.": _("Moody, languid, bold makeup."),
    "Bright, sporty and cool.": _("Bright, sporty and cool."),
}
