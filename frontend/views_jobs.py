"""Jobs and batches: start a pipeline over shots, live progress fragments, results, second generation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from billing.errors import BillingRefused
from catalog import selectors as catalog
from frontend.access import store_page
from frontend.errors import add_service_errors, billing_refusal_text
from frontend.forms import BatchForm, SecondGenerationForm
from frontend.job_text import job_error_text
from frontend.resemblance_text import resemblance_view
from generation import parents, selectors, services
from generation.consistency import batch_consistency, job_consistency
from generation.models import Batch, Job, JobKind


def _store_job(store, pk) -> Job:
    job = selectors.store_job(store=store, job_id=pk)
    if job is None:
        raise Http404
    return job


def _store_batch(store, pk) -> Batch:
    batch = selectors.store_batch(store=store, batch_id=pk)
    if batch is None:
        raise Http404
    return batch


def _job_view(job: Job, shots: dict) -> dict:
    """What a job row/card shows: its shot (for the before image), result, error in plain words, and how close the
    result's face is to the model's."""
    shot = shots.get(int(job.inputs.get("product_shot") or 0)) if job.inputs.get("product_shot") else None
    size = (job.metrics or {}).get("output_size") or ([shot.width, shot.height] if shot else [1, 1])
    return {"job": job, "shot": shot, "width": size[0], "height": size[1], "error": job_error_text(job),
            "consistency": job_consistency(job)}


def _second_generation_view(job: Job) -> dict:
    """The resemblance in plain words, with the parents called as the user chose when uploading them."""
    photos = selectors.job_parent_photos(store=job.store, job=job)
    return {"resemblance": resemblance_view(job, {role: photo.relation for role, photo in photos.items()})}


def _shots_for(store, jobs) -> dict:
    ids = {int(j.inputs["product_shot"]) for j in jobs if str(j.inputs.get("product_shot", "")).isdigit()}
    return {s.pk: s for s in catalog.store_product_shots(store=store).filter(pk__in=ids)}


@store_page()
def job_list(request):
    jobs = list(selectors.store_jobs(store=request.store)[:50])
    batches = list(selectors.store_batches(store=request.store)[:20])
    return render(request, "frontend/jobs.html", {"jobs": jobs, "batches": batches})


@store_page(read_role=Role.EDITOR)
def batch_new(request):
    faces = list(catalog.usable_faces(store=request.store)[:200])
    shots = list(catalog.store_product_shots(store=request.store).filter(status="ready")[:200])
    options = catalog.store_options(store=request.store)
    model_face_id = options.model_face_id if options else None
    initial = {"face": model_face_id, "product_shots": [int(i) for i in request.GET.getlist("shot") if i.isdigit()]}
    form = BatchForm(request.POST or None, faces=faces, shots=shots, presets=catalog.store_presets(store=request.store),
                     initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_create(
                store=request.store, face_id=data["face"], product_shot_ids=data["product_shots"],
                preset_id=data["preset"], created_by=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except BillingRefused as exc:
            form.add_error(None, billing_refusal_text(exc))
        else:
            return redirect("batch-detail", pk=batch.pk)
    return render(request, "frontend/batch_new.html", {
        "form": form, "shots": shots, "faces": faces, "model_face_id": model_face_id,
    })


@store_page()
def batch_detail(request, pk):
    batch = _store_batch(request.store, pk)
    jobs = list(batch.jobs.order_by("created_at"))
    shots = _shots_for(request.store, jobs)
    total = len(jobs)
    done = sum(1 for j in jobs if j.is_terminal)
    progress = round(sum(100 if j.is_terminal else j.progress for j in jobs) / total) if total else 0
    context = {
        "batch": batch, "items": [_job_view(j, shots) for j in jobs], "total": total, "done": done,
        "succeeded": sum(1 for j in jobs if j.state == "succeeded"), "progress": progress,
        "active": done < total, "consistency": batch_consistency(jobs),
    }
    template = "frontend/_batch_progress.html" if request.GET.get("fragment") else "frontend/batch_detail.html"
    return render(request, template, context)


@store_page()
def job_detail(request, pk):
    job = _store_job(request.store, pk)
    item = _job_view(job, _shots_for(request.store, [job]))
    if job.kind == JobKind.SECOND_GENERATION:
        item.update(_second_generation_view(job))
    template = "frontend/_job_card.html" if request.GET.get("fragment") else "frontend/job_detail.html"
    return render(request, template, {"item": item, "poll": True})


@require_POST
@store_page()
def job_cancel(request, pk):
    job = services.job_cancel(job=_store_job(request.store, pk))
    messages.info(request, _("Job canceled.") if job.state == "canceled" else _("The job had already finished."))
    return redirect("job-detail", pk=job.pk)


@store_page()
def second_generation(request):
    faces = list(catalog.usable_faces(store=request.store)[:200])
    form = SecondGenerationForm(request.POST or None, request.FILES or None, faces=faces)
    if request.method == "POST" and form.is_valid():
        try:
            job = parents.second_generation_create(
                store=request.store, created_by=request.user, parents=form.parents(), params=form.params())
        except ValidationError as exc:
            add_service_errors(form, _form_keys(exc))
        except BillingRefused as exc:
            form.add_error(None, billing_refusal_text(exc))
        else:
            return redirect("job-detail", pk=job.pk)
    recent = selectors.store_jobs(store=request.store).filter(kind=JobKind.SECOND_GENERATION)[:6]
    return render(request, "frontend/second_generation.html", {"form": form, "faces": faces, "recent": recent})


def _form_keys(exc: ValidationError) -> ValidationError:
    """The job's ``inputs.parent_a_photo`` / ``params.weight_a`` errors under the page's field names."""
    if not hasattr(exc, "error_dict"):
        return exc
    renamed = {}
    for key, errors in exc.message_dict.items():
        renamed.setdefault(key.removeprefix("inputs.").removeprefix("params."), []).extend(errors)
    return ValidationError(renamed)
