"""Reads for the catalog. The store is a required argument of every store-data selector."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Store
from catalog.models import ModelFace, ProductShot, StoreOptions, StylePreset
from gpu_worker.spec import DEFAULT_OUTPUT_FORMAT

_PUBLISHED_PUBLIC = Q(store__isnull=True, curation=ModelFace.Curation.PUBLISHED)


def store_presets(*, store: Store) -> QuerySet[StylePreset]:
    return StylePreset.objects.filter(store=store)


def store_product_shots(*, store: Store) -> QuerySet[ProductShot]:
    return ProductShot.objects.filter(store=store)


def store_faces(*, store: Store) -> QuerySet[ModelFace]:
    """The store's own faces (generated or uploaded), whatever their gallery submission state."""
    return ModelFace.objects.filter(store=store)


def faces_kept_from_jobs(*, store: Store, job_ids) -> QuerySet[ModelFace]:
    """The store's faces kept from these generate_face jobs (at most one per job)."""
    return store_faces(store=store).filter(generated_by_job__in=list(job_ids))


def with_tags(*, queryset: QuerySet[ModelFace], tags: list[str] | None) -> QuerySet[ModelFace]:
    tags = [t for t in (tags or []) if t]
    if not tags:
        return queryset
    if connection.features.supports_json_field_contains:  # PostgreSQL: jsonb @> per tag, all must match
        for tag in tags:
            queryset = queryset.filter(tags__contains=[tag])
        return queryset
    # SQLite (embedded mode) has no JSON containment; galleries are small, filter the ids in Python.
    wanted = set(tags)
    ids = [pk for pk, face_tags in queryset.values_list("pk", "tags") if wanted <= set(face_tags or [])]
    return queryset.filter(pk__in=ids)


def published_gallery(*, tags: list[str] | None = None) -> QuerySet[ModelFace]:
    """Public faces an admin has published; with ``tags``, only faces carrying all of them."""
    return with_tags(queryset=ModelFace.objects.filter(_PUBLISHED_PUBLIC), tags=tags)


def usable_faces(*, store: Store, tags: list[str] | None = None) -> QuerySet[ModelFace]:
    """Every face ``store`` may use: its own faces and the published public gallery."""
    return with_tags(queryset=ModelFace.objects.filter(Q(store=store) | _PUBLISHED_PUBLIC), tags=tags)


# A face whose asset failed (no face, too small, turned) or whose prepared asset names contributor problems
# (glasses, turned, ...) is never blended into a new face (catalog/face_checks.py).
_CONTRIBUTOR_OK = ~Q(asset_state=ModelFace.AssetState.FAILED) & (
    Q(asset_summary__contributor_problems__isnull=True) | Q(asset_summary__contributor_problems=[])
)


def contributor_faces(*, store: Store, tags: list[str] | None = None) -> QuerySet[ModelFace]:
    """The usable faces generation may blend into new faces (``usable_faces`` less those the checks refused)."""
    return usable_faces(store=store, tags=tags).filter(_CONTRIBUTOR_OK)


def usable_face(*, store: Store, face_id) -> ModelFace | None:
    """The store's own face or a published public face with this id, else None (never another store's face)."""
    try:
        face_id = int(face_id)
    except (TypeError, ValueError):
        return None
    return usable_faces(store=store).filter(pk=face_id).first()


def store_options(*, store: Store) -> StoreOptions | None:
    return StoreOptions.objects.filter(store=store).select_related("model_face").first()


def label_is_mandatory(*, store: Store) -> bool:
    """Korean stores always mark their outputs visibly: realistic synthetic images that leave the service must be
    clearly marked (AI Basic Act, Art. 31(3)); the store chooses only the wording, corner and size."""
    return store.locale == Store.Locale.KOREAN


def _loaded_options(store: Store) -> StoreOptions | None:
    """The options loaded with the request's store (accounts.selectors), else one query."""
    if Store.options.is_cached(store):
        try:
            return store.options
        except StoreOptions.DoesNotExist:
            return None
    return StoreOptions.objects.filter(store=store).first()


def store_output_format(*, store: Store) -> str:
    """The file format of the store's results: ``png`` or ``jpeg`` (gpu_worker.spec.OUTPUT_FORMATS)."""
    options = _loaded_options(store)
    return options.output_format if options is not None else DEFAULT_OUTPUT_FORMAT


def store_visible_label(*, store: Store) -> dict:
    """The visible mark the store's outputs carry: ``{"visible": bool, "text", "position", "size"}``."""
    options = _loaded_options(store)
    visible = label_is_mandatory(store=store) or bool(options and options.visible_ai_label)
    if options is None:
        return {"visible": visible}
    return {"visible": visible, "text": options.label_text, "position": options.label_position,
            "size": options.label_size}
