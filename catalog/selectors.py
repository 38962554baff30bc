"""Reads for the catalog. The store is a required argument of every store-data selector."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Store
from catalog.models import ModelFace, ProductShot, StoreOptions, StylePreset

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


def store_wants_visible_label(*, store: Store) -> bool:
    """Whether the store asked for the visible "AI-generated" label on every output.

    Reads the options loaded with the request's store (accounts.selectors), else one narrow query.
    """
    if Store.options.is_cached(store):
        try:
            return store.options.visible_ai_label
        except StoreOptions.DoesNotExist:
            return False
    return any(StoreOptions.objects.filter(store=store).values_list("visible_ai_label", flat=True)[:1])
