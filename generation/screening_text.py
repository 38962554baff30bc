"""A screened candidate in plain words: why it was refused, or how far it is from the nearest real face."""

from __future__ import annotations

from django.utils.translation import gettext as _

from generation import screening


def refusal_text(found: dict) -> str:
    """The sentence a seller reads when a candidate did not pass its screening ('' when it passed)."""
    if found.get("passed") is True:
        return ""
    reason = found.get("reason")
    if reason == screening.NEAR_EXISTING_FACE:
        nearest = found.get("nearest_face") or {}
        name = nearest.get("name") or _("face %(id)s") % {"id": nearest.get("id")}
        # The particle follows 얼굴 (fixed), not the name, so the Korean reads right whatever the face is called.
        return _("This candidate looks too much like a face you already have (‘%(name)s’), so it cannot be used. "
                 "Keep another candidate or generate new ones.") % {"name": name}
    if reason == screening.DOMINATED:
        return _("One of the blended faces makes up too much of this candidate, so it cannot be used. "
                 "Keep another candidate or generate new ones.")
    if reason == screening.NOT_MEASURED:
        return _("This candidate could not be checked against the faces that already exist, so it cannot be used. "
                 "Generate new candidates.")
    return _("This candidate looks too much like one of the faces it was blended from, so it cannot be used. "
             "Keep another candidate or generate new ones.")


def passed_text(found: dict) -> str:
    """``nearest real face 0.83 (margin 0.70)`` for a candidate that passed ('' otherwise)."""
    if found.get("passed") is not True:
        return ""
    nearest = found.get("nearest_face")
    margin = f"{found.get('gallery_margin', screening.NOT_A_REAL_PERSON_MARGIN):.2f}"
    if not nearest:
        return _("No real face to compare with yet (margin %(margin)s)") % {"margin": margin}
    return _("Nearest real face %(distance)s (margin %(margin)s)") % {
        "distance": f"{nearest['distance']:.2f}", "margin": margin}
