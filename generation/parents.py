"""Writes for second generation's parent photos: uploaded on the second-generation page (or through the API) with
a consent record each, stored privately for the store, never added to a gallery.

Keyword-only functions raising Django ``ValidationError`` on a missing consent field (``ImageRejected`` for an
unacceptable image). Objects are written through ``core.objectstore`` only.
"""

from __future__ import annotations

import uuid
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Store, User
from catalog import selectors as catalog
from catalog.images import ImageRejected, clean_image
from catalog.models import ModelFace
from core import objectstore
from generation import services
from generation.models import Job, JobKind, ParentPhoto


def _consent(consent_given_by: str, consent_purpose: str, relation: str) -> dict:
    """The three consent fields, stripped; ValidationError naming each missing or invalid one."""
    fields = {"consent_given_by": (consent_given_by or "").strip(), "consent_purpose": (consent_purpose or "").strip(),
              "relation": relation or ParentPhoto.Relation.PARENT}
    problems = {}
    if not fields["consent_given_by"]:
        problems["consent_given_by"] = _("Say who confirmed that this parent agreed (your name or theirs).")
    if not fields["consent_purpose"]:
        problems["consent_purpose"] = _("Say what the parent agreed to (e.g. “a child portrait for our store”).")
    if fields["relation"] not in ParentPhoto.Relation.values:
        problems["relation"] = _("Choose mother, father or parent.")
    if problems:
        raise ValidationError(problems)
    return fields


def _save(store: Store, key: str, created_by: User | None, fields: dict) -> ParentPhoto:
    photo = ParentPhoto(store=store, image=key, consent_given_at=timezone.now(),
                        created_by=created_by if created_by and created_by.is_authenticated else None, **fields)
    photo.full_clean()
    photo.save()
    return photo


def parent_photo_upload(
    *, store: Store, created_by: User | None, file: BinaryIO, consent_given_by: str, consent_purpose: str,
    relation: str = ParentPhoto.Relation.PARENT,
) -> ParentPhoto:
    """Store a parent's photo with the consent attestation: who confirmed it, how the parent is called
    (``relation``: mother, father or parent), for what, and when (now).

    Raises ValidationError naming each missing consent field, ``ImageRejected`` for a bad image.
    """
    fields = _consent(consent_given_by, consent_purpose, relation)
    cleaned = clean_image(file)
    key = f"stores/{store.pk}/parents/{uuid.uuid4().hex}.{cleaned.ext}"
    objectstore.put_bytes(key, cleaned.data)
    try:
        with transaction.atomic():
            return _save(store, key, created_by, fields)
    except Exception:
        objectstore.delete(key)
        raise


def parent_photo_from_face(
    *, store: Store, created_by: User | None, face: ModelFace, consent_given_by: str, consent_purpose: str,
    relation: str = ParentPhoto.Relation.PARENT,
) -> ParentPhoto:
    """A gallery face used as a parent, recorded like an upload (its own copy of the image, the consent record).

    The caller checks that the store may use ``face``. Raises ValidationError as ``parent_photo_upload``.
    """
    fields = _consent(consent_given_by, consent_purpose, relation)
    ext = face.image.rsplit(".", 1)[-1] if "." in face.image.rsplit("/", 1)[-1] else "png"
    key = objectstore.copy(face.image, f"stores/{store.pk}/parents/{uuid.uuid4().hex}.{ext}")
    try:
        with transaction.atomic():
            return _save(store, key, created_by, fields)
    except Exception:
        objectstore.delete(key)
        raise


def second_generation_create(
    *, store: Store, created_by: User | None, parents: dict[str, dict], params: dict,
) -> Job:
    """The second-generation page's request: record both parents (an uploaded ``file`` or a gallery ``face_id``,
    with ``relation``, ``consent_given_by``, ``consent_purpose``) and queue the job with them as its inputs.

    All or nothing: a refused parent, a bad parameter or a billing refusal stores no record and leaves no object.
    Raises ValidationError keyed ``<role>_photo`` (image refused) or ``<role>`` (face not usable), the job's own
    errors (``inputs.*``, ``params.*``), or billing's refusals.
    """
    written: list[str] = []
    try:
        with transaction.atomic():
            photos = {}
            for role, parent in parents.items():
                photos[role] = _parent_photo(store, created_by, role, parent)
                written.append(photos[role].image)
            created = services.job_create(
                store=store, kind=JobKind.SECOND_GENERATION, created_by=created_by, params=params,
                inputs={f"{role}_photo": photo.pk for role, photo in photos.items()},
            )
    except Exception:
        for key in written:
            objectstore.delete(key)
        raise
    return created.job


def _parent_photo(store: Store, created_by: User | None, role: str, parent: dict) -> ParentPhoto:
    consent = {name: parent.get(name) or "" for name in ("consent_given_by", "consent_purpose", "relation")}
    if parent.get("file") is not None:
        try:
            return parent_photo_upload(store=store, created_by=created_by, file=parent["file"], **consent)
        except ImageRejected as exc:
            raise ValidationError({f"{role}_photo": exc.message}) from None
    face = catalog.usable_face(store=store, face_id=parent.get("face_id"))
    if face is None:
        raise ValidationError({role: _("No such face in your store or the public gallery.")})
    return parent_photo_from_face(store=store, created_by=created_by, face=face, **consent)
