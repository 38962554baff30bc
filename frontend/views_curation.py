"""Staff-only curation of the public gallery: pending faces, bulk approve / reject / publish, tags."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from catalog import faces
from catalog.models import ModelFace
from frontend.access import safe_next, staff_page

QUEUES = {
    "pending": Q(curation=ModelFace.Curation.PENDING),
    "approved": Q(curation=ModelFace.Curation.APPROVED),
    "done": Q(curation__in=[ModelFace.Curation.PUBLISHED, ModelFace.Curation.REJECTED], curated_at__isnull=False),
}


@staff_page
def curation(request):
    queue = request.GET.get("queue") if request.GET.get("queue") in QUEUES else "pending"
    faces = ModelFace.objects.filter(QUEUES[queue]).select_related("store", "curated_by", "created_by") \
        .order_by("-curated_at" if queue == "done" else "created_at")[:200]
    counts = {name: ModelFace.objects.filter(q).count() for name, q in QUEUES.items()}
    return render(request, "frontend/curation.html", {"faces": faces, "queue": queue, "counts": counts,
                                                      "queues": [("pending", _("Pending")),
                                                                 ("approved", _("Approved")),
                                                                 ("done", _("Curated"))]})


@require_POST
@staff_page
def curation_bulk(request):
    action = request.POST.get("action", "")
    ids = [i for i in request.POST.getlist("face") if i.isdigit()]
    if not ids:
        messages.error(request, _("Tick at least one face first."))
        return redirect(safe_next(request, "curation"))
    done, refused = faces.faces_curate(faces=ModelFace.objects.filter(pk__in=ids), action=action,
                                       curator=request.user)
    if done:
        messages.success(request, ngettext("%(n)d face updated.", "%(n)d faces updated.", done) % {"n": done})
    for face, message in refused:
        messages.error(request, f"#{face.pk}: {message}")
    return redirect(safe_next(request, "curation"))


@require_POST
@staff_page
def curation_tags(request, pk: int):
    face = get_object_or_404(ModelFace, pk=pk)
    tags = [t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()]
    try:
        faces.face_update(face=face, tags=tags)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Tags saved."))
    return redirect(safe_next(request, "curation"))
