"""Failed jobs explained in plain words: what happened and what to do next."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

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


def job_error_text(job: Job) -> str:
    """A sentence for a failed or canceled job ('' otherwise); the engine's own message is kept as detail."""
    if job.state not in (JobState.FAILED, JobState.CANCELED):
        return ""
    return str(PLAIN_ERRORS.get(job.error_code, PLAIN_ERRORS["internal_error"]))
