"""A second-generation result's resemblance in plain words ("엄마를 더 닮았어요"), with the parents called as the
user chose on the page (mother, father or parent).

Korean particles follow the role word, and the role words are a fixed set: each comes translated with its
particle (pgettext contexts "resembles" and "distance to"), so no name ever needs a particle rule.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from generation.resemblance import RESEMBLANCE_TIE, job_resemblance


def _object_word(relation: str, role: str) -> str:
    """The parent as the object of "takes after": 엄마를 / the mother."""
    if relation == "mother":
        return pgettext("resembles", "the mother")
    if relation == "father":
        return pgettext("resembles", "the father")
    return pgettext("resembles", "the first parent") if role == "parent_a" else pgettext("resembles",
                                                                                           "the second parent")


def _distance_label(relation: str, role: str) -> str:
    if relation == "mother":
        who = pgettext("distance to", "the mother")
    elif relation == "father":
        who = pgettext("distance to", "the father")
    elif role == "parent_a":
        who = pgettext("distance to", "the first parent")
    else:
        who = pgettext("distance to", "the second parent")
    return _("Distance to %(who)s") % {"who": who}


def resemblance_view(job, relations: dict[str, str]) -> dict | None:
    """``{"sentence", "rows": [{"label", "distance"}, ...], "nearer", "tie"}`` for the result page, or None
    without figures.

    ``relations``: how the user called each parent ({"parent_a": "mother", ...}); "parent" when unknown. Two parents
    called the same are told apart by order.
    """
    found = job_resemblance(job)
    if found is None:
        return None
    relation = {role: relations.get(role) or "parent" for role in ("parent_a", "parent_b")}
    if relation["parent_a"] == relation["parent_b"]:
        relation = {"parent_a": "parent", "parent_b": "parent"}
    if found["nearer"] == "both":
        sentence = _("Takes after both parents about equally.")
    else:
        sentence = _("Takes more after %(who)s.") % {"who": _object_word(relation[found["nearer"]], found["nearer"])}
    rows = [{"label": _distance_label(relation[role], role), "distance": found[role]}
            for role in ("parent_a", "parent_b")]
    return {"sentence": sentence, "rows": rows, "nearer": found["nearer"], "tie": RESEMBLANCE_TIE}
