"""Catalog pages: style presets, product shots (upload, detected faces), the model gallery and candidates."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from billing.errors import BillingRefused
from catalog import selectors, services
from catalog.face_checks import face_check
from frontend.access import safe_next, store_page
from frontend.errors import add_service_errors, billing_refusal_text, service_error_text
from frontend.forms import GenerateCandidatesForm, PresetForm, ShotJobForm
from frontend.job_text import skipped_contributors
from generation import candidates as generation_candidates
from generation import selectors as generation_selectors
from generation import services as generation
from generation.models import JobKind
from generation.screening import candidates_spread, job_screening
from generation.screening_text import passed_text, refusal_text

GALLERY_SCOPES = ("all", "public", "store")
MIN_CONTRIBUTORS = 3  # generation blends at least three faces (generation.inputs)


# ---- presets -----------------------------------------------------------------------------------


@store_page()
def preset_list(request):
    presets = list(selectors.store_presets(store=request.store))
    for preset in presets:
        preset.preview = list(selectors.usable_faces(store=request.store, tags=preset.params.get("face_tags"))[:4])
    return render(request, "frontend/presets.html", {"presets": presets})


@store_page(read_role=Role.EDITOR)
def preset_edit(request, pk: int | None = None):
    preset = get_object_or_404(selectors.store_presets(store=request.store), pk=pk) if pk else None
    form = PresetForm.for_preset(preset, request.POST or None) if preset else PresetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            if preset:
                services.preset_update(preset=preset, **form.service_fields(preset.params))
            else:
                preset = services.preset_create(store=request.store, **form.service_fields())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Preset “%(name)s” saved.") % {"name": preset.name})
            return redirect("presets")
    preview = []
    if preset:
        preview = list(selectors.usable_faces(store=request.store, tags=preset.params.get("face_tags"))[:8])
    return render(request, "frontend/preset_form.html", {"form": form, "preset": preset, "preview": preview})


# ---- product shots -----------------------------------------------------------------------------


@store_page()
def shot_list(request):
    shots = selectors.store_product_shots(store=request.store).filter(status="ready")[:60]
    template = "frontend/_shot_grid.html" if request.GET.get("fragment") else "frontend/shots.html"
    return render(request, template, {"shots": shots,
                                      "pending": any(s.faces_state == "pending" for s in shots)})


@store_page()
def shot_detail(request, pk: int):
    shot = get_object_or_404(selectors.store_product_shots(store=request.store), pk=pk)
    faces = list(selectors.usable_faces(store=request.store)[:100])
    options = selectors.store_options(store=request.store)
    initial = {"face_index": 0, "face": options.model_face_id if options and options.model_face_id else None}
    form = ShotJobForm(request.POST or None, faces=faces, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = generation.job_create(
                store=request.store, kind=JobKind.PIPELINE, created_by=request.user,
                inputs={"face": form.cleaned_data["face"], "product_shot": shot.pk},
                params={"face_index": form.cleaned_data["face_index"]},
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except BillingRefused as exc:
            form.add_error(None, billing_refusal_text(exc))
        else:
            return redirect("job-detail", pk=created.job.pk)
    boxes = sorted(shot.faces or [], key=lambda f: f["box"][0])
    template = "frontend/_shot_faces.html" if request.GET.get("fragment") else "frontend/shot_detail.html"
    return render(request, template, {"shot": shot, "boxes": boxes, "form": form, "has_faces": bool(faces)})


@require_POST
@store_page()
def shot_delete(request, pk: int):
    shot = get_object_or_404(selectors.store_product_shots(store=request.store), pk=pk)
    try:
        services.product_shot_delete(shot=shot)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
    else:
        messages.success(request, _("Product shot deleted."))
    return redirect("shots")


# ---- gallery -----------------------------------------------------------------------------------


def _gallery_faces(store, scope: str, tag: str):
    tags = [tag] if tag else None
    if scope == "public":
        return selectors.published_gallery(tags=tags)
    if scope == "store":
        return selectors.with_tags(queryset=selectors.store_faces(store=store), tags=tags)
    return selectors.usable_faces(store=store, tags=tags)


@store_page()
def gallery(request):
    scope = request.GET.get("scope") if request.GET.get("scope") in GALLERY_SCOPES else "all"
    tag = request.GET.get("tag", "").strip().lower()
    faces = list(_gallery_faces(request.store, scope, tag)[:120])
    for face in faces:
        face.check = face_check(face)
    all_tags = sorted({t for f in selectors.usable_faces(store=request.store) for t in (f.tags or [])})
    options = selectors.store_options(store=request.store)
    presets = selectors.store_presets(store=request.store)
    return render(request, "frontend/gallery.html", {
        "faces": faces, "scope": scope, "tag": tag, "all_tags": all_tags,
        "model_face_id": options.model_face_id if options else None,
        "generate_form": GenerateCandidatesForm(presets=presets),
        # Fewer faces than a blend needs: the page says so and links to the upload, instead of a Generate button.
        "blend_count": selectors.contributor_faces(store=request.store)[:MIN_CONTRIBUTORS].count(),
        "blend_needed": MIN_CONTRIBUTORS,
        "scopes": [("all", _("All")), ("public", _("Public gallery")), ("store", _("My store"))],
    })


@require_POST
@store_page()
def store_model_set(request):
    face = selectors.usable_face(store=request.store, face_id=request.POST.get("face"))
    if face is None:
        messages.error(request, _("That face is not available. Pick one of your faces or a published face."))
    else:
        services.store_model_set(store=request.store, face=face)
        messages.success(request, _("Store model set. New jobs use this face by default."))
    return redirect(safe_next(request, "gallery"))


@require_POST
@store_page()
def candidates_generate(request):
    form = GenerateCandidatesForm(request.POST, presets=selectors.store_presets(store=request.store))
    if not form.is_valid():
        messages.error(request, _("Choose a style preset and how many candidates to make."))
        return redirect("gallery")
    preset = selectors.store_presets(store=request.store).get(pk=form.cleaned_data["preset"])
    contributors = preset.params.get("face_ids") or selectors.contributor_faces(
        store=request.store, tags=preset.params.get("face_tags") or None)[:3]
    if len(contributors) < MIN_CONTRIBUTORS:
        messages.error(request, _("“%(preset)s” needs at least three gallery faces with its tags to blend; %(n)d "
                                  "found. Add tags that published faces carry to the preset, or choose another.")
                       % {"preset": preset.name, "n": len(contributors)})
        return redirect("gallery")
    jobs = []
    try:
        for seed in range(form.cleaned_data["count"]):
            jobs.append(generation.job_create(
                store=request.store, kind=JobKind.GENERATE_FACE, created_by=request.user,
                inputs={"preset": form.cleaned_data["preset"]}, params={"seed": seed},
            ).job)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
        return redirect("gallery")
    except BillingRefused as exc:
        messages.error(request, billing_refusal_text(exc))
        if not jobs:
            return redirect("gallery")
    return redirect(f"{reverse('candidates')}?jobs={','.join(str(j.pk) for j in jobs)}")


def _candidate_number(job, index: int) -> int:
    """The candidate's number: its seed + 1, so it keeps its number when a neighbour is discarded."""
    seed = (job.params or {}).get("seed")
    return seed + 1 if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0 else index


def _candidate_ids(request) -> list[str]:
    return [i for i in request.GET.get("jobs", "").split(",") if i][:12]


@store_page()
def candidates(request):
    jobs = list(generation_selectors.candidate_jobs(store=request.store, job_ids=_candidate_ids(request)))
    kept_faces = selectors.faces_kept_from_jobs(store=request.store, job_ids=[j.pk for j in jobs])
    kept = {face.generated_by_job: face for face in kept_faces}
    template = "frontend/_candidate_grid.html" if request.GET.get("fragment") else "frontend/candidates.html"
    items = [{"job": job, "face": kept.get(job.pk), "number": _candidate_number(job, index),
              **_screening_view(job)} for index, job in enumerate(jobs, start=1)]
    return render(request, template, {"items": items, "active": any(not j.is_terminal for j in jobs),
                                      "ids": ",".join(str(j.pk) for j in jobs),
                                      "spread": candidates_spread(j for j in jobs if j.state == "succeeded")})


def _screening_view(job) -> dict:
    """What a candidate tile says about its "not a real person" screening: refused and why, or how far it is."""
    found = job_screening(job) if job.state == "succeeded" else None
    skipped = skipped_contributors(job) if job.state == "succeeded" else []
    if found is None:
        return {"screening": None, "refused": "", "screened": "", "skipped": skipped}
    return {"screening": found, "refused": refusal_text(found), "screened": passed_text(found), "skipped": skipped}


@require_POST
@store_page()
def candidate_keep(request, pk):
    try:
        face = generation_candidates.candidate_keep(store=request.store, job_id=pk, kept_by=request.user)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
    else:
        messages.success(request, _("Kept “%(name)s” in your gallery.") % {"name": face.name})
    return redirect(safe_next(request, "gallery"))


@require_POST
@store_page()
def candidate_discard(request, pk):
    try:
        generation_candidates.candidate_discard(store=request.store, job_id=pk)
    except ValidationError as exc:
        messages.error(request, service_error_text(exc))
    else:
        messages.success(request, _("Candidate discarded and its image deleted."))
    return redirect(safe_next(request, "gallery"))
