"""Writes for the catalog: style presets, product shots, the store's options and model (faces: catalog/faces.py).

Every function is keyword-only and raises Django ``ValidationError`` on bad input (``ImageRejected``
for unacceptable image uploads, itself a ``ValidationError`` carrying a machine-readable code).
Objects are written through ``core.objectstore`` only.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store, User
from catalog.images import CONTENT_TYPES, MAX_UPLOAD_BYTES, ImageRejected, clean_image, too_large
from catalog.models import DirectUpload, ModelFace, ProductShot, StoreOptions, StylePreset
from catalog.selectors import usable_face
from catalog.tags import clean_tags
from core import objectstore
from core.outbox import outbox_enqueue
from gpu_worker.spec import QUEUE_GPU, TASK_DETECT_FACES

# ---- style presets -----------------------------------------------------------------------------

# Seeded for every new store: Korean name (shown to Korean sellers), English name, the gallery tag that
# drives face choice, and engine strengths tuned per look.
PRESET_SEEDS: tuple[dict, ...] = (
    {"name": "우아한", "name_en": "Elegant", "description": "Poised, refined, mature look.",
     "params": {"face_tags": ["elegant"], "makeup_strength": 0.6, "restore_strength": 0.5}},
    {"name": "청초한", "name_en": "Innocent", "description": "Clear, fresh-faced, natural makeup.",
     "params": {"face_tags": ["innocent"], "makeup_strength": 0.3, "restore_strength": 0.4}},
    {"name": "단아한", "name_en": "Graceful", "description": "Neat, modest and graceful.",
     "params": {"face_tags": ["graceful"], "makeup_strength": 0.4, "restore_strength": 0.5}},
    {"name": "퇴폐적인", "name_en": "Edgy", "description": "Moody, languid, bold makeup.",
     "params": {"face_tags": ["edgy"], "makeup_strength": 0.8, "restore_strength": 0.5}},
    {"name": "청량한", "name_en": "Fresh", "description": "Bright, sporty and cool.",
     "params": {"face_tags": ["fresh"], "makeup_strength": 0.3, "restore_strength": 0.4}},
)
PARAM_KEYS = ("face_tags", "face_ids", "makeup_face_id", "makeup_strength", "restore_strength", "latent_directions")


def _strength(params: dict, key: str) -> None:
    if key in params and params[key] is not None:
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValidationError({"params": _("%(key)s must be a number from 0 to 1.") % {"key": key}})


def _clean_params(*, store: Store, params: dict | None) -> dict:
    """Validate preset parameters; every referenced face must be usable by ``store``."""
    params = dict(params or {})
    unknown = sorted(set(params) - set(PARAM_KEYS))
    if unknown:
        raise ValidationError(
            {"params": _("Unknown parameter(s): %(keys)s. Allowed: %(allowed)s.")
             % {"keys": ", ".join(unknown), "allowed": ", ".join(PARAM_KEYS)}}
        )
    if "face_tags" in params:
        params["face_tags"] = clean_tags(params["face_tags"], "params")
    face_ids = params.get("face_ids") or []
    if not isinstance(face_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in face_ids):
        raise ValidationError({"params": _("face_ids must be a list of face ids.")})
    referenced = [*face_ids, *([params["makeup_face_id"]] if params.get("makeup_face_id") is not None else [])]
    for face_id in referenced:
        if usable_face(store=store, face_id=face_id) is None:
            raise ValidationError({"params": _("Face %(id)s is not one of your faces or a published gallery face.")
                                   % {"id": face_id}})
    _strength(params, "makeup_strength")
    _strength(params, "restore_strength")
    directions = params.get("latent_directions")
    if directions is not None and not (
        isinstance(directions, dict)
        and all(isinstance(k, str) and isinstance(v, int | float) and -3 <= v <= 3 for k, v in directions.items())
    ):
        raise ValidationError({"params": _("latent_directions must map direction names to numbers from -3 to 3.")})
    return params


def _duplicate_name(name: str) -> ValidationError:
    return ValidationError({"name": _("A preset named “%(name)s” already exists in this store.") % {"name": name}})


def _save_preset(preset: StylePreset) -> StylePreset:
    name_taken = StylePreset.objects.filter(store=preset.store, name=preset.name).exclude(pk=preset.pk).exists()
    if name_taken:
        raise _duplicate_name(preset.name)
    preset.full_clean()
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError:  # a concurrent request took the name between the check and the insert
        raise _duplicate_name(preset.name) from None
    return preset


@transaction.atomic
def preset_create(
    *, store: Store, name: str, name_en: str = "", description: str = "", params: dict | None = None
) -> StylePreset:
    """Create a preset. Raises ValidationError on a duplicate name or bad params."""
    preset = StylePreset(store=store, name=name.strip(), name_en=name_en.strip(), description=description,
                         params=_clean_params(store=store, params=params))
    return _save_preset(preset)


@transaction.atomic
def preset_update(*, preset: StylePreset, **fields) -> StylePreset:
    """Change any of name, name_en, description, params. Raises ValidationError as ``preset_create``."""
    allowed = {"name", "name_en", "description", "params"}
    for key, value in fields.items():
        if key not in allowed:
            raise TypeError(f"preset_update() got an unexpected field {key!r}")
        if key == "params":
            value = _clean_params(store=preset.store, params=value)
        elif key != "description":
            value = value.strip()
        setattr(preset, key, value)
    return _save_preset(preset)


@transaction.atomic
def preset_delete(*, preset: StylePreset) -> None:
    preset.delete()


def presets_seed_for_store(*, store: Store) -> list[StylePreset]:
    """Give ``store`` the five default looks (idempotent: existing names are left alone)."""
    presets = []
    for seed in PRESET_SEEDS:
        preset, _created = StylePreset.objects.get_or_create(
            store=store, name=seed["name"],
            defaults={"name_en": seed["name_en"], "description": seed["description"], "params": seed["params"]},
        )
        presets.append(preset)
    return presets


# ---- product shots -----------------------------------------------------------------------------


def _shot_key(store: Store, ext: str) -> str:
    return f"stores/{store.pk}/shots/{uuid.uuid4().hex}.{ext}"


def _store_clean_shot(shot: ProductShot, cleaned) -> ProductShot:
    """Write the cleaned image, fill the row and queue face detection, all or nothing."""
    key = _shot_key(shot.store, cleaned.ext)
    objectstore.put_bytes(key, cleaned.data)
    try:
        with transaction.atomic():
            shot.image = key
            shot.status = ProductShot.Status.READY
            shot.content_type = cleaned.content_type
            shot.width, shot.height = cleaned.width, cleaned.height
            shot.size_bytes = len(cleaned.data)
            shot.sha256 = cleaned.sha256
            shot.faces, shot.faces_state = [], ProductShot.FacesState.PENDING
            shot.full_clean()
            shot.save()
            outbox_enqueue(task=TASK_DETECT_FACES, queue=QUEUE_GPU, payload={"shot_id": str(shot.pk), "image": key})
    except Exception:
        objectstore.delete(key)
        raise
    return shot


def product_shot_upload(*, store: Store, uploaded_by: User | None, file: BinaryIO) -> ProductShot:
    """Validate, clean and store an uploaded product shot; face detection is queued on the GPU worker.

    Raises ``ImageRejected`` (nothing is stored) when the file is not an acceptable JPEG/PNG/WEBP.
    """
    cleaned = clean_image(file)
    name = (getattr(file, "name", "") or "")[:255]
    shot = ProductShot(store=store, uploaded_by=uploaded_by, original_filename=name)
    return _store_clean_shot(shot, cleaned)


UPLOAD_URL_SECONDS = 600  # how long a direct upload's presigned POST is valid
UPLOAD_GRACE = timedelta(hours=1)  # after that, before it is cleaned: an upload sent just in time may still arrive


@transaction.atomic
def product_shot_upload_begin(
    *, store: Store, uploaded_by: User | None, filename: str, content_type: str, size: int
) -> tuple[ProductShot, dict]:
    """Start a direct-to-S3 upload: returns the awaiting shot and a presigned POST ``{"url", "fields"}``.

    The client POSTs the file there, then confirms. Raises ValidationError on a bad type or size,
    or when storage is not S3 (use the multipart upload instead).
    """
    if content_type not in CONTENT_TYPES:
        raise ValidationError({"content_type": _("Only image/jpeg, image/png and image/webp can be uploaded.")})
    if size < 1:
        raise ValidationError({"size": _("The file is empty (0 bytes).")})
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError({"size": too_large(size).message})
    if not objectstore.is_s3():
        raise ValidationError(
            _("Direct uploads need S3 storage, which this server does not use. "
              "Upload the file as multipart form data to /api/v1/product-shots/ instead.")
        )
    key = f"stores/{store.pk}/uploads/{uuid.uuid4().hex}"
    expires = timezone.now() + timedelta(seconds=UPLOAD_URL_SECONDS)
    shot = ProductShot(
        store=store, uploaded_by=uploaded_by, status=ProductShot.Status.AWAITING_UPLOAD, upload_key=key,
        upload_expires_at=expires, original_filename=filename[:255], content_type=content_type,
    )
    shot.full_clean()
    shot.save()
    DirectUpload.objects.create(key=key, expires_at=expires)  # cleaned once the URL has expired
    return shot, objectstore.upload_url(key, content_type, MAX_UPLOAD_BYTES, seconds=UPLOAD_URL_SECONDS)


def product_shot_upload_confirm(*, shot: ProductShot) -> ProductShot:
    """Validate and clean a direct upload, then store it like a multipart upload; the raw object is deleted.

    A rejected file (``ImageRejected``) deletes the raw object and the awaiting shot: begin again.
    Raises ValidationError when the shot is not awaiting an upload or nothing was uploaded yet.
    The shot's row stays locked while it is processed, so two confirms never both process it.
    """
    rejected: ImageRejected | None = None
    with transaction.atomic():
        shot = ProductShot.objects.select_for_update().filter(pk=shot.pk).first()
        if shot is None or shot.status != ProductShot.Status.AWAITING_UPLOAD:
            raise ValidationError(_("This product shot is already confirmed."))
        raw_key = shot.upload_key
        if not objectstore.exists(raw_key):
            raise ValidationError(_("Nothing has been uploaded for this product shot yet; POST the file to the "
                                    "upload URL first."))
        try:
            raw_size = objectstore.size(raw_key)
            if raw_size > MAX_UPLOAD_BYTES:
                raise too_large(raw_size)
            cleaned = clean_image(objectstore.get_bytes(raw_key))
        except ImageRejected as exc:
            rejected = exc
            shot.delete()
        else:
            shot.upload_key = ""
            shot = _store_clean_shot(shot, cleaned)
    objectstore.delete(raw_key)  # committed either way: the raw upload is never needed again
    if rejected is not None:
        raise rejected
    return shot


def product_shot_uploads_expire(*, batch: int = 500) -> tuple[int, int]:
    """Clean direct uploads whose URL expired more than ``UPLOAD_GRACE`` ago; returns (shots, keys) deleted.

    Deletes the shots still awaiting their upload, and whatever lies at every such upload key: a file nobody
    confirmed, or one uploaded again after the shot was confirmed or deleted (a presigned POST cannot be revoked;
    such a file never changes the shot, whose cleaned image lives at another key). Run by the periodic task
    ``catalog.expire_direct_uploads`` and ``manage.py expire_uploads``.
    """
    cutoff = timezone.now() - UPLOAD_GRACE
    legacy = Q(upload_expires_at__isnull=True, created_at__lt=cutoff - timedelta(seconds=UPLOAD_URL_SECONDS))
    with transaction.atomic():  # a shot being confirmed right now is locked, so skipped
        stale = list(
            ProductShot.objects.select_for_update(skip_locked=True)
            .filter(Q(upload_expires_at__lt=cutoff) | legacy, status=ProductShot.Status.AWAITING_UPLOAD)
            .order_by()[:batch]
        )
        for shot in stale:
            if shot.upload_key:
                DirectUpload.objects.get_or_create(key=shot.upload_key, defaults={"expires_at": cutoff})
        ProductShot.objects.filter(pk__in=[shot.pk for shot in stale]).delete()
    keys = 0
    for upload in DirectUpload.objects.filter(expires_at__lte=cutoff).order_by("expires_at")[:batch]:
        if ProductShot.objects.filter(status=ProductShot.Status.AWAITING_UPLOAD, upload_key=upload.key).exists():
            continue  # its shot was being confirmed: the next run decides
        objectstore.delete(upload.key)
        upload.delete()
        keys += 1
    return len(stale), keys


def product_shot_delete(*, shot: ProductShot) -> None:
    """Delete the shot and its stored image (after commit, so a rollback keeps the image)."""
    keys = [k for k in (shot.image, shot.upload_key) if k]
    with transaction.atomic():
        try:
            shot.delete()
        except ProtectedError:
            raise ValidationError(_("This product shot is used by jobs and cannot be deleted.")) from None
        transaction.on_commit(lambda: [objectstore.delete(k) for k in keys])


# ---- store options / store model ---------------------------------------------------------------


def store_options_get_or_create(*, store: Store) -> StoreOptions:
    options, _created = StoreOptions.objects.get_or_create(store=store)
    return options


@transaction.atomic
def store_options_update(
    *, store: Store, visible_ai_label: bool, label_text: str | None = None, label_position: str | None = None,
    label_size: str | None = None, output_format: str | None = None,
) -> StoreOptions:
    """Choose whether results carry a visible “AI 생성” mark, and its wording, corner and size (the invisible
    provenance record is always there; a Korean store's results always carry the mark), and the results' file
    format (PNG or JPEG). Raises ValidationError on a choice that is not offered."""
    options = store_options_get_or_create(store=store)
    options.visible_ai_label = bool(visible_ai_label)
    chosen = {"label_text": label_text, "label_position": label_position, "label_size": label_size,
              "output_format": output_format}
    for field, value in chosen.items():
        if value is not None:
            setattr(options, field, value)
    options.full_clean()
    options.save(update_fields=["visible_ai_label", *chosen])
    return options


@transaction.atomic
def store_model_set(*, store: Store, face: ModelFace | None) -> StoreOptions:
    """Pick the store's model face (or clear it with None). It must be the store's own or a published public face."""
    if face is not None and usable_face(store=store, face_id=face.pk) is None:
        raise ValidationError({"face_id": _("Pick one of your own faces or a published gallery face.")})
    options = store_options_get_or_create(store=store)
    options.model_face = face
    options.save(update_fields=["model_face"])
    return options
