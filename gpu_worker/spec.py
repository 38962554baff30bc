"""The contract between the web tier and the GPU fleet: queues, job specs and events.

Plain Python only (no torch, no Django): both sides import it.
"""

from __future__ import annotations

QUEUE_GPU = "gpu"  # gpu_worker consumes; one job spec per message
QUEUE_EVENTS = "events"  # events worker (Django side) consumes job events
QUEUE_DEFAULT = "default"  # everything else on the Django side (webhooks, billing, outbox relay)
QUEUES = (QUEUE_GPU, QUEUE_EVENTS, QUEUE_DEFAULT)


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
TASK_APPLY_EVENT = "generation.apply_event"  # args: [Event dict], on QUEUE_EVENTS

JOB_KINDS = ("generate_face", "swap", "restore", "makeup", "pipeline", "second_generation")
EVENT_TYPES = ("started", "progress", "succeeded", "failed", "faces_detected")

# DigitalSourceType values (IPTC NewsCodes) written into every output's XMP.
SOURCE_TYPE_GENERATED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SOURCE_TYPE_COMPOSITE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


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
       "label": {"visible": bool}}``. Input roles: ``source`` (face), ``target`` (product shot),
    ``reference`` (makeup), ``parent_a``/``parent_b``, ``contributors`` (list of keys).
    """
    _require(spec, {"job_id": str, "store_id": int, "kind": str, "inputs": dict, "params": dict,
                    "output_prefix": str, "attempt_limit": int}, "job spec")
    if spec["kind"] not in JOB_KINDS:
        raise SpecError(f"unknown job kind {spec['kind']!r}")
    return spec


def validate_event(event: dict) -> dict:
    """``{"event_id": str, "type": one of EVENT_TYPES, "subject": job id or shot id (str), "at": float,
    "attempt": int, ...}`` plus ``progress`` (int), ``outputs`` (dict), ``metrics`` (dict),
    ``error`` ({"code", "message"}) or ``faces`` (list of {"box": [x, y, w, h], "score"}) by type."""
    _require(event, {"event_id": str, "type": str, "subject": str, "at": (int, float)}, "event")
    if event["type"] not in EVENT_TYPES:
        raise SpecError(f"unknown event type {event['type']!r}")
    return event
