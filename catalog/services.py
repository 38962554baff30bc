"""Writes for the catalog: style presets, product shots, virtual model faces, the store model.

Every function is keyword-only and raises Django ``ValidationError`` on bad input (``ImageRejected``
for unacceptable image uploads, itself a ``ValidationError`` carrying a machine-readable code).
Objects are written through ``config.objectstore`` only.
"""

from __future__ import annotations

import uuid
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store, User
from catalog.images import CONTENT_TYPES, MAX_UPLOAD_BYTES, ImageRejected, clean_image, too_large
from catalog.models import ModelFace, ProductShot, StoreOptions, StylePreset
from catalog.selectors import faces_kept_from_jobs, store_faces, store_presets, usable_face
from config import objectstore
from generation.outbox import outbox_enqueue
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


def _clean_tags(tags, field: str = "tags") -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list | tuple) or not all(isinstance(t, str) for t in tags):
        raise ValidationError({field: _("Tags must be a list of strings.")})
    cleaned = list(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    if len(cleaned) > 20 or any(len(t) > 40 for t in cleaned):
        raise ValidationError({field: _("Use at most 20 tags of at most 40 characters each.")})
    return cleaned


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
        params["face_tags"] = _clean_tags(params["face_tags"], "params")
    face_ids = params.get("face_ids") or []
    if not isinstance(face_ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in face_ids):
        raise ValidationError({"params": _("face_ids must be a list of face ids.")})
    referenced = [*face_ids, *([params["makeup_face_id"]] if params.get("makeup_face_id") is not None else [])]
    for face_id in referenced:
        if usable_face(store, face_id) is None:
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


def presets_seed_for_store(store: Store) -> list[StylePreset]:
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
    shot = ProductShot(
        store=store, uploaded_by=uploaded_by, status=ProductShot.Status.AWAITING_UPLOAD, upload_key=key,
        original_filename=filename[:255], content_type=content_type,
    )
    shot.full_clean()
    shot.save()
    return shot, objectstore.upload_url(key, content_type, MAX_UPLOAD_BYTES)


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


def product_shot_delete(*, shot: ProductShot) -> None:
    """Delete the shot and its stored image (after commit, so a rollback keeps the image)."""
    keys = [k for k in (shot.image, shot.upload_key) if k]
    with transaction.atomic():
        try:
            shot.delete()
        except ProtectedError:
            raise ValidationError(_("This product shot is used by jobs and cannot be deleted.")) from None
        transaction.on_commit(lambda: [objectstore.delete(k) for k in keys])


# ---- faces -------------------------------------------------------------------------------------


def _face_key(store: Store | None, ext: str) -> str:
    prefix = f"stores/{store.pk}/faces" if store is not None else "gallery/faces"
    return f"{prefix}/{uuid.uuid4().hex}.{ext}"


def face_upload(
    *, store: Store | None, created_by: User | None, file: BinaryIO, consent_given_by: str, consent_purpose: str,
    tags: list[str] | None = None, name: str = "",
) -> ModelFace:
    """Store a photo of a real person as a face, with the consent attestation (who, for what; when = now).

    ``store=None`` adds a public gallery face, pending curation. Raises ValidationError without both
    consent fields, ``ImageRejected`` for a bad image.
    """
    consent_given_by, consent_purpose = (consent_given_by or "").strip(), (consent_purpose or "").strip()
    missing = {}
    if not consent_given_by:
        missing["consent_given_by"] = _("Say who gave consent to use this face (the person's name).")
    if not consent_purpose:
        missing["consent_purpose"] = _("Say what the person consented to (e.g. “virtual model for our store photos”).")
    if missing:
        raise ValidationError(missing)
    tags = _clean_tags(tags)
    cleaned = clean_image(file)
    key = _face_key(store, cleaned.ext)
    objectstore.put_bytes(key, cleaned.data)
    try:
        with transaction.atomic():
            face = ModelFace(
                store=store, name=name.strip(), image=key, source=ModelFace.Source.UPLOADED, tags=tags,
                curation=ModelFace.Curation.PRIVATE if store is not None else ModelFace.Curation.PENDING,
                consent_given_by=consent_given_by, consent_purpose=consent_purpose,
                consent_given_at=timezone.now(), created_by=created_by,
            )
            face.full_clean()
            face.save()
    except Exception:
        objectstore.delete(key)
        raise
    return face


def _next_face_name(store: Store, base: str) -> str:
    """``"<base> <n>"`` with n one more than the highest number the store's faces already use after ``base``."""
    prefix = f"{base} "
    names = store_faces(store).filter(name__startswith=prefix).values_list("name", flat=True)
    used = [name.removeprefix(prefix) for name in names]
    return f"{prefix}{max((int(n) for n in used if n.isdigit()), default=0) + 1}"


def face_keep_generated(
    *, store: Store, job_id: uuid.UUID, image_key: str, created_by: User | None, preset_id: int | None = None,
) -> ModelFace:
    """Keep a generated candidate (the output ``image_key`` of generate_face job ``job_id``) as a store face.

    The image is copied to the face's own key, so deleting the job's output never breaks the face. A
    generated face is nobody's likeness, so it needs no consent attestation. Name and tags come from the
    style preset when it still exists ("우아한 3", its ``face_tags``). Keeping the same job again returns the
    face kept the first time. Raises ValidationError when the candidate's image is no longer stored.
    The caller checks that the job is the store's own succeeded generate_face job.
    """
    kept = faces_kept_from_jobs(store, [job_id]).first()
    if kept is not None:
        return kept
    if not image_key or not objectstore.exists(image_key):
        raise ValidationError(_("This candidate's image is no longer stored. Generate new candidates."))
    preset = store_presets(store).filter(pk=preset_id).first() if preset_id else None
    tags = _clean_tags(preset.params.get("face_tags") or []) if preset else []
    base = preset.name if preset else _("Generated face")
    ext = image_key.rsplit(".", 1)[-1] if "." in image_key.rsplit("/", 1)[-1] else "png"
    key = objectstore.copy(image_key, _face_key(store, ext))
    try:
        with transaction.atomic():
            face = ModelFace(
                store=store, name=_next_face_name(store, base), image=key, source=ModelFace.Source.GENERATED,
                tags=tags, curation=ModelFace.Curation.PRIVATE, generated_by_job=job_id, created_by=created_by,
            )
            face.full_clean()
            face.save()
    except (IntegrityError, ValidationError):
        objectstore.delete(key)
        kept = faces_kept_from_jobs(store, [job_id]).first()  # a concurrent keep of the same job won
        if kept is None:
            raise
        return kept
    except Exception:
        objectstore.delete(key)
        raise
    return face


@transaction.atomic
def face_update(*, face: ModelFace, name: str | None = None, tags: list[str] | None = None) -> ModelFace:
    if name is not None:
        face.name = name.strip()
    if tags is not None:
        face.tags = _clean_tags(tags)
    face.full_clean()
    face.save()
    return face


def face_delete(*, face: ModelFace) -> None:
    """Delete a store face and its image. Raises ValidationError when jobs still reference it."""
    key = face.image
    with transaction.atomic():
        try:
            face.delete()  # StoreOptions.model_face is SET_NULL: the store model is cleared
        except ProtectedError:
            raise ValidationError(_("This face is used by jobs and cannot be deleted.")) from None
        transaction.on_commit(lambda: objectstore.delete(key))


@transaction.atomic
def face_submit_to_gallery(*, face: ModelFace) -> ModelFace:
    """Offer a store face to the public gallery: it waits for staff review (private/rejected → pending)."""
    if face.store_id is None:
        raise ValidationError(_("Public gallery faces are curated by staff, not submitted."))
    if face.curation not in (ModelFace.Curation.PRIVATE, ModelFace.Curation.REJECTED):
        raise ValidationError(_("This face is already %(state)s.") % {"state": face.get_curation_display().lower()})
    face.curation = ModelFace.Curation.PENDING
    face.save(update_fields=["curation"])
    return face


CURATION_ACTIONS = {  # action -> (states it may start from, resulting state)
    "approve": ((ModelFace.Curation.PENDING,), ModelFace.Curation.APPROVED),
    "reject": ((ModelFace.Curation.PENDING,), ModelFace.Curation.REJECTED),
    "publish": ((ModelFace.Curation.APPROVED,), ModelFace.Curation.PUBLISHED),
}


def _publish_store_submission(face: ModelFace, curator: User) -> ModelFace:
    """A published store submission joins the gallery as a public copy; the store keeps its own face."""
    ext = face.image.rsplit(".", 1)[-1] if "." in face.image else "png"
    key = _face_key(None, ext)
    objectstore.put_bytes(key, objectstore.get_bytes(face.image))
    public = ModelFace(
        store=None, name=face.name, image=key, source=face.source, tags=face.tags,
        curation=ModelFace.Curation.PUBLISHED, consent_given_by=face.consent_given_by,
        consent_given_at=face.consent_given_at, consent_purpose=face.consent_purpose,
        generated_by_job=face.generated_by_job, curated_by=curator, curated_at=timezone.now(),
        created_by=face.created_by,
    )
    public.full_clean()
    public.save()
    return public


@transaction.atomic
def face_curate(*, face: ModelFace, action: str, curator: User) -> ModelFace:
    """Staff review: pending → approved | rejected, approved → published. Records who and when.

    Raises ValidationError on an unknown action or a transition the state machine forbids.
    """
    if action not in CURATION_ACTIONS:
        raise ValidationError(_("Unknown curation action “%(action)s”.") % {"action": action})
    sources, target = CURATION_ACTIONS[action]
    face = ModelFace.objects.select_for_update().get(pk=face.pk)
    if face.curation not in sources:
        raise ValidationError(
            _("Cannot %(action)s a face that is %(state)s.")
            % {"action": action, "state": face.get_curation_display().lower()}
        )
    face.curation, face.curated_by, face.curated_at = target, curator, timezone.now()
    face.save(update_fields=["curation", "curated_by", "curated_at"])
    if target == ModelFace.Curation.PUBLISHED and face.store_id is not None:
        _publish_store_submission(face, curator)
    return face


# ---- store options / store model ---------------------------------------------------------------


def store_options_get_or_create(*, store: Store) -> StoreOptions:
    options, _created = StoreOptions.objects.get_or_create(store=store)
    return options


@transaction.atomic
def store_options_update(*, store: Store, visible_ai_label: bool) -> StoreOptions:
    """Choose whether results carry a visible “AI 생성” mark (the invisible provenance record is always there)."""
    options = store_options_get_or_create(store=store)
    options.visible_ai_label = bool(visible_ai_label)
    options.full_clean()
    options.save(update_fields=["visible_ai_label"])
    return options


@transaction.atomic
def store_model_set(*, store: Store, face: ModelFace | None) -> StoreOptions:
    """Pick the store's model face (or clear it with None). It must be the store's own or a published public face."""
    if face is not None and usable_face(store, face.pk) is None:
        raise ValidationError({"face_id": _("Pick one of your own faces or a published gallery face.")})
    options = store_options_get_or_create(store=store)
    options.model_face = face
    options.save(update_fields=["model_face"])
    return options
