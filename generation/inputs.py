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
from generation.models import JobKind


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

PARAMS: dict[str, set[str]] = {
    JobKind.GENERATE_FACE: {"seed", "weights"},
    JobKind.SWAP: {"face_index", "face", "restore_strength"},
    JobKind.RESTORE: {"strength", "face_index", "face"},
    JobKind.MAKEUP: {"strength", "face_index", "face"},
    JobKind.PIPELINE: {"face_index", "face", "restore_strength", "makeup_strength"},
    JobKind.SECOND_GENERATION: {"sex", "weight_a"},
}


def _id(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise ValidationError({f"inputs.{field}": _("Expected the id of one of your objects.")})
    return int(value)


def _face_key(store: Store, value: Any, field: str) -> str:
    face = catalog.usable_face(store=store, face_id=_id(value, field))
    if face is None:
        raise ValidationError({f"inputs.{field}": _("No such face in your store or the public gallery.")})
    return face.image


def _shot_key(store: Store, value: Any, field: str) -> str:
    shots = catalog.store_product_shots(store=store).filter(pk=_id(value, field)).order_by()
    image = next(iter(shots.values_list("image", flat=True)[:1]), None)
    if image is None:
        raise ValidationError({f"inputs.{field}": _("No such product shot in your store.")})
    if not image:
        raise ValidationError({f"inputs.{field}": _("This product shot has not finished uploading.")})
    return image


def validate_params(kind: str, params: Any) -> dict:
    if not isinstance(params, dict):
        raise ValidationError({"params": _("Expected an object.")})
    unknown = sorted(set(params) - PARAMS[kind])
    if unknown:
        raise ValidationError(
            {
                "params": _("Unknown parameter(s) %(names)s for %(kind)s; allowed: %(allowed)s.")
                % {"names": ", ".join(unknown), "kind": kind, "allowed": ", ".join(sorted(PARAMS[kind]))}
            }
        )
    for name in ("restore_strength", "makeup_strength", "strength"):
        if name in params:
            value = params[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValidationError({f"params.{name}": _("Must be a number between 0 and 1.")})
    if "face_index" in params and (
        isinstance(params["face_index"], bool) or not isinstance(params["face_index"], int) or params["face_index"] < 0
    ):
        raise ValidationError({"params.face_index": _("Must be a whole number, 0 for the leftmost face.")})
    if "face" in params and params["face"] != "largest":
        raise ValidationError({"params.face": _("The only choice is 'largest'.")})
    if "sex" in params and params["sex"] not in ("girl", "boy", None):
        raise ValidationError({"params.sex": _("Choose 'girl', 'boy' or leave it empty.")})
    if "weight_a" in params and (
        isinstance(params["weight_a"], bool)
        or not isinstance(params["weight_a"], int | float)
        or not 0 <= params["weight_a"] <= 1
    ):
        raise ValidationError({"params.weight_a": _("Must be a number between 0 and 1 (the share of parent A).")})
    return params


def resolve(store: Store, kind: str, inputs: Any, params: dict) -> tuple[dict, dict]:
    """Check ``inputs`` against the kind's schema; return (storage keys by engine role, effective params)."""
    if not isinstance(inputs, dict):
        raise ValidationError({"inputs": _("Expected an object of references.")})
    schema = INPUTS[kind]
    unknown = sorted(set(inputs) - set(schema))
    if unknown:
        raise ValidationError(
            {"inputs": _("Unknown input(s) %(names)s for %(kind)s.") % {"names": ", ".join(unknown), "kind": kind}}
        )
    missing = [name for name, spec in schema.items() if spec.required and inputs.get(name) in (None, "")]
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
        keys["source"] = _face_key(store, inputs["face"], "face")
    if kind in (JobKind.SWAP, JobKind.RESTORE, JobKind.MAKEUP, JobKind.PIPELINE):
        keys["target"] = _shot_key(store, inputs["product_shot"], "product_shot")
    if kind in (JobKind.MAKEUP, JobKind.PIPELINE):
        reference = inputs.get("reference_face") or (preset.params.get("makeup_face_id") if preset else None)
        if reference not in (None, ""):
            keys["reference"] = _face_key(store, reference, "reference_face")
    if kind == JobKind.PIPELINE and preset is not None:
        params.setdefault("restore_strength", preset.params.get("restore_strength", 0.6))
        params.setdefault("makeup_strength", preset.params.get("makeup_strength", 0.5))
    if kind == JobKind.SECOND_GENERATION:
        keys["parent_a"] = _face_key(store, inputs["parent_a"], "parent_a")
        keys["parent_b"] = _face_key(store, inputs["parent_b"], "parent_b")
    if kind == JobKind.GENERATE_FACE:
        keys["contributors"] = _contributor_keys(store, inputs, preset)
    return keys, params


def _contributor_keys(store: Store, inputs: dict, preset) -> list[str]:
    if inputs.get("faces"):
        if not isinstance(inputs["faces"], list):
            raise ValidationError({"inputs.faces": _("Expected a list of face ids.")})
        keys = [_face_key(store, value, "faces") for value in inputs["faces"]]
    elif preset is not None:
        ids = preset.params.get("face_ids") or []
        keys = [_face_key(store, value, "preset.face_ids") for value in ids]
        if not keys:
            faces = catalog.usable_faces(store=store, tags=preset.params.get("face_tags") or None)
            keys = [face.image for face in faces[:5]]
    else:
        raise ValidationError({"inputs": _("Give a style preset or at least three face ids.")})
    if len(keys) < 3:
        raise ValidationError(
            {"inputs.faces": _("A new face blends at least three contributor faces; found %(n)d.") % {"n": len(keys)}}
        )
    return keys
