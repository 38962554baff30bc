"""Writes for jobs and batches: create (idempotently), cancel."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, Store, User
from billing import services as billing
from billing.models import Plan
from catalog import selectors as catalog
from generation import inputs as job_inputs
from generation.dispatch import enqueue_job
from generation.models import Batch, Job, JobKind, JobState
from generation.webhooks import job_event_fanout


class IdempotencyConflict(Exception):
    """The idempotency key was used before with a different request body."""


@dataclass(frozen=True)
class CreatedJob:
    job: Job
    created: bool  # False when an earlier request with the same idempotency key made it


def _fingerprint(kind: str, inputs: dict, params: dict) -> str:
    body = json.dumps({"kind": kind, "inputs": inputs, "params": params}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def output_label_for(*, store: Store, plan: Plan | None = None) -> dict:
    """How outputs are marked: the visible label when the store asks for it or must carry it (a Korean store,
    catalog.selectors.label_is_mandatory), in its chosen wording, corner and size; the free plan always gets it and
    a small watermark."""
    free_plan = (plan or billing.billing_account_for(store=store).plan).watermark
    label = catalog.store_visible_label(store=store)
    return {**label, "visible": free_plan or label["visible"], "watermark": free_plan}


# Kinds that replace the face on the product shot: a shot whose detection found no face cannot be one's target.
FACE_TARGET_KINDS = (JobKind.SWAP, JobKind.PIPELINE)


def refuse_faceless_shots(*, store: Store, shot_ids, field: str) -> None:
    """ValidationError naming each shot (by its file name) whose face detection found no face or failed: a job on
    it could only fail. Shots still being detected pass (the worker finds the faces itself)."""
    ids = [int(i) for i in shot_ids if isinstance(i, int | str) and not isinstance(i, bool) and str(i).isdigit()]
    if not ids:
        return
    shots = catalog.store_product_shots(store=store).filter(pk__in=ids).only("pk", "original_filename",
                                                                              "faces", "faces_state")
    problems = []
    for shot in sorted(shots, key=lambda s: ids.index(s.pk)):
        if shot.faces_state == "ready" and not shot.faces:
            problems.append(_("“%(name)s” has no face to replace: no face was found in this product shot. Choose "
                              "a shot where the face is clearly visible.") % {"name": shot})
        elif shot.faces_state == "failed":
            problems.append(_("“%(name)s” cannot be used: face detection failed on this product shot. Delete it "
                              "and upload it again.") % {"name": shot})
    if problems:
        raise ValidationError({field: problems})


def _new_job(*, store, kind, inputs, params, created_by, token, batch=None, idempotency_key=None, consent=None) -> Job:
    if kind not in JobKind.values:
        raise ValidationError(
            {"kind": _("Unknown job kind; choose one of: %(kinds)s.") % {"kinds": ", ".join(JobKind.values)}}
        )
    params = job_inputs.validate_params(kind, params or {})
    input_keys, effective_params = job_inputs.resolve(store, kind, inputs or {}, params, consent)
    job = Job(
        store=store,
        kind=kind,
        inputs=inputs or {},
        params=effective_params,
        input_keys=input_keys,
        batch=batch,
        created_by=created_by if created_by and created_by.is_authenticated else None,
        created_by_token=token,
        idempotency_key=idempotency_key,
        request_fingerprint=_fingerprint(kind, inputs or {}, params),
        dispatched_at=timezone.now(),
    )
    # Inputs and references were validated above and the foreign keys are rows already loaded, so only the
    # plain fields are checked here: the full model validation would add a query per foreign key to every job.
    job.clean_fields(
        exclude=[
            "store",
            "batch",
            "created_by",
            "created_by_token",
            "inputs",
            "input_keys",
            "params",
            "outputs",
            "metrics",
        ]
    )
    job.save()
    reserve = billing.credits_reserve(job=job)  # a 402 (QuotaExceeded/PaymentRequired) rolls the job back
    enqueue_job(job, label=output_label_for(store=store, plan=reserve.plan))
    return job


def job_create(
    *,
    store: Store,
    kind: str,
    inputs: dict,
    params: dict | None = None,
    created_by: User | None = None,
    token: ApiToken | None = None,
    idempotency_key: str | None = None,
    consent: dict | None = None,
) -> CreatedJob:
    """Create a job and queue it (through the outbox) once the transaction commits.

    ``consent``: second_generation needs ``{"parent_a": True, "parent_b": True}`` (see generation.inputs.resolve).

    With ``idempotency_key``: the same key and body return the first job (``created=False``);
    the same key with another body raises ``IdempotencyConflict``. Raises ``ValidationError``
    for an unknown kind, bad parameters or references to objects the store cannot use.
    """
    if idempotency_key:
        fingerprint = _fingerprint(kind, inputs or {}, params or {})
        existing = Job.objects.filter(store=store, idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.request_fingerprint != fingerprint:
                raise IdempotencyConflict()
            return CreatedJob(existing, created=False)
    if kind in FACE_TARGET_KINDS and isinstance(inputs, dict):
        refuse_faceless_shots(store=store, shot_ids=[inputs.get("product_shot")], field="inputs.product_shot")
    try:
        with transaction.atomic():
            job = _new_job(
                store=store,
                kind=kind,
                inputs=inputs,
                params=params,
                created_by=created_by,
                token=token,
                idempotency_key=idempotency_key or None,
                consent=consent,
            )
    except IntegrityError:
        if not idempotency_key:
            raise
        # Two requests raced with the same key: the other one won; answer as it did.
        return job_create(
            store=store,
            kind=kind,
            inputs=inputs,
            params=params,
            created_by=created_by,
            token=token,
            idempotency_key=idempotency_key,
            consent=consent,
        )
    return CreatedJob(job, created=True)


@transaction.atomic
def batch_create(
    *,
    store: Store,
    face_id: int,
    product_shot_ids: list[int],
    params: dict | None = None,
    preset_id: int | None = None,
    created_by: User | None = None,
    token: ApiToken | None = None,
) -> Batch:
    """One pipeline job per product shot with the same face. Raises ValidationError on any bad reference."""
    if not product_shot_ids:
        raise ValidationError({"product_shots": _("Choose at least one product shot.")})
    if len(set(product_shot_ids)) != len(product_shot_ids):
        raise ValidationError({"product_shots": _("A product shot is listed twice.")})
    face = catalog.usable_face(store=store, face_id=face_id)
    if face is None:
        raise ValidationError({"face": _("No such face in your store or the public gallery.")})
    refuse_faceless_shots(store=store, shot_ids=product_shot_ids, field="product_shots")
    batch = Batch.objects.create(
        store=store,
        face=face,
        params=params or {},
        created_by=created_by if created_by and created_by.is_authenticated else None,
    )
    for shot_id in product_shot_ids:
        inputs = {"face": face.pk, "product_shot": shot_id}
        if preset_id:
            inputs["preset"] = preset_id
        _new_job(
            store=store,
            kind=JobKind.PIPELINE,
            inputs=inputs,
            params=params,
            created_by=created_by,
            token=token,
            batch=batch,
        )
    return batch


def job_cancel(*, job: Job) -> Job:
    """Cancel a queued or running job; a finished job is returned unchanged.

    The worker is told to drop (queued) or terminate (running) the task; events that
    arrive from it afterwards are ignored because the job is terminal.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_terminal:
            return job
        job.state = JobState.CANCELED
        job.finished_at = timezone.now()
        job.error_code = "canceled"
        job.error_message = _("Canceled at the customer's request.")
        job.save(update_fields=["state", "finished_at", "error_code", "error_message", "updated_at"])
        billing.credits_release(job=job)
        job_event_fanout(job=job, event_type="job.canceled")
    # With the broker down the revoke is lost: the job stays canceled, and whatever a worker
    # still reports for it is ignored because the job is terminal.
    with contextlib.suppress(Exception):
        current_app.control.revoke(str(job.pk), terminate=True, signal="SIGTERM")
    return job
