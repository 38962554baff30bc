"""The face upload page: photos of real people, each with the consent attestation, checked by the GPU fleet.

The page's script posts each dropped file on its own (one bad file never blocks the others) and answers JSON;
without JavaScript the form posts every chosen file at once and the page lists what became of each. A stored
face is then checked by the GPU fleet (one clear face, big enough, facing the camera); ``face_check_status``
answers that check for the page to poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from catalog import faces, selectors
from catalog.face_checks import FaceCheck, face_check
from catalog.images import ImageRejected
from catalog.models import ModelFace
from frontend.access import store_page
from frontend.errors import image_refusal_text, service_error_text
from frontend.forms import FaceUploadForm


@dataclass
class Upload:
    """What became of one file: the stored face, or why it was refused."""

    file_name: str
    face: ModelFace | None = None
    error: str = ""
    code: str = ""


def check_text(check: FaceCheck) -> str:
    """The GPU fleet's check of an uploaded face, in words, with what to do when it was refused."""
    if check.state == "checking":
        return _("Checking the face…")
    if check.state == "refused":
        return "{}. {}".format(_("Refused: %(reason)s") % {"reason": check.reason},
                               _("Choose a photo where one face is clear, large enough and looking at the camera."))
    text = _("Ready: the face is in your gallery.")
    if check.problems:
        text += " " + _("Can be a swap model, not used to blend new faces: %(problems)s") % {
            "problems": ", ".join(check.problems)}
    return text


def _check_json(face: ModelFace) -> dict:
    check = face_check(face)
    return {"state": check.state, "text": check_text(check),
            "check_url": reverse("face-check", kwargs={"pk": face.pk})}


def _upload(request, form: FaceUploadForm, file) -> Upload:
    upload = Upload(file_name=file.name)
    fields = form.service_fields()
    # Without a name the gallery would show a row of "unnamed face": the file's name says more ("jisu-front").
    fields["name"] = fields["name"] or PurePath(file.name).stem[:100]
    try:
        upload.face = faces.face_upload(store=request.store, created_by=request.user, file=file, **fields)
    except ImageRejected as exc:
        upload.error, upload.code = image_refusal_text(exc), exc.code
    except ValidationError as exc:
        upload.error, upload.code = service_error_text(exc), "invalid"
    else:
        upload.face.check = face_check(upload.face)
    return upload


def _form_errors_json(form: FaceUploadForm) -> JsonResponse:
    errors = {field: [str(m) for m in messages] for field, messages in form.errors.items()}
    detail = " ".join(m for messages in errors.values() for m in messages)
    return JsonResponse({"detail": detail, "code": "invalid", "errors": errors}, status=400)


def _upload_json(upload: Upload) -> JsonResponse:
    if upload.face is None:
        return JsonResponse({"detail": upload.error, "code": upload.code, "errors": {"file": [upload.error]}},
                            status=400)
    return JsonResponse({"id": upload.face.pk, "name": upload.face.name, **_check_json(upload.face)}, status=201)


@store_page(read_role=Role.EDITOR)
def face_upload(request):
    """GET: the form. POST: the consent fields and one file (the page's script, ``Accept: application/json``)
    or several (a plain form post)."""
    wants_json = "application/json" in request.headers.get("Accept", "")
    form = FaceUploadForm(request.POST or None, initial={"consent_given_on": timezone.localdate()})
    uploads: list[Upload] = []
    if request.method == "POST":
        files = request.FILES.getlist("file")
        if form.is_valid() and not files:
            form.add_error(None, _("Choose at least one face photo to upload."))
        elif form.is_valid() and wants_json and len(files) > 1:
            form.add_error(None, _("Send one photo per request."))
        if not form.is_valid():
            if wants_json:
                return _form_errors_json(form)
        else:
            uploads = [_upload(request, form, file) for file in files]
            if wants_json:
                return _upload_json(uploads[0])
    return render(request, "frontend/face_upload.html", {"form": form, "uploads": uploads})


@store_page(read_role=Role.EDITOR)
def face_check_status(request, pk: int):
    """The check of one of the store's faces, as JSON (``state``: checking | ready | refused, ``text``)."""
    face = get_object_or_404(selectors.store_faces(store=request.store), pk=pk)
    return JsonResponse(_check_json(face))
