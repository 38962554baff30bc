"""Jobs and batches: start a pipeline over shots, live progress fragments, results, second generation."""

from __future__ import annotations

import io
import mimetypes

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from billing import selectors as billing
from billing.errors import BillingRefused
from billing.prices import credit_price
from catalog import selectors as catalog
from core import objectstore
from frontend.access import store_page
from frontend.errors import add_service_errors, billing_refusal_text
from frontend.forms import BatchForm, SecondGenerationForm
from frontend.job_text import job_engine, job_error_text, job_face_box, job_steps_text
from frontend.resemblance_text import resemblance_view
from generation import parents, selectors, services
from generation.consistency import batch_consistency, job_consistency
from generation.models import Batch, Job, JobKind, JobState


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


def _zoom(box, width, height) -> dict | None:
    """The close-up of the face: its centre in percent of the image and the scale that makes it fill about 60% of
    the frame (at least 1.5×, at most 8×)."""
    if not box or not width or not height:
        return None
    x, y, w, h = box
    scale = min(8.0, max(1.5, 0.6 / max(w / width, h / height)))
    half = 50 / scale  # the centre stays far enough from the edges for the frame to show only the photo
    centre_x = min(100 - half, max(half, 100 * (x + w / 2) / width))
    centre_y = min(100 - half, max(half, 100 * (y + h / 2) / height))
    return {"x": f"{centre_x:.2f}", "y": f"{centre_y:.2f}", "scale": f"{scale:.2f}"}


def _job_view(job: Job, shots: dict) -> dict:
    """What a job row/card shows: its shot (for the before image), the steps it runs, result, error in plain words
    (the engine's own English message only on English pages), which engine made it, the face close-up and how close
    the result's face is to the model's."""
    shot = shots.get(int(job.inputs.get("product_shot") or 0)) if str(job.inputs.get("product_shot", "")).isdigit() \
        else None
    size = (job.metrics or {}).get("output_size") or ([shot.width, shot.height] if shot else [1, 1])
    english = (get_language() or "").startswith("en")
    zoom = _zoom(job_face_box(job, shot), size[0], size[1]) if job.state == JobState.SUCCEEDED and shot else None
    return {"job": job, "shot": shot, "width": size[0], "height": size[1], "error": job_error_text(job),
            "detail": job.error_message if english else "", "steps": job_steps_text(job),
            "engine": job_engine(job), "zoom": zoom, "consistency": job_consistency(job)}


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
    batches = list(selectors.batch_summaries(store=request.store)[:20])
    return render(request, "frontend/jobs.html", {"jobs": jobs, "batches": batches})


def _shot_unusable_reason(shot) -> str:
    """Why a shot cannot be picked for the pipeline ('' when it can): no face found, still detecting, or failed."""
    if shot.faces_state == "pending":
        return _("Still detecting faces — try again in a few seconds.")
    if shot.faces_state == "failed":
        return _("Face detection failed — delete this shot and upload it again.")
    if not shot.faces:
        return _("No face — there is no face to replace.")
    return ""


@store_page(read_role=Role.EDITOR)
def batch_new(request):
    faces = list(catalog.usable_faces(store=request.store)[:200])
    shots = list(catalog.store_product_shots(store=request.store).filter(status="ready")[:200])
    for shot in shots:
        shot.unusable = _shot_unusable_reason(shot)
    price, credits_left = credit_price(JobKind.PIPELINE), billing.balance(store=request.store).remaining
    options = catalog.store_options(store=request.store)
    model_face_id = options.model_face_id if options else None
    initial = {"face": model_face_id, "product_shots": [int(i) for i in request.GET.getlist("shot") if i.isdigit()]}
    form = BatchForm(request.POST or None, faces=faces, shots=shots, presets=catalog.store_presets(store=request.store),
                     initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pending = [s for s in shots if s.pk in data["product_shots"] and s.faces_state == "pending"]
            if pending:
                raise ValidationError({"product_shots": [
                    _("“%(name)s” is still being checked for faces. Wait a few seconds, then start again.")
                    % {"name": shot} for shot in pending]})
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
    chosen = form["product_shots"].value() or []
    usable = {s.pk for s in shots if not s.unusable}
    chosen = {int(v) for v in (chosen if isinstance(chosen, list | tuple) else [chosen]) if str(v).isdigit()} & usable
    return render(request, "frontend/batch_new.html", {
        "form": form, "shots": shots, "faces": faces, "model_face_id": model_face_id,
        "usable_count": len(usable), "chosen": chosen,
        "price": price, "credits_left": credits_left, "chosen_cost": price * len(chosen),
        "chosen_face": _chosen_face(form, faces, model_face_id),
    })


def _chosen_face(form, faces, default):
    value = form["face"].value() or default
    return next((f.pk for f in faces if str(f.pk) == str(value)), faces[0].pk if faces else None)


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


@store_page()
def job_download(request, pk):
    """A succeeded job's result as an attachment named after its product shot (``look-front-gasang.png``), from
    this site: a storage URL's ``download`` attribute is ignored cross-origin (S3), so the name would be lost."""
    found = selectors.job_result_file(job=_store_job(request.store, pk))
    if found is None:
        raise Http404
    name, key = found
    try:
        data = objectstore.get_bytes(key)
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=name, content_type=content_type)


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
