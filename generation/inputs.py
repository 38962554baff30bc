"""What each job kind takes, and resolving the caller's references into storage keys.

References are ids of the store's own objects (or published gallery faces); anything else is
reported as a 400 naming the field, never as a 500 or a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import Store
from catalog import selectors as catalog
from catalog.face_assets import face_asset_is_usable
from catalog.face_checks import contributor_refusal
from catalog.models import ModelFace
from generation import selectors
from generation.models import JobKind
from gpu_worker import spec


@dataclass(frozen=True)
class InputField:
    kind: str  # "face", "shot", "preset", "faces"
    required: bool = True


INPUTS: dict[str, dict[str, InputField]] = {
    JobKind.GENERATE_FACE: {
        "preset": InputField("preset", False),
        "faces": InputField("faces", False),
        "reference_face": InputField("face", False),
    },
    JobKind.SWAP: {"face": InputField("face"), "product_shot": InputField("shot")},
    JobKind.RESTORE: {"product_shot": InputField("shot")},
    JobKind.MAKEUP: {"product_shot": InputField("shot"), "reference_face": InputField("face")},
    JobKind.PIPELINE: {
        "face": InputField("face"),
        "product_shot": InputField("shot"),
        "preset": InputField("preset", False),
        "reference_face": InputField("face", False),
    },
    # Each parent either as a gallery face (``parent_a``, with ``consent.parent_a``) or as a photo uploaded with
    # its consent record (``parent_a_photo``: a ParentPhoto id, POST /api/v1/parent-photos/); exactly one of each.
    JobKind.SECOND_GENERATION: {
        "parent_a": InputField("face", False),
        "parent_b": InputField("face", False),
        "parent_a_photo": InputField("parent_photo", False),
        "parent_b_photo": InputField("parent_photo", False),
    },
}
PARENT_ROLES = ("parent_a", "parent_b")

# Parameter names, types, ranges and defaults are defined once, in gpu_worker/spec.py (the worker checks the
# same definition); only the translated messages live here.
PARAMS: dict[str, set[str]] = {kind: set(params) for kind, params in spec.JOB_PARAMS.items()}


def _id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationError({f"inputs.{field}": _("Expected the id of one of your objects.")})
    return int(value)


def _face(store: Store, value: Any, field: str) -> ModelFace:
    face = catalog.usable_face(store=store, face_id=_id(value, field))
    if face is None:
        raise ValidationError({f"inputs.{field}": _("No such face in your store or the public gallery.")})
    return face


def _face_key(store: Store, value: Any, field: str) -> str:
    return _face(store, value, field).image


def _source_keys(store: Store, value: Any) -> dict[str, str]:
    """The swapped-in face: ``source`` (its image) and, once prepared in the current format, ``source_asset``.

    A face still being prepared (or whose preparation failed) is no reason to refuse or hold the job: without
    ``source_asset`` the worker analyses the image itself.
    """
    face = _face(store, value, "face")
    keys = {"source": face.image}
    if face_asset_is_usable(face):
        keys["source_asset"] = face.asset_key
    return keys


def _shot_key(store: Store, value: Any, field: str) -> str:
    shots = catalog.store_product_shots(store=store).filter(pk=_id(value, field)).order_by()
    image = next(iter(shots.values_list("image", flat=True)[:1]), None)
    if image is None:
        raise ValidationError({f"inputs.{field}": _("No such product shot in your store.")})
    if not image:
        raise ValidationError({f"inputs.{field}": _("This product shot has not finished uploading.")})
    return image


def validate_params(kind: str, params: Any, *, contributors: int | None = None) -> dict:
    """``params`` checked against gpu_worker.spec.JOB_PARAMS; a ValidationError naming the parameter otherwise."""
    try:
        return spec.validate_job_params(kind, params, contributors=contributors)
    except spec.ParamError as exc:
        raise ValidationError({f"params.{exc.name}" if exc.name else "params": _param_message(kind, exc)}) from None


def _param_message(kind: str, exc: spec.ParamError) -> str:
    if exc.code == "not_object":
        return _("Expected an object.")
    if exc.code == "unknown":
        return _("Unknown parameter(s) %(names)s for %(kind)s; allowed: %(allowed)s.") % {
            "names": ", ".join(exc.names), "kind": kind, "allowed": ", ".join(sorted(PARAMS[kind]))}
    if exc.code == "count":
        return _("Give one weight per contributor face, in the same order.")
    if exc.code == "conflict":
        return _("Give face_index or face, not both.")
    param = spec.JOB_PARAMS[kind][exc.name]
    if param.type == "choice":
        names = ", ".join(f"'{choice}'" for choice in param.choices if choice is not None)
        if None in param.choices:
            return _("Choose one of %(choices)s, or leave it empty.") % {"choices": names}
        return _("Choose one of %(choices)s.") % {"choices": names}
    if param.type == "weights":
        return _("Must be a list of %(min)d to %(max)d numbers of at least 0, one per contributor face, not all 0.") % {
            "min": spec.MIN_CONTRIBUTORS, "max": spec.MAX_CONTRIBUTORS}
    bounds = {"min": param.minimum, "max": param.maximum}
    if param.type == "integer":
        return _("Must be a whole number from %(min)s to %(max)s.") % bounds
    return _("Must be a number from %(min)s to %(max)s.") % bounds


def resolve(store: Store, kind: str, inputs: Any, params: dict, consent: dict | None = None) -> tuple[dict, dict]:
    """Check ``inputs`` against the kind's schema; return (storage keys by engine role, effective params).

    ``consent`` (second_generation with gallery-face parents): ``{"parent_a": True, "parent_b": True}``, the
    caller's attestation that the person in each parent photo agreed; an uploaded parent photo (``parent_a_photo``)
    carries its own consent record (generation/parents.py) and needs none here.
    """
    if not isinstance(inputs, dict):
        raise ValidationError({"inputs": _("Expected an object of references.")})
    schema = INPUTS[kind]
    unknown = sorted(set(inputs) - set(schema))
    if unknown:
        raise ValidationError(
            {"inputs": _("Unknown input(s) %(names)s for %(kind)s.") % {"names": ", ".join(unknown), "kind": kind}}
        )
    missing = [name for name, field in schema.items() if field.required and inputs.get(name) in (None, "")]
    if missing:
        raise ValidationError({f"inputs.{name}": _("This input is required.") for name in missing})
    params = dict(params)
    keys: dict[str, Any] = {}
    preset = None
    if inputs.get("preset") not in (None, ""):
        preset = catalog.store_presets(store=store).filter(pk=_id(inputs["preset"], "preset")).first()
        if preset is None:
            raise ValidationError({"inputs.preset": _("No such style preset in your store.")})

    if kind in (JobKind.SWAP, JobKind.PIPELINE):
        keys.update(_source_keys(store, inputs["face"]))
    if kind in (JobKind.SWAP, JobKind.RESTORE, JobKind.MAKEUP, JobKind.PIPELINE):
        keys["target"] = _shot_key(store, inputs["product_shot"], "product_shot")
    if kind in (JobKind.MAKEUP, JobKind.PIPELINE, JobKind.GENERATE_FACE):
        reference = inputs.get("reference_face") or (preset.params.get("makeup_face_id") if preset else None)
        if reference not in (None, ""):
            keys["reference"] = _face_key(store, reference, "reference_face")
    if kind in (JobKind.PIPELINE, JobKind.GENERATE_FACE) and preset is not None:
        for name in ("restore_strength", "makeup_strength"):
            if name in PARAMS[kind] and preset.params.get(name) is not None:
                params.setdefault(name, preset.params[name])
    if kind == JobKind.SECOND_GENERATION:
        keys.update(_parent_keys(store, inputs, consent or {}))
    if kind == JobKind.GENERATE_FACE:
        keys["contributors"] = _contributor_keys(store, inputs, preset)
        if preset is not None:
            style = next((t for t in preset.params.get("face_tags") or () if t in spec.BACKDROP_STYLES), None)
            if style is not None:
                params.setdefault("backdrop", style)
    # What goes to the worker passes the worker's own check (a preset's values included).
    return keys, validate_params(kind, params, contributors=len(keys.get("contributors") or []) or None)


def _parent_photo_key(store: Store, value: Any, field: str) -> str:
    photo = selectors.store_parent_photos(store=store).filter(pk=_id(value, field)).first()
    if photo is None:
        raise ValidationError({f"inputs.{field}": _("No such parent photo in your store. Upload it first.")})
    return photo.image


def _parent_keys(store: Store, inputs: dict, consent: dict) -> dict[str, str]:
    """Each parent's image: an uploaded parent photo (its consent is on record) or a gallery face, which needs the
    caller's ``consent.<role> = true``. Exactly one of ``<role>`` and ``<role>_photo`` per parent."""
    given = {role: [name for name in (role, f"{role}_photo") if inputs.get(name) not in (None, "")]
             for role in PARENT_ROLES}
    problems = {}
    for role, names in given.items():
        if not names:
            problems[f"inputs.{role}"] = _("This input is required: give %(role)s_photo (an uploaded parent photo) "
                                           "or %(role)s (a gallery face).") % {"role": role}
        elif len(names) > 1:
            problems[f"inputs.{role}"] = _("Give %(role)s_photo or %(role)s, not both.") % {"role": role}
    if problems:
        raise ValidationError(problems)
    chosen = {role: (names[0], _id(inputs[names[0]], names[0])) for role, names in given.items()}
    if chosen["parent_a"][0].endswith("_photo") == chosen["parent_b"][0].endswith("_photo") and \
            chosen["parent_a"][1] == chosen["parent_b"][1]:
        raise ValidationError({"inputs.parent_b": _("Choose two different photos.")})
    missing = [role for role, (name, _pk) in chosen.items() if name == role and consent.get(role) is not True]
    if missing:
        message = _("Confirm that the person in this photo agreed to this use of their face: send "
                    "consent.%(role)s = true. Without consent we cannot use the photo.")
        raise ValidationError({f"consent.{role}": message % {"role": role} for role in missing})
    return {role: _parent_photo_key(store, inputs[name], name) if name.endswith("_photo")
            else _face_key(store, inputs[name], name) for role, (name, _pk) in chosen.items()}


def _contributor_key(store: Store, value: Any, field: str) -> str:
    """An explicitly listed contributor's image; a face the checks refused is a 400 naming it and the reason."""
    face = _face(store, value, field)
    refusal = contributor_refusal(face)
    if refusal:
        raise ValidationError({f"inputs.{field}": refusal})
    return face.image


def _contributor_keys(store: Store, inputs: dict, preset) -> list[str]:
    if inputs.get("faces"):
        if not isinstance(inputs["faces"], list):
            raise ValidationError({"inputs.faces": _("Expected a list of face ids.")})
        _check_contributor_count(len(inputs["faces"]), "inputs.faces")
        keys = [_contributor_key(store, value, "faces") for value in inputs["faces"]]
    elif preset is not None:
        ids = preset.params.get("face_ids") or []
        _check_contributor_count(len(ids), "inputs.preset")
        keys = [_contributor_key(store, value, "preset.face_ids") for value in ids]
        if not keys:
            faces = catalog.contributor_faces(store=store, tags=preset.params.get("face_tags") or None)
            keys = [face.image for face in faces[:5]]
    else:
        raise ValidationError({"inputs": _("Give a style preset or at least three face ids.")})
    if len(keys) < spec.MIN_CONTRIBUTORS:
        raise ValidationError(
            {"inputs.faces": _("A new face blends at least three contributor faces; found %(n)d.") % {"n": len(keys)}}
        )
    return keys


def _check_contributor_count(count: int, field: str) -> None:
    if count > spec.MAX_CONTRIBUTORS:
        raise ValidationError({field: _("A new face blends at most %(max)d contributor faces; found %(n)d.")
                               % {"max": spec.MAX_CONTRIBUTORS, "n": count}})
