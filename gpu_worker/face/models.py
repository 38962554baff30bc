"""Model files of ``gpu_worker/face``: paths, licences, cached dlib loaders and the commercial-only switch.

Licences matter because stores use Gasang commercially (see ``LICENSES.md`` next to this file):

| key | file | licence | commercial use |
| --- | --- | --- | --- |
| ``hog`` | built into dlib | Boost Software License | yes |
| ``mmod`` | mmod_human_face_detector.dat | CC0 | yes |
| ``landmarks5`` | shape_predictor_5_face_landmarks.dat | CC0 | yes |
| ``embedding`` | dlib_face_recognition_resnet_model_v1.dat | CC0 | yes |
| ``blazeface`` | mediapipe/modules/face_detection/face_detection_short_range.tflite (in the wheel) | Apache-2.0 | yes |
| ``mesh`` | mediapipe/modules/face_landmark/face_landmark_with_attention.tflite (in the wheel) | Apache-2.0 | yes |
| ``selfie`` | mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite (in the wheel) | Apache-2.0 | yes |
| ``landmarks68`` | shape_predictor_68_face_landmarks.dat | trained on iBUG 300-W: non-commercial | **no** |

The dense 68-point layout every engine uses comes from the MediaPipe mesh by default (``landmarks_mesh.py``).
``GASANG_LANDMARKS=ibug68`` opts into dlib's 68-point model instead (non-commercial use only).
Commercial-only mode (``GASANG_COMMERCIAL_ONLY=1``; the default when ``GASANG_ENV=production`` unless
``GASANG_COMMERCIAL_ONLY=0``) refuses every file whose licence is not commercial-safe: asking for ``ibug68``
or loading ``landmarks68`` then raises ``FaceEngineError("license_restricted")``. Every engine keeps working
there, on the mesh.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gpu_worker.face.errors import FaceEngineError


@dataclass(frozen=True)
class ModelFile:
    filename: str | None
    licence: str
    commercial_ok: bool


MODEL_FILES: dict[str, ModelFile] = {
    "hog": ModelFile(None, "Boost Software License 1.0 (dlib)", True),
    "mmod": ModelFile("mmod_human_face_detector.dat", "CC0 1.0", True),
    "landmarks5": ModelFile("shape_predictor_5_face_landmarks.dat", "CC0 1.0", True),
    "blazeface": ModelFile("face_detection_short_range.tflite", "Apache-2.0 (MediaPipe, shipped in the wheel)", True),
    "mesh": ModelFile("face_landmark_with_attention.tflite", "Apache-2.0 (MediaPipe, shipped in the wheel)", True),
    "selfie": ModelFile("selfie_segmentation.tflite", "Apache-2.0 (MediaPipe, shipped in the wheel)", True),
    "landmarks68": ModelFile(
        "shape_predictor_68_face_landmarks.dat", "trained on iBUG 300-W; 300-W images are non-commercial", False
    ),
    "embedding": ModelFile("dlib_face_recognition_resnet_model_v1.dat", "CC0 1.0", True),
}


LANDMARK_MODELS = ("mesh", "ibug68")


def commercial_only() -> bool:
    """``GASANG_COMMERCIAL_ONLY`` (1/true/yes or 0/false/no); unset: on in production (``GASANG_ENV=production``).

    Read on every call, never cached.
    """
    value = os.environ.get("GASANG_COMMERCIAL_ONLY", "").strip().lower()
    if value in {"1", "true", "yes"}:
        return True
    if value in {"0", "false", "no"}:
        return False
    return os.environ.get("GASANG_ENV", "").strip().lower() == "production"


def landmark_model() -> str:
    """``GASANG_LANDMARKS``: ``mesh`` (default, Apache-2.0) or ``ibug68`` (non-commercial opt-in; refused with
    ``license_restricted`` in commercial-only mode). Read on every call."""
    name = os.environ.get("GASANG_LANDMARKS", "").strip().lower() or "mesh"
    if name not in LANDMARK_MODELS:
        raise FaceEngineError("bad_parameter", f"GASANG_LANDMARKS must be 'mesh' or 'ibug68', not {name!r}")
    if name == "ibug68":
        check_licence("landmarks68")
    return name


def check_licence(key: str) -> None:
    """Raise ``license_restricted`` if commercial-only mode is on and ``key`` is not commercial-safe."""
    if commercial_only() and not MODEL_FILES[key].commercial_ok:
        raise FaceEngineError(
            "license_restricted",
            f"{MODEL_FILES[key].filename} ({MODEL_FILES[key].licence}) is refused: GASANG_COMMERCIAL_ONLY is set",
        )


def model_path(key: str) -> Path:
    """Path of a model file inside the installed ``face_recognition_models`` package.

    We locate the package with ``find_spec`` instead of importing it: its ``__init__`` needs
    ``pkg_resources``, which the worker image does not ship. Nothing is ever downloaded.
    """
    filename = MODEL_FILES[key].filename
    if filename is None:
        raise KeyError(f"{key} has no model file")
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face_recognition_models is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / filename
    if not path.exists():
        raise FileNotFoundError(path)
    return path


@cache
def _load(key: str) -> Any:
    import dlib

    if key == "hog":
        return dlib.get_frontal_face_detector()
    if key == "mmod":
        return dlib.cnn_face_detection_model_v1(str(model_path(key)))
    if key == "embedding":
        return dlib.face_recognition_model_v1(str(model_path(key)))
    return dlib.shape_predictor(str(model_path(key)))


def load(key: str) -> Any:
    """The dlib object for ``key`` (cached per process), after the licence check."""
    check_licence(key)
    return _load(key)
