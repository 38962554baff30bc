"""Compose engines into job kinds: a spec's input images in, one labelled PNG out.

Each stage is ``(engine name, {engine input: spec input role or "previous"}, params builder)``; a role ending in
``?`` is passed only when the spec has it. A role ending in ``_asset`` is a prepared face asset
(``gpu_worker.face.asset``), loaded as such, not decoded as an image.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpu_worker import content_credentials, provenance
from gpu_worker.spec import (
    JOB_KINDS,
    OUTPUT_FORMATS,
    ParamError,
    output_format,
    param_default,
    source_type,
    validate_job_params,
)

ProgressCallback = Callable[[int], None]
PREVIOUS = "previous"


def _select(params: dict) -> dict:
    return {k: params[k] for k in ("face_index", "face") if k in params}


@dataclass(frozen=True)
class Stage:
    engine: str
    inputs: dict[str, str]
    params: Callable[[dict], dict]
    optional_role: str | None = None  # skip the stage when this spec input is absent


def _strength(kind: str, name: str) -> Callable[[dict], dict]:
    """Stage params: the face choice, and ``strength`` from the job's ``name`` (the spec's default when absent)."""
    return lambda p: {**_select(p), "strength": p.get(name, param_default(kind, name))}


PLANS: dict[str, list[Stage]] = {
    "swap": [
        Stage(
            "swap",
            {"source": "source", "source_asset": "source_asset?", "target": "target"},
            lambda p: {**_select(p), **({"restore": p["restore_strength"]} if "restore_strength" in p else {})},
        )
    ],
    "restore": [Stage("restore", {"image": "target"}, _strength("restore", "strength"))],
    "makeup": [Stage("makeup", {"target": "target", "reference": "reference"}, _strength("makeup", "strength"))],
    "pipeline": [
        Stage("swap", {"source": "source", "source_asset": "source_asset?", "target": "target"}, _select),
        Stage("restore", {"image": PREVIOUS}, _strength("pipeline", "restore_strength")),
        Stage(
            "makeup",
            {"target": PREVIOUS, "reference": "reference"},
            _strength("pipeline", "makeup_strength"),
            optional_role="reference",
        ),
    ],
    "generate_face": [
        Stage("generate", {"face_*": "contributors"},
              lambda p: {k: p[k] for k in ("seed", "weights", "backdrop") if k in p}),
        # A preset's makeup look on the new face (its reference face), when the job has one.
        Stage("makeup", {"target": PREVIOUS, "reference": "reference"},
              lambda p: {"strength": p.get("makeup_strength", param_default("generate_face", "makeup_strength"))},
              optional_role="reference"),
    ],
    "second_generation": [
        Stage(
            "second_generation",
            {"parent_a": "parent_a", "parent_b": "parent_b"},
            lambda p: {k: p[k] for k in ("sex", "weight_a", "age_band") if k in p},
        )
    ],
}
assert set(PLANS) == set(JOB_KINDS), "every job kind of gpu_worker.spec needs a plan"


def decode_image(data: bytes) -> np.ndarray:
    """RGB uint8 array from encoded bytes, EXIF orientation applied. FaceEngineError when unreadable."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from gpu_worker.face.errors import FaceEngineError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise FaceEngineError("unreadable_image", f"an input image cannot be decoded: {exc}") from exc


def _pick(capability: str):
    from gpu_worker.engines.selection import pick_engine

    return pick_engine(capability)


@dataclass
class PipelineResult:
    data: bytes  # the encoded, signed image
    mime: str  # image/png or image/jpeg: the spec's output format
    extension: str  # "png" | "jpg"
    metrics: dict[str, Any]


def run(spec: dict, read: Callable[[str], bytes], progress: ProgressCallback) -> PipelineResult:
    """Run the spec's plan; raises FaceEngineError for bad input, StorageError when storage fails."""
    started = time.perf_counter()
    _check_params(spec)
    images: dict[str, Any] = {}
    product_shot: bytes | None = None  # the C2PA ingredient of an edit
    for role, key in spec["inputs"].items():
        if role.endswith("_asset"):
            images[role] = _load_asset(read(key))
        elif isinstance(key, list):
            images[role] = [decode_image(read(k)) for k in key]
        else:
            data = read(key)
            images[role] = decode_image(data)
            if role == "target":
                product_shot = data
    progress(10)
    stages = [s for s in PLANS[spec["kind"]] if not (s.optional_role and s.optional_role not in images)]
    previous, stage_metrics, engines = None, [], []
    for index, stage in enumerate(stages, start=1):
        engine = _pick(stage.engine)
        inputs = _stage_inputs(stage, images, previous)
        result = engine.run(inputs, stage.params(spec["params"]))
        previous = result.image
        engines.append(f"{engine.NAME}:{engine.VERSION}")
        stage_metrics.append(_jsonable(result.metadata))
        progress(10 + round(80 * index / len(stages)))
    image = previous
    label = spec.get("label") or {}
    if label.get("visible"):
        image = provenance.add_visible_label(image, **{k: label[k] for k in ('text', 'position', 'size') if k in label})
    if label.get("watermark"):
        image = provenance.add_watermark(image)
    xmp = provenance.xmp_packet(
        source_type=source_type(spec["kind"]), job_id=spec["job_id"], engine=" → ".join(engines),
        engine_version=";".join(engines),
    )
    mime, extension = OUTPUT_FORMATS[output_format(spec)]
    data = content_credentials.sign(
        provenance.encode(image, xmp, mime), mime, kind=spec["kind"], job_id=spec["job_id"],
        agent=" → ".join(engines), source_type=source_type(spec["kind"]),
        ingredient=product_shot, ingredient_mime=content_credentials.image_mime(product_shot),
        consents=spec.get("consents") or None,
    )
    lifted = {
        name: next(m[name] for m in stage_metrics if name in m)
        for name in LIFTED_METRICS if any(name in m for m in stage_metrics)
    }
    metrics = {
        **lifted,
        "run_s": round(time.perf_counter() - started, 3),
        "engine": " → ".join(engines),
        "stages": stage_metrics,
        "output_size": [int(image.shape[1]), int(image.shape[0])],
    }
    return PipelineResult(data=data, mime=mime, extension=extension, metrics=metrics)


# Stage metadata the web tier reads directly (job metrics top level): the swap's catalogue consistency, the
# generated face's screening, descriptor and skipped contributors.
LIFTED_METRICS = ("consistency", "screening", "embedding", "skipped")


def _check_params(spec: dict) -> None:
    """The spec's params against gpu_worker.spec.JOB_PARAMS, the definition the web tier checked them with."""
    from gpu_worker.face.errors import FaceEngineError

    contributors = spec["inputs"].get("contributors")
    try:
        validate_job_params(spec["kind"], spec["params"], contributors=len(contributors) if contributors else None)
    except ParamError as exc:
        raise FaceEngineError("bad_parameter", str(exc)) from exc


def _load_asset(data: bytes):
    """A stored face asset; a stale or unreadable one is not fatal (the engine prepares the face from its photo)."""
    import logging

    from gpu_worker.face.asset import FaceAsset
    from gpu_worker.face.errors import FaceEngineError

    try:
        return FaceAsset.from_bytes(data)
    except FaceEngineError as exc:
        logging.getLogger(__name__).warning("ignoring the stored face asset: %s", exc.message)
        return None


def _stage_inputs(stage: Stage, images: dict[str, Any], previous: Any) -> dict[str, Any]:
    """Engine inputs for a stage; ``"face_*": role`` spreads a list of images as face_0, face_1, ..."""
    inputs: dict[str, Any] = {}
    for name, role in stage.inputs.items():
        if role.endswith("?"):
            role = role[:-1]
            if images.get(role) is None:
                continue
        value = previous if role == PREVIOUS else images[role]
        if name.endswith("*"):
            inputs.update({f"{name[:-1]}{i}": image for i, image in enumerate(value)})
        else:
            inputs[name] = value
    return inputs


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist() if value.size <= 64 else f"<array {value.shape}>"
    return value
