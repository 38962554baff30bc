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
from catalog.models import ModelFace
from generation.models import JobKind
from gpu_worker import spec


@dataclass(frozen=True)
class InputField:
    kind: str  # "face", "shot", "preset", "faces"
    required: bool = True


INPUTS: dict[str, dict[str, InputField]] = {
    JobKind.GENERATE_FACE: {"preset": InputField("preset", False), "faces": InputField("faces", False)},
    JobKind.SWAP: {"face": InputField("face"), "product_shot": InputField("shot")},
    JobKind.RESTORE: {"product_shot": InputField("shot")},
    JobKind.MAKEUP: {"product_shot": InputField("shot"), "reference_face": InputField("face")},
    JobKind.PIPELINE: {
        "face": InputField("face"),
        "product_shot": InputField("shot"),
        "preset": InputField("preset", False),
        "reference_face": InputField("face", False),
    },
    JobKind.SECOND_GENERATION: {"parent_a": InputField("face"), "parent_b": InputField("face")},
}

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

    ``consent`` (second_generation only): ``{"parent_a": True, "parent_b": True}``, the caller's attestation that
    the person in each parent photo agreed, as the dashboard asks for it.
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
    if kind in (JobKind.MAKEUP, JobKind.PIPELINE):
        reference = inputs.get("reference_face") or (preset.params.get("makeup_face_id") if preset else None)
        if reference not in (None, ""):
            keys["reference"] = _face_key(store, reference, "reference_face")
    if kind == JobKind.PIPELINE and preset is not None:
        for name in ("restore_strength", "makeup_strength"):
            if preset.params.get(name) is not None:
                params.setdefault(name, preset.params[name])
    if kind == JobKind.SECOND_GENERATION:
        keys.update(_parent_keys(store, inputs, consent or {}))
    if kind == JobKind.GENERATE_FACE:
        keys["contributors"] = _contributor_keys(store, inputs, preset)
    # What goes to the worker passes the worker's own check (a preset's values included).
    return keys, validate_params(kind, params, contributors=len(keys.get("contributors") or []) or None)


def _parent_keys(store: Store, inputs: dict, consent: dict) -> dict[str, str]:
    if _id(inputs["parent_a"], "parent_a") == _id(inputs["parent_b"], "parent_b"):
        raise ValidationError({"inputs.parent_b": _("Choose two different photos.")})
    missing = [role for role in ("parent_a", "parent_b") if consent.get(role) is not True]
    if missing:
        message = _("Confirm that the person in this photo agreed to this use of their face: send "
                    "consent.%(role)s = true. Without consent we cannot use the photo.")
        raise ValidationError({f"consent.{role}": message % {"role": role} for role in missing})
    return {role: _face_key(store, inputs[role], role) for role in ("parent_a", "parent_b")}


def _contributor_keys(store: Store, inputs: dict, preset) -> list[str]:
    if inputs.get("faces"):
        if not isinstance(inputs["faces"], list):
            raise ValidationError({"inputs.faces": _("Expected a list of face ids.")})
        _check_contributor_count(len(inputs["faces"]), "inputs.faces")
        keys = [_face_key(store, value, "faces") for value in inputs["faces"]]
    elif preset is not None:
        ids = preset.params.get("face_ids") or []
        _check_contributor_count(len(ids), "inputs.preset")
        keys = [_face_key(store, value, "preset.face_ids") for value in ids]
        if not keys:
            faces = catalog.usable_faces(store=store, tags=preset.params.get("face_tags") or None)
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
