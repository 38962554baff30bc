"""Whether a gallery face can shape new faces: the checks the GPU fleet ran when it prepared the face's asset.

A face whose preparation failed (no face, face too small, head turned: ``asset_error`` = "<code>: <message>") is
refused outright; a prepared face whose ``asset_summary["contributor_problems"]`` names problems (glasses, turned,
small, eyes_closed, forehead_covered) can still be a swap model but is never blended into a new face
(``catalog.selectors.contributor_faces``; an explicitly listed one is refused by generation/inputs.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.models import ModelFace

ASSET_ERRORS = {
    "no_face": gettext_lazy("no face found"),
    "face_too_small": gettext_lazy("face too small"),
    "face_turned": gettext_lazy("head turned too far"),
    "unreadable_image": gettext_lazy("the image cannot be read"),
}
PROBLEMS = {
    "glasses": gettext_lazy("glasses"),
    "turned": gettext_lazy("head turned"),
    "small": gettext_lazy("small face"),
    "eyes_closed": gettext_lazy("eyes closed"),
    "forehead_covered": gettext_lazy("hair over the forehead"),
}
_PIXELS = re.compile(r"(\d+)\s*px")


@dataclass(frozen=True)
class FaceCheck:
    state: str  # "checking" (asset pending), "ready", "refused" (asset failed)
    reason: str = ""  # refused: why, in words ("face too small (80 px)")
    problems: tuple[str, ...] = ()  # ready: contributor problems, in words

    @property
    def is_contributor(self) -> bool:
        """True when generation may blend this face into new faces."""
        return self.state != "refused" and not self.problems


def asset_error_text(face: ModelFace) -> str:
    """The failed preparation's reason in words, e.g. "face too small (80 px)"."""
    code, _sep, message = (face.asset_error or "").partition(":")
    text = str(ASSET_ERRORS.get(code.strip(), _("the face could not be prepared")))
    pixels = _PIXELS.search(message)
    if code.strip() == "face_too_small" and pixels:
        text = _("%(reason)s (%(px)s px)") % {"reason": text, "px": pixels.group(1)}
    return text


def contributor_problems(face: ModelFace) -> list[str]:
    found = (face.asset_summary or {}).get("contributor_problems")
    return [str(p) for p in found] if isinstance(found, list) else []


def face_check(face: ModelFace) -> FaceCheck:
    if face.asset_state == ModelFace.AssetState.FAILED:
        return FaceCheck("refused", reason=asset_error_text(face))
    problems = tuple(str(PROBLEMS.get(p, p)) for p in contributor_problems(face))
    if face.asset_state == ModelFace.AssetState.PENDING:
        return FaceCheck("checking", problems=problems)
    return FaceCheck("ready", problems=problems)


def contributor_refusal(face: ModelFace) -> str:
    """Why ``face`` cannot be blended into a new face ('' when it can), naming it."""
    check = face_check(face)
    if check.is_contributor:
        return ""
    name = face.name or _("face %(id)s") % {"id": face.pk}
    if check.state == "refused":
        return _("‘%(name)s’ cannot be used to blend new faces: %(reason)s.") % {"name": name, "reason": check.reason}
    return _("‘%(name)s’ can be a swap model but not a face to blend new faces from: %(problems)s.") % {
        "name": name, "problems": ", ".join(check.problems)}
