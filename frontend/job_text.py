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
    "face_turned": _("The head in the photo is turned too far to replace. Use a photo facing the camera."),
    "identity_check_failed": _("The result did not look enough like the model face, so it was not kept. Try "
                               "another product shot or model face."),
    "bad_asset": _("The model face's prepared data could not be read. Try again; if it fails again, upload the "
                   "face again."),
    "asset_outdated": _("The model face is being prepared again after an update. Try again in a few minutes."),
}
# The shot and the model face of swap/pipeline jobs, as the worker names them ("target"/"source").
SHOT_ERRORS = {
    "no_face": _("No face was found in the product shot “%(name)s”, so there is nothing to replace. Choose a shot "
                 "where the face is clearly visible."),
    "face_too_small": _("The face in the product shot “%(name)s” is too small to replace. Use a closer or larger "
                        "shot."),
    "face_turned": _("The head in the product shot “%(name)s” is turned too far to replace. Use a shot facing the "
                     "camera."),
    "unreadable_image": _("The product shot “%(name)s” could not be read. Upload it again as JPEG, PNG or WEBP."),
}
MODEL_FACE_ERRORS = {
    "no_face": _("No face was found in the model face photo “%(name)s”. Choose another model face, or upload a "
                 "photo where the face is clearly visible."),
    "face_too_small": _("The face in the model face photo “%(name)s” is too small. Choose another model face."),
    "face_turned": _("The head in the model face photo “%(name)s” is turned too far. Choose a model face facing "
                     "the camera."),
    "unreadable_image": _("The model face photo “%(name)s” could not be read. Choose another model face."),
}
SHOT_ROLES, MODEL_FACE_ROLE = ("target", "image"), "source"  # "image": a restore job's shot
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


def _error_role(job: Job) -> str:
    """The input at fault: the worker's ``error_input``, else (jobs failed before the worker named it) the role its
    English message mentions ("no face found in the target image")."""
    if job.error_input:
        return job.error_input
    message = job.error_message or ""
    for role in ("target", MODEL_FACE_ROLE):
        if f"the {role} " in message or f"{role} image" in message or message.startswith(f"{role} face"):
            return role
    return ""


def _shot_name(job: Job) -> str:
    shot_id = str((job.inputs or {}).get("product_shot") or "")
    shot = catalog.store_product_shots(store=job.store).filter(pk=int(shot_id)).first() if shot_id.isdigit() else None
    return str(shot) if shot is not None else gettext("product shot")


def _model_face_name(job: Job) -> str:
    face_id = (job.inputs or {}).get("face")
    face = catalog.usable_face(store=job.store, face_id=face_id) if face_id not in (None, "") else None
    if face is None:
        return gettext("model face")
    return face.name or gettext("face %(id)s") % {"id": face.pk}


def _input_error_text(job: Job) -> str:
    role, code = _error_role(job), job.error_code
    if role in SHOT_ROLES and code in SHOT_ERRORS and (job.inputs or {}).get("product_shot"):
        return str(SHOT_ERRORS[code]) % {"name": _shot_name(job)}
    if role == MODEL_FACE_ROLE and code in MODEL_FACE_ERRORS and (job.inputs or {}).get("face"):
        return str(MODEL_FACE_ERRORS[code]) % {"name": _model_face_name(job)}
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


# ---- what a job does and which engine did it ---------------------------------------------------------------------

STEP_LABELS = {
    "swap": _("Face swap"),
    "restore": _("Restore"),
    "makeup": _("Makeup"),
    "generate": _("Generate a face"),
    "second_generation": _("Second generation"),
}
# The worker's plans (gpu_worker/pipelines.py PLANS): a step ending in "?" runs only when the job has a makeup
# reference face (``input_keys["reference"]``, from the job's reference_face or its preset's makeup face).
STEP_PLANS = {
    "swap": ("swap",),
    "restore": ("restore",),
    "makeup": ("makeup",),
    "pipeline": ("swap", "restore", "makeup?"),
    "generate_face": ("generate", "makeup?"),
    "second_generation": ("second_generation",),
}


def job_steps(job: Job) -> list[str]:
    """The steps this job runs (or ran), in order: makeup only when the job has a makeup reference face."""
    has_reference = bool((job.input_keys or {}).get("reference"))
    steps = [s.rstrip("?") for s in STEP_PLANS.get(job.kind, ()) if not s.endswith("?") or has_reference]
    return [str(STEP_LABELS[s]) for s in steps]


def job_steps_text(job: Job) -> str:
    return " → ".join(job_steps(job)) or job.get_kind_display()


ENGINE_MEANING = {
    "classical": _("Made on the CPU by the classical engine: good for checking pose, layout and colour; skin and "
                   "hair detail is softer than with the neural engine."),
    "neural": _("Made on a GPU by the neural engine: the most natural skin and detail. Still check the face "
                "close-up before publishing."),
    "mixed": _("Some steps ran on the neural engine, others on the CPU classical engine; detail is best where the "
               "neural engine ran."),
}


def _short_weight(weight_id: str) -> str:
    value = str(weight_id)
    return value.removeprefix("sha256:")[:8] if not value.startswith("recipe:") else value


def job_engine(job: Job) -> dict | None:
    """Which engine made a succeeded job's result, from the worker's ``metrics["engine"]``
    ("swap:classical-2.0 → restore:neural-gpen-1.0") and each stage's ``weights``: ``{"kind": "classical" | "neural"
    | "mixed", "label", "meaning", "steps": [{"step", "engine"}, ...]}``; None when the worker did not say."""
    metrics = job.metrics or {}
    engine = metrics.get("engine")
    if job.state != JobState.SUCCEEDED or not isinstance(engine, str) or not engine:
        return None
    stages = metrics.get("stages") if isinstance(metrics.get("stages"), list) else []
    steps, kinds, all_weights = [], set(), []
    for index, part in enumerate(p.strip() for p in engine.split("→")):
        name, _sep, version = part.partition(":")
        neural = version.startswith("neural")
        kinds.add("neural" if neural else "classical")
        stage = stages[index] if index < len(stages) and isinstance(stages[index], dict) else {}
        weights = stage.get("weights") if isinstance(stage.get("weights"), dict) else {}
        listed = ", ".join(f"{model} {_short_weight(wid)}" for model, wid in sorted(weights.items()))
        all_weights.extend(f"{model} {_short_weight(wid)}" for model, wid in sorted(weights.items()))
        if neural:
            label = gettext("Neural engine (weights: %(weights)s)") % {"weights": listed or version}
        else:
            label = gettext("CPU classical engine")
        steps.append({"step": str(STEP_LABELS.get(name, name)), "engine": label, "version": version})
    kind = kinds.pop() if len(kinds) == 1 else "mixed"
    if kind == "neural":
        label = gettext("Neural engine (weights: %(weights)s)") % {
            "weights": ", ".join(dict.fromkeys(all_weights)) or engine}
    elif kind == "classical":
        label = gettext("CPU classical engine")
    else:
        label = gettext("Neural and CPU classical engines")
    return {"kind": kind, "label": label, "meaning": str(ENGINE_MEANING[kind]), "steps": steps}


def _valid_box(box) -> bool:
    return isinstance(box, list | tuple) and len(box) == 4 and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in box)


def job_face_box(job: Job, shot) -> list[int] | None:
    """The swapped face's [x, y, w, h] box on the result: the worker's (``metrics.stages[0]``: the classical swap's
    ``target_face``, the neural swap's first ``target_faces``; their boxes are left, top, right, bottom), else the
    shot's detected face (already x, y, w, h) that the job chose by ``face_index``, else the shot's largest face."""
    stages = (job.metrics or {}).get("stages")
    first = stages[0] if isinstance(stages, list) and stages and isinstance(stages[0], dict) else {}
    found = first.get("target_face") or next(iter(first.get("target_faces") or []), None)
    box = found.get("box") if isinstance(found, dict) else None
    if _valid_box(box) and box[2] > box[0] and box[3] > box[1]:
        return [int(box[0]), int(box[1]), int(box[2] - box[0]), int(box[3] - box[1])]
    faces = sorted((f for f in (shot.faces or []) if isinstance(f, dict) and _valid_box(f.get("box"))),
                   key=lambda f: f["box"][0]) if shot is not None else []
    if not faces:
        return None
    index = (job.params or {}).get("face_index")
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(faces):
        chosen = faces[index]
    else:
        chosen = max(faces, key=lambda f: f["box"][2] * f["box"][3])
    box = chosen["box"]
    return [int(v) for v in box] if box[2] > 0 and box[3] > 0 else None
