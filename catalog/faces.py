"""Writes for virtual model faces: uploads with a consent record, generated candidates kept, submission to the
public gallery and its curation by staff.

Keyword-only functions raising Django ``ValidationError`` on bad input (``ImageRejected`` for an unacceptable
image). Objects are written through ``core.objectstore`` only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store, User
from catalog.face_assets import request_face_asset
from catalog.images import clean_image
from catalog.models import ModelFace
from catalog.selectors import faces_kept_from_jobs, store_faces, store_presets
from catalog.tags import clean_tags
from core import objectstore

CONSENT_CLOCK_SKEW = timedelta(minutes=5)  # a client clock a little ahead is not a consent from the future


def _face_key(store: Store | None, ext: str) -> str:
    prefix = f"stores/{store.pk}/faces" if store is not None else "gallery/faces"
    return f"{prefix}/{uuid.uuid4().hex}.{ext}"


def face_upload(
    *, store: Store | None, created_by: User | None, file: BinaryIO, consent_given_by: str, consent_purpose: str,
    tags: list[str] | None = None, name: str = "", consent_given_at: datetime | None = None,
) -> ModelFace:
    """Store a photo of a real person as a face, with the consent attestation (who, for what, and when:
    ``consent_given_at``, now when not given).

    ``store=None`` adds a public gallery face, pending curation. Raises ValidationError without both
    consent fields or with a consent date in the future, ``ImageRejected`` for a bad image.
    """
    consent_given_by, consent_purpose = (consent_given_by or "").strip(), (consent_purpose or "").strip()
    now = timezone.now()
    missing = {}
    if not consent_given_by:
        missing["consent_given_by"] = _("Say who gave consent to use this face (the person's name).")
    if not consent_purpose:
        missing["consent_purpose"] = _("Say what the person consented to (e.g. “virtual model for our store photos”).")
    if consent_given_at is not None and consent_given_at > now + CONSENT_CLOCK_SKEW:
        missing["consent_given_at"] = _("The consent date cannot be in the future. Enter the day the person agreed.")
    if missing:
        raise ValidationError(missing)
    tags = clean_tags(tags)
    cleaned = clean_image(file)
    key = _face_key(store, cleaned.ext)
    objectstore.put_bytes(key, cleaned.data)
    try:
        with transaction.atomic():
            face = ModelFace(
                store=store, name=name.strip(), image=key, source=ModelFace.Source.UPLOADED, tags=tags,
                curation=ModelFace.Curation.PRIVATE if store is not None else ModelFace.Curation.PENDING,
                consent_given_by=consent_given_by, consent_purpose=consent_purpose,
                consent_given_at=consent_given_at or now, created_by=created_by,
            )
            face.full_clean()
            face.save()
            request_face_asset(face=face)
    except Exception:
        objectstore.delete(key)
        raise
    return face


def _next_face_name(store: Store, base: str) -> str:
    """``"<base> <n>"`` with n one more than the highest number the store's faces already use after ``base``."""
    prefix = f"{base} "
    names = store_faces(store=store).filter(name__startswith=prefix).values_list("name", flat=True)
    used = [name.removeprefix(prefix) for name in names]
    return f"{prefix}{max((int(n) for n in used if n.isdigit()), default=0) + 1}"


def face_keep_generated(
    *, store: Store, job_id: uuid.UUID, image_key: str, created_by: User | None, preset_id: int | None = None,
    screening: dict | None = None,
) -> ModelFace:
    """Keep a generated candidate (the output ``image_key`` of generate_face job ``job_id``) as a store face.

    The image is copied to the face's own key, so deleting the job's output never breaks the face. A
    generated face is nobody's likeness, so it needs no consent attestation. Name and tags come from the
    style preset when it still exists ("우아한 3", its ``face_tags``). ``screening``: the candidate's "not a real
    person" screening, kept with the face for the curator. Keeping the same job again returns the face kept the
    first time. Raises ValidationError when the candidate's image is no longer stored.
    The caller checks that the job is the store's own succeeded generate_face job.
    """
    kept = faces_kept_from_jobs(store=store, job_ids=[job_id]).first()
    if kept is not None:
        return kept
    if not image_key or not objectstore.exists(image_key):
        raise ValidationError(_("This candidate's image is no longer stored. Generate new candidates."))
    preset = store_presets(store=store).filter(pk=preset_id).first() if preset_id else None
    tags = clean_tags(preset.params.get("face_tags") or []) if preset else []
    base = preset.name if preset else _("Generated face")
    ext = image_key.rsplit(".", 1)[-1] if "." in image_key.rsplit("/", 1)[-1] else "png"
    key = objectstore.copy(image_key, _face_key(store, ext))
    try:
        with transaction.atomic():
            face = ModelFace(
                store=store, name=_next_face_name(store, base), image=key, source=ModelFace.Source.GENERATED,
                tags=tags, curation=ModelFace.Curation.PRIVATE, generated_by_job=job_id, created_by=created_by,
                screening=screening or {},
            )
            face.full_clean()
            face.save()
            request_face_asset(face=face)
    except (IntegrityError, ValidationError):
        objectstore.delete(key)
        kept = faces_kept_from_jobs(store=store, job_ids=[job_id]).first()  # a concurrent keep of the same job won
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
        face.tags = clean_tags(tags)
    face.full_clean()
    face.save()
    return face


def face_delete(*, face: ModelFace) -> None:
    """Delete a store face, its image and its asset. Raises ValidationError when jobs still reference it."""
    keys = [key for key in (face.image, face.asset_key) if key]
    with transaction.atomic():
        try:
            face.delete()  # StoreOptions.model_face is SET_NULL: the store model is cleared
        except ProtectedError:
            raise ValidationError(_("This face is used by jobs and cannot be deleted.")) from None
        transaction.on_commit(lambda: [objectstore.delete(key) for key in keys])


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
    "approve_publish": ((ModelFace.Curation.PENDING,), ModelFace.Curation.PUBLISHED),
}
# Actions made of others, run in order in one transaction: the face passes through every state of the two-step
# review, so what is recorded (who, when, the public copy of a store submission) is what the two steps record.
CURATION_STEPS = {"approve_publish": ("approve", "publish")}


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
        created_by=face.created_by, screening=face.screening,
    )
    public.full_clean()
    public.save()
    request_face_asset(face=public)
    return public


@transaction.atomic
def face_curate(*, face: ModelFace, action: str, curator: User) -> ModelFace:
    """Staff review: pending → approved | rejected, approved → published, or pending → published in one step
    (``approve_publish``: approve, then publish). Records who and when.

    Raises ValidationError on an unknown action or a transition the state machine forbids; a refused step of
    ``approve_publish`` leaves the face as it was.
    """
    if action not in CURATION_ACTIONS:
        raise ValidationError(_("Unknown curation action “%(action)s”.") % {"action": action})
    sources, _target = CURATION_ACTIONS[action]
    face = ModelFace.objects.select_for_update().get(pk=face.pk)
    if face.curation not in sources:
        raise ValidationError(
            _("Cannot %(action)s a face that is %(state)s.")
            % {"action": action, "state": face.get_curation_display().lower()}
        )
    for step in CURATION_STEPS.get(action, (action,)):
        face = _curation_step(face, step, curator)
    return face


def _curation_step(face: ModelFace, action: str, curator: User) -> ModelFace:
    """One transition of the locked ``face``, already checked to be allowed."""
    target = CURATION_ACTIONS[action][1]
    face.curation, face.curated_by, face.curated_at = target, curator, timezone.now()
    face.save(update_fields=["curation", "curated_by", "curated_at"])
    if target == ModelFace.Curation.PUBLISHED and face.store_id is not None:
        _publish_store_submission(face, curator)
    return face


def faces_curate(*, faces: Iterable[ModelFace], action: str, curator: User) -> tuple[int, list[tuple[ModelFace, str]]]:
    """``face_curate`` for each face (the admin's actions and the dashboard's bulk form): each face on its own, a
    refused one does not stop the others. Returns (how many changed, [(face, why it was refused), ...])."""
    done, refused = 0, []
    for face in faces:
        try:
            face_curate(face=face, action=action, curator=curator)
            done += 1
        except ValidationError as exc:
            refused.append((face, " ".join(exc.messages)))
    return done, refused
