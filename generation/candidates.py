"""Writes for face candidates (the store's succeeded generate_face jobs): keep one as a face, or discard it.

Both lock the job row, so a keep and a discard of the same candidate never interleave. Both raise
Django ``ValidationError`` with a sentence for the seller when the job is not a candidate they may
act on (another store's, not a generate_face job, not finished, already discarded).
"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store, User
from catalog import faces as catalog_faces
from catalog import selectors as catalog_selectors
from catalog.models import ModelFace
from core import objectstore
from generation import selectors
from generation.models import Job, JobKind, JobState
from generation.screening import job_screening
from generation.screening_text import refusal_text


def _candidate_for_update(store: Store, job_id: uuid.UUID | str) -> Job:
    """The store's generate_face job, locked; ValidationError unless it has a result to act on."""
    try:
        job_id = uuid.UUID(str(job_id))
    except ValueError:
        job = None
    else:
        jobs = selectors.store_jobs(store=store).select_for_update()
        job = jobs.filter(pk=job_id, kind=JobKind.GENERATE_FACE).first()
    if job is None:
        raise ValidationError(_("That face candidate is not one of your store's candidates."))
    if job.is_discarded:
        raise ValidationError(_("This candidate was discarded, so it can no longer be kept."))
    if job.state != JobState.SUCCEEDED or not job.outputs.get("image"):
        raise ValidationError(_("This candidate has no finished image. Wait until it is ready, or generate new ones."))
    return job


def _preset_id(job: Job) -> int | None:
    value = job.inputs.get("preset")
    return int(value) if str(value).isdigit() else None


@transaction.atomic
def candidate_keep(*, store: Store, job_id: uuid.UUID | str, kept_by: User | None) -> ModelFace:
    """Keep the candidate as a private face of the store (named and tagged after its preset), with its screening.

    Keeping it again returns the same face. Raises ValidationError as described in the module docstring, and
    for a candidate that failed its "not a real person" screening (generation/screening.py), saying why. A job
    made before screening existed carries none and is kept as before.
    """
    job = _candidate_for_update(store, job_id)
    found = job_screening(job)
    if found is not None and found.get("passed") is not True:
        raise ValidationError(refusal_text(found), code=found.get("reason") or "screening_failed")
    return catalog_faces.face_keep_generated(
        store=store,
        job_id=job.pk,
        image_key=job.outputs["image"],
        preset_id=_preset_id(job),
        created_by=kept_by,
        screening=found or {},
    )


def candidate_discard(*, store: Store, job_id: uuid.UUID | str) -> Job:
    """Delete the candidate's image and record on the job that its outputs were discarded.

    A candidate already kept as a face is refused (the face has its own copy of the image; delete the face
    instead). The object is deleted after commit, so a rollback keeps it.
    """
    with transaction.atomic():
        job = _candidate_for_update(store, job_id)
        if catalog_selectors.faces_kept_from_jobs(store=store, job_ids=[job.pk]).exists():
            raise ValidationError(_("This candidate is already kept in your gallery, so it cannot be discarded."))
        keys = [key for key in job.outputs.values() if key]
        job.outputs, job.outputs_discarded_at = {}, timezone.now()
        job.save(update_fields=["outputs", "outputs_discarded_at", "updated_at"])
        transaction.on_commit(lambda: [objectstore.delete(key) for key in keys])
    return job
