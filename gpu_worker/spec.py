"""The contract between the web tier and the GPU fleet: queues, job specs and events.

Plain Python only (no torch, no Django): both sides import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

QUEUE_GPU = "gpu"  # gpu_worker consumes; one job spec per message
QUEUE_EVENTS = "events"  # events worker (Django side) consumes job events
QUEUE_DEFAULT = "default"  # everything else on the Django side (billing, outbox relay)
# Outgoing webhook deliveries (Django side only), on their own worker: customer endpoints never delay events.
QUEUE_WEBHOOKS = "webhooks"
QUEUES = (QUEUE_GPU, QUEUE_EVENTS, QUEUE_DEFAULT, QUEUE_WEBHOOKS)


def broker_transport_options(broker_url: str, var_dir: str, key_prefix: str = "", visibility_timeout: int = 0) -> dict:
    """Transport options both sides must agree on.

    The embedded ``filesystem://`` broker exchanges messages through folders under
    ``var_dir``; it needs no server process, which is what ``make run`` relies on. On Redis,
    ``key_prefix`` isolates one deployment (or one test run) from others on the same server,
    and ``visibility_timeout`` is how long an unacknowledged message waits before another
    worker gets it (it must exceed the longest job).
    """
    if broker_url.startswith("filesystem://"):
        folder = f"{var_dir}/broker"
        return {
            "data_folder_in": f"{folder}/messages",
            "data_folder_out": f"{folder}/messages",
            "control_folder": f"{folder}/control",
            "processed_folder": f"{folder}/processed",
            "store_processed": False,
        }
    options: dict = {"socket_connect_timeout": 3, "socket_timeout": 10}
    if key_prefix:
        options["global_keyprefix"] = key_prefix
    if visibility_timeout:
        options["visibility_timeout"] = visibility_timeout
    return options


# ---- task names (the only coupling between the two Celery apps) -------------------------------
TASK_RUN_JOB = "gpu_worker.run_job"  # args: [JobSpec dict]
TASK_DETECT_FACES = "gpu_worker.detect_faces"  # args: [DetectFacesSpec dict]
# args: [{"face_id": str, "image": storage key, "asset_key": storage key}], on QUEUE_GPU like detect_faces; answered
# by a ``face_asset_prepared`` event (subject = the face id).
TASK_PREPARE_FACE_ASSET = "gpu_worker.prepare_face_asset"
TASK_APPLY_EVENT = "generation.apply_event"  # args: [Event dict], on QUEUE_EVENTS

JOB_KINDS = ("generate_face", "swap", "restore", "makeup", "pipeline", "second_generation")
# "heartbeat": sent every GASANG_HEARTBEAT_SECONDS while a job runs; it renews the job's lease (generation/leases.py)
EVENT_TYPES = ("started", "progress", "heartbeat", "succeeded", "failed", "faces_detected", "face_asset_prepared")

# The face asset format the web tier asks for and uses (a job's ``source_asset`` input). The worker refuses to
# prepare an asset when its gpu_worker.face.asset.ASSET_VERSION differs, so a key named ``asset-v<N>`` always
# holds version N. Raise both together. 2: the summary carries the photo's descriptor (``embedding``, screening of
# generated faces) and ``contributor_problems``; `manage.py prepare_face_assets` re-prepares version-1 faces.
FACE_ASSET_VERSION = 2

# DigitalSourceType values (IPTC NewsCodes) written into every output's XMP.
SOURCE_TYPE_GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SOURCE_TYPE_COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
GENERATED_KINDS = frozenset({"generate_face", "second_generation"})  # wholly new faces; the others edit a photo

# The visible AI mark (job spec "label": {"visible", "watermark", "text", "position", "size"}). The texts all say
# "made with AI" (a store cannot word it away); "small" is the legal minimum Korean stores cannot switch off
# (AI Basic Act, Art. 31(3): realistic synthetic images leaving the service are clearly marked): 3.5 % of the
# image's short side, at least 12 px.
LABEL_TEXTS = {"ai": ("AI 생성", "AI-generated"), "ai_image": ("AI로 만든 이미지", "AI-generated image"),
               "virtual_model": ("AI 가상 모델", "AI virtual model")}
LABEL_POSITIONS = ("bottom-right", "bottom-left", "top-right", "top-left")
LABEL_SIZES = {"small": 0.035, "medium": 0.05, "large": 0.07}
assert GENERATED_KINDS.issubset(JOB_KINDS)

# The result's file format (job spec "output": {"format": ...}), a store option: PNG keeps every pixel; JPEG is
# what most shop platforms (Naver smart store, Coupang) take and resize anyway, at a quality that leaves no visible
# block edges on skin at 100 % zoom.
OUTPUT_FORMATS = {"png": ("image/png", "png"), "jpeg": ("image/jpeg", "jpg")}
DEFAULT_OUTPUT_FORMAT = "png"
JPEG_QUALITY = 92


def source_type(kind: str) -> str:
    """The DigitalSourceType of a ``kind`` job's output."""
    return SOURCE_TYPE_GENERATED if kind in GENERATED_KINDS else SOURCE_TYPE_COMPOSITE


class SpecError(ValueError):
    """A job spec or event that does not follow the contract."""


def _require(payload: dict, fields: dict[str, type | tuple[type, ...]], what: str) -> None:
    if not isinstance(payload, dict):
        raise SpecError(f"{what} must be an object")
    for name, kind in fields.items():
        if name not in payload:
            raise SpecError(f"{what} lacks {name!r}")
        if not isinstance(payload[name], kind):
            raise SpecError(f"{what}.{name} has the wrong type")


def validate_job_spec(spec: dict) -> dict:
    """A JobSpec is self-contained: the worker needs nothing but it and object storage.

    ``{"job_id": str, "store_id": int, "kind": one of JOB_KINDS, "attempt_limit": int,
       "inputs": {role: storage key}, "params": {...}, "output_prefix": str,
       "label": {"visible": bool}}``, optionally ``"output": {"format": "png" | "jpeg"}`` (OUTPUT_FORMATS, PNG
    when absent), ``"attempts_before": int`` (starts the database has seen) and
    ``"consents": [{"role": input role, "attested_by": "store" | "gallery", "attested_at": ISO time,
    "record": sha256 of the consent record}]`` (the real people whose photos the job uses; no personal data).
    Input roles: ``source`` (face), ``target`` (product shot),
    ``reference`` (makeup), ``parent_a``/``parent_b``, ``contributors`` (list of keys); a role ending in
    ``_asset`` is a prepared face asset, not an image (``source_asset``: the ``source`` face's, of
    FACE_ASSET_VERSION, given only when it is ready; the worker prepares the face itself otherwise).
    """
    _require(spec, {"job_id": str, "store_id": int, "kind": str, "inputs": dict, "params": dict,
                    "output_prefix": str, "attempt_limit": int}, "job spec")
    if spec["kind"] not in JOB_KINDS:
        raise SpecError(f"unknown job kind {spec['kind']!r}")
    if output_format(spec) not in OUTPUT_FORMATS:
        raise SpecError(f"unknown output format {output_format(spec)!r}")
    return spec


def output_format(spec: dict) -> str:
    """The spec's result format (``png`` for a spec from before formats were a choice)."""
    output = spec.get("output")
    return output.get("format", DEFAULT_OUTPUT_FORMAT) if isinstance(output, dict) else DEFAULT_OUTPUT_FORMAT


def event_id(event_type: str, subject: str, attempt: int, *, number: int | None = None) -> str:
    """The id the web tier applies an event once by: ``<subject>:<attempt>:<type>``, plus ``:<number>`` where one
    attempt sends several events of the type (``progress``: the percentage; ``heartbeat``: the beat's count)."""
    base = f"{subject}:{attempt}:{event_type}"
    return base if number is None else f"{base}:{number}"


def validate_event(event: dict) -> dict:
    """``{"event_id": str, "type": one of EVENT_TYPES, "subject": job id or shot id (str), "at": float,
    "attempt": int, ...}`` plus ``progress`` (int), ``outputs`` (dict), ``metrics`` (dict),
    ``error`` ({"code", "message", "input"?: the role of the input at fault}) or ``faces`` (list of
    {"box": [x, y, w, h], "score"}) by type;
    ``face_asset_prepared`` (subject: the face id) carries ``asset`` ({"key", "version": int, "summary": {...}})
    or ``error``."""
    _require(event, {"event_id": str, "type": str, "subject": str, "at": (int, float)}, "event")
    if event["type"] not in EVENT_TYPES:
        raise SpecError(f"unknown event type {event['type']!r}")
    return event


# ---- job parameters: names, types, ranges and defaults per kind --------------------------------
# The one definition both tiers use: the web tier refuses a request that breaks it (400, generation/inputs.py)
# and the worker re-checks every spec against it before running (gpu_worker/pipelines.py). README "Job
# parameters" lists the same table (tests/generation/test_job_params.py keeps the two in step).

MAX_FACE_INDEX = 99  # product shots with more faces than this are not a use case
MAX_SEED = 2**31 - 1
# dlib-descriptor distance a generated face must keep from every real face: its contributors (the engine) and every
# face the store or the public gallery holds (the web tier, generation/screening.py). Measured with
# bench/virtual_faces.py on the 41 shared portraits: photos of one person are 0.48-0.57 apart, different people
# 0.47 (1st percentile), 0.55 (5th), 0.61 (10th), 0.81 (median); 0.6 lies above every same-person pair, and a
# candidate that far from all is as far as nine pairs of real strangers in ten. 0.65 or 0.70 refused 32 and 37 of
# 37 candidates the engine had accepted. That the 0.6 of issue 16 let a near-copy through was one contributor
# dominating the blend, now capped (generate WEIGHT_LIMIT).
NOT_A_REAL_PERSON_MARGIN = 0.6
# A second-generation child whose descriptor distances to the two parents differ by less than this resembles both
# (within the descriptor's noise for one photo); the worker's ``resemblance`` and the web tier's words use it.
RESEMBLANCE_TIE = 0.03
BACKDROP_STYLES = ("elegant", "innocent", "graceful", "edgy", "fresh")  # generated faces' studio paper colours
MIN_CONTRIBUTORS = 3  # generate_face blends at least three faces ...
MAX_CONTRIBUTORS = 12  # ... and at most this many


@dataclass(frozen=True)
class Param:
    """One job parameter.

    ``type``: ``integer`` or ``number`` (within ``minimum``..``maximum``), ``choice`` (one of ``choices``; None
    means "left empty") or ``weights`` (MIN_CONTRIBUTORS..MAX_CONTRIBUTORS numbers >= 0, not all 0, one per
    contributor face). ``default``: what the worker uses when the parameter is absent (None: no default).
    """

    type: str
    description: str
    minimum: int | float | None = None
    maximum: int | float | None = None
    choices: tuple[str | None, ...] = ()
    default: Any = None

    def problem(self, value: Any) -> str | None:
        """Why ``value`` breaks this definition (English, for logs and the worker's error), or None."""
        if self.type == "choice":
            return None if value in self.choices else f"must be one of {', '.join(map(repr, self.choices))}"
        if self.type == "weights":
            if not isinstance(value, list) or not MIN_CONTRIBUTORS <= len(value) <= MAX_CONTRIBUTORS:
                return f"must be a list of {MIN_CONTRIBUTORS} to {MAX_CONTRIBUTORS} numbers"
            if not all(_is_number(w) and w >= 0 for w in value) or not any(w > 0 for w in value):
                return "must be numbers >= 0, not all 0"
            return None
        if not (_is_integer(value) if self.type == "integer" else _is_number(value)):
            return "must be a whole number" if self.type == "integer" else "must be a number"
        if not self.minimum <= value <= self.maximum:
            return f"must be from {self.minimum} to {self.maximum}"
        return None


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_integer(value) or isinstance(value, float)) and math.isfinite(value)


_FACE_INDEX = Param("integer", "which face of the product shot to work on, 0 = the leftmost", 0, MAX_FACE_INDEX)
_FACE = Param("choice", "`largest`: the largest face (the default; give face or face_index, not both)",
               choices=("largest",))


def _strength(description: str, default: float) -> Param:
    return Param("number", description, 0, 1, default=default)


JOB_PARAMS: dict[str, dict[str, Param]] = {
    "generate_face": {
        "seed": Param("integer", "picks the new face's proportion edits", 0, MAX_SEED, default=0),
        "weights": Param("weights", "each contributor's share, in the order of the faces (normalised)"),
        "backdrop": Param("choice", "studio paper colour, by style (a preset's style tag; empty: neutral grey)",
                          choices=(*BACKDROP_STYLES, None)),
        "makeup_strength": _strength("makeup from the reference face (a preset's), when one is given", 0.5),
    },
    "swap": {
        "face_index": _FACE_INDEX,
        "face": _FACE,
        "restore_strength": _strength("face restoration after the swap (0 = none)", 0.0),
    },
    "restore": {"strength": _strength("how strongly the face is restored", 0.6), "face_index": _FACE_INDEX,
                "face": _FACE},
    "makeup": {"strength": _strength("how much of the reference makeup is applied", 0.7),
               "face_index": _FACE_INDEX, "face": _FACE},
    "pipeline": {
        "face_index": _FACE_INDEX,
        "face": _FACE,
        "restore_strength": _strength("restoration after the swap (a preset's value when it has one)", 0.6),
        "makeup_strength": _strength("makeup transfer, when a reference face is given (or the preset's)", 0.5),
    },
    "second_generation": {
        "sex": Param("choice", "`girl` or `boy`; empty: the engine decides", choices=("girl", "boy", None)),
        "weight_a": _strength("parent A's share of the child's face", 0.5),
        "age_band": Param("choice", "the child's age in years: `3-6` (the default) or `7-12`",
                          choices=("3-6", "7-12", None), default="3-6"),
    },
}
assert set(JOB_PARAMS) == set(JOB_KINDS)


class ParamError(SpecError):
    """A job's ``params`` break JOB_PARAMS. ``name``: the parameter (None: ``params`` itself); ``code``:
    ``not_object``, ``unknown`` (``names`` lists them), ``invalid``, ``count`` (weights vs contributors) or
    ``conflict`` (``face`` and ``face_index`` together)."""

    def __init__(self, message: str, *, code: str, name: str | None = None, names: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.code, self.name, self.names = code, name, names


def validate_job_params(kind: str, params: Any, *, contributors: int | None = None) -> dict:
    """``params`` checked against ``JOB_PARAMS[kind]``; with ``contributors``, ``weights`` must have that many.

    Returns ``params`` unchanged (defaults are applied by the worker, not written into the job). Raises
    ParamError naming the first parameter at fault.
    """
    if not isinstance(params, dict):
        raise ParamError("params must be an object", code="not_object")
    allowed = JOB_PARAMS[kind]
    unknown = tuple(sorted(set(params) - set(allowed)))
    if unknown:
        raise ParamError(f"unknown parameter(s) {', '.join(unknown)} for {kind}", code="unknown", names=unknown)
    for name, value in params.items():
        problem = allowed[name].problem(value)
        if problem:
            raise ParamError(f"params.{name} {problem}, got {value!r:.60}", code="invalid", name=name)
    if "face" in params and "face_index" in params:
        raise ParamError("give params.face or params.face_index, not both", code="conflict", name="face")
    weights = params.get("weights")
    if contributors is not None and weights is not None and len(weights) != contributors:
        raise ParamError(f"params.weights needs {contributors} numbers, one per contributor face", code="count",
                         name="weights")
    return params


def param_default(kind: str, name: str) -> Any:
    return JOB_PARAMS[kind][name].default
