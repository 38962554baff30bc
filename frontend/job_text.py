"""Failed jobs explained in plain words: what happened, to which input, and what to do next."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from catalog import selectors as catalog
from generation.models import Job, JobState

PLAIN_ERRORS = {
    "no_face": _("No face was found in the photo. Use a photo where the model's face is clearly visible, "
                 "facing the camera."),
    "face_too_small": _("The face in the photo is too small to replace. Use a closer or larger photo."),
    "unreadable_image": _("The image could not be read. Upload it again as JPEG, PNG or WEBP."),
    "bad_parameter": _("A setting for this job was not valid. Check the chosen face and preset, then try again."),
    "license_restricted": _("This model may not be used commercially on this server. Contact support."),
    "storage_error": _("The result could not be saved. Try again in a few minutes."),
    "too_many_attempts": _("The job stopped after three tries. Try again; if it fails again, contact support."),
    "canceled": _("The job was canceled."),
    "internal_error": _("Something went wrong on our side. Try again; if it fails again, contact support."),
}
# What was wrong with one input, when the engine named it (Job.error_input).
INPUT_PROBLEMS = {
    "no_face": _("no face was found"),
    "face_too_small": _("the face is too small"),
    "face_turned": _("the head is turned too far"),
    "unreadable_image": _("the image could not be read"),
}
PARENT_ERRORS = {
    ("parent_a", "no_face"): _("No face was found in the first parent's photo. Upload a photo where the face is "
                               "clearly visible, facing the camera."),
    ("parent_b", "no_face"): _("No face was found in the second parent's photo. Upload a photo where the face is "
                               "clearly visible, facing the camera."),
    ("parent_a", "face_too_small"): _("The face in the first parent's photo is too small. Upload a closer photo."),
    ("parent_b", "face_too_small"): _("The face in the second parent's photo is too small. Upload a closer photo."),
    ("parent_a", "face_turned"): _("The head in the first parent's photo is turned too far. Upload a photo facing "
                                   "the camera."),
    ("parent_b", "face_turned"): _("The head in the second parent's photo is turned too far. Upload a photo facing "
                                   "the camera."),
}


def _contributor_name(job: Job, role: str) -> str | None:
    """The gallery face behind ``face_K``: the K-th contributor the job was resolved with (``input_keys``)."""
    index = role.removeprefix("face_")
    keys = (job.input_keys or {}).get("contributors") or []
    if not index.isdigit() or int(index) >= len(keys):
        return None
    face = catalog.usable_faces(store=job.store).filter(image=keys[int(index)]).only("pk", "name").first()
    if face is None:
        return None
    return face.name or gettext("face %(id)s") % {"id": face.pk}


def _input_error_text(job: Job) -> str:
    role, code = job.error_input, job.error_code
    if (role, code) in PARENT_ERRORS:
        return str(PARENT_ERRORS[(role, code)])
    if role.startswith("face_") and code in INPUT_PROBLEMS:
        name = _contributor_name(job, role)
        if name is not None:
            return gettext("The gallery face ‘%(name)s’ blended into the new face could not be used: %(problem)s. "
                        "Leave it out of the preset or replace its photo, then generate again.") % {
                "name": name, "problem": INPUT_PROBLEMS[code]}
    return ""


def job_error_text(job: Job) -> str:
    """A sentence for a failed or canceled job ('' otherwise); the engine's own message is kept as detail."""
    if job.state not in (JobState.FAILED, JobState.CANCELED):
        return ""
    if job.error_input:
        named = _input_error_text(job)
        if named:
            return named
    return str(PLAIN_ERRORS.get(job.error_code, PLAIN_ERRORS["internal_error"]))


def skipped_contributors(job: Job) -> list[str]:
    """The contributors the engine left out of a generate_face job (``metrics["skipped"]``), each as
    "‘name’: what was wrong"."""
    found = (job.metrics or {}).get("skipped")
    lines = []
    for item in found if isinstance(found, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("input"), str):
            continue
        name = _contributor_name(job, item["input"]) or item["input"]
        problem = INPUT_PROBLEMS.get(item.get("code"), PLAIN_ERRORS["internal_error"])
        lines.append(gettext("‘%(name)s’: %(problem)s") % {"name": name, "problem": problem})
    return lines
