"""Reads for jobs, batches and webhooks. The store is a required argument of every selector.

Ids come from URLs and query strings: a malformed one finds nothing (None or an empty queryset),
it never raises.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from django.db.models import Count, Q, QuerySet

from accounts.models import Store
from catalog import selectors as catalog
from generation.models import (
    TERMINAL_STATES,
    Batch,
    Job,
    JobKind,
    JobState,
    ParentPhoto,
    WebhookDelivery,
    WebhookEndpoint,
)


def _uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def _by_id(queryset: QuerySet, value):
    pk = _uuid(value)
    return None if pk is None else queryset.filter(pk=pk).first()


def store_jobs(*, store: Store) -> QuerySet[Job]:
    """Every job of the store, newest first."""
    return Job.objects.filter(store=store).order_by("-created_at")


def store_job(*, store: Store, job_id) -> Job | None:
    """The store's job with this id (its batch loaded), else None: never another store's job."""
    return _by_id(store_jobs(store=store).select_related("batch"), job_id)


def store_batches(*, store: Store) -> QuerySet[Batch]:
    """Every batch of the store, newest first."""
    return Batch.objects.filter(store=store).order_by("-created_at")


def batch_summaries(*, store: Store) -> QuerySet[Batch]:
    """The store's batches, newest first, each with its face and ``photos`` / ``succeeded`` / ``finished`` counts
    (what the job list says of a batch)."""
    return store_batches(store=store).select_related("face").annotate(
        photos=Count("jobs"), succeeded=Count("jobs", filter=Q(jobs__state=JobState.SUCCEEDED)),
        finished=Count("jobs", filter=Q(jobs__state__in=TERMINAL_STATES)),
    )


def store_batch(*, store: Store, batch_id) -> Batch | None:
    """The store's batch with this id (its face loaded), else None."""
    return _by_id(store_batches(store=store).select_related("face"), batch_id)


def candidate_jobs(*, store: Store, job_ids: Iterable) -> QuerySet[Job]:
    """The store's face candidates among ``job_ids``: generate_face jobs not discarded, oldest first.

    Malformed ids are skipped.
    """
    ids = [i for i in map(_uuid, job_ids) if i is not None]
    return Job.objects.filter(
        store=store, kind=JobKind.GENERATE_FACE, pk__in=ids, outputs_discarded_at__isnull=True
    ).order_by("created_at")


def store_webhook_endpoints(*, store: Store) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(store=store).order_by("created_at", "id")


def store_webhook_deliveries(*, store: Store) -> QuerySet[WebhookDelivery]:
    """The store's webhook deliveries, newest first, with their endpoint."""
    return WebhookDelivery.objects.filter(store=store).select_related("endpoint").order_by("-created_at")


def store_parent_photos(*, store: Store) -> QuerySet[ParentPhoto]:
    """The parent photos the store uploaded for second generation, newest first."""
    return ParentPhoto.objects.filter(store=store)


def job_parent_photos(*, store: Store, job: Job) -> dict[str, ParentPhoto]:
    """The uploaded parent photos a second_generation job used, by role (``parent_a``/``parent_b``)."""
    ids = {role: job.inputs.get(f"{role}_photo") for role in ("parent_a", "parent_b")}
    wanted = [int(v) for v in ids.values() if str(v).isdigit()]
    found = {photo.pk: photo for photo in store_parent_photos(store=store).filter(pk__in=wanted)} if wanted else {}
    return {role: found[int(v)] for role, v in ids.items() if str(v).isdigit() and int(v) in found}


def _result_base(job: Job, shot_name: str | None, output: str) -> str:
    """A result's file name without its extension: after its product shot (``look-front-gasang``), else
    ``gasang-<kind>-<short id>``; an output other than ``image`` adds its name."""
    stem = Path(shot_name or "").stem
    base = f"{stem}-gasang" if stem else f"gasang-{job.kind}-{str(job.pk)[:8]}"
    return base if output == "image" else f"{base}-{output}"


def batch_result_files(*, batch: Batch, jobs: Iterable[Job]) -> list[tuple[str, str]]:
    """(zip entry name, storage key) for each result, named after its product shot: ``look-front-gasang.png``
    (``.jpg`` for a store that chose JPEG).

    A seller matches results to products by file name; names repeat when shots share one, so later ones get
    ``-2``, ``-3``.
    """
    jobs = list(jobs)
    shot_ids = {job.inputs.get("product_shot") for job in jobs} - {None}
    shot_names = dict(catalog.store_product_shots(store=batch.store).filter(pk__in=shot_ids)
                      .values_list("pk", "original_filename"))
    files, used = [], set()
    for job in jobs:
        shot_name = shot_names.get(job.inputs.get("product_shot"))
        for output, key in job.outputs.items():
            base, extension = _result_base(job, shot_name, output), _extension(key)
            entry, copy = f"{base}{extension}", 1
            while entry in used:
                copy += 1
                entry = f"{base}-{copy}{extension}"
            used.add(entry)
            files.append((entry, key))
    return files


def job_result_file(*, job: Job) -> tuple[str, str] | None:
    """(download file name, storage key) of a succeeded job's result image, named like the batch zip's entries
    (``look-front-gasang.png`` or ``.jpg``; ``gasang-<kind>-<short id>.png`` without a product shot); None when there
    is no result to download (not finished, failed, or discarded)."""
    key = (job.outputs or {}).get("image")
    if job.state != "succeeded" or job.outputs_discarded_at is not None or not key:
        return None
    shot_id = job.inputs.get("product_shot")
    shot_name = None
    if str(shot_id or "").isdigit():
        shot_name = (catalog.store_product_shots(store=job.store).filter(pk=int(shot_id))
                     .values_list("original_filename", flat=True).first())
    return f"{_result_base(job, shot_name, 'image')}{_extension(key)}", key


def _extension(key: str) -> str:
    """The stored result's extension (``.png``, or ``.jpg`` for a store that chose JPEG)."""
    return Path(key).suffix.lower() or ".png"
