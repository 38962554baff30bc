"""dlib model files from ``face_recognition_models``: paths, licences and cached loaders.

Licences matter because stores use Gasang commercially (see ``LICENSES.md`` next to this file):

| key | file | licence | commercial use |
| --- | --- | --- | --- |
| ``hog`` | built into dlib | Boost Software License | yes |
| ``mmod`` | mmod_human_face_detector.dat | CC0 | yes |
| ``landmarks5`` | shape_predictor_5_face_landmarks.dat | CC0 | yes |
| ``landmarks68`` | shape_predictor_68_face_landmarks.dat | trained on iBUG 300-W: non-commercial | **no** |
| ``embedding`` | dlib_face_recognition_resnet_model_v1.dat | CC0 | yes |

Set ``GASANG_COMMERCIAL_ONLY=1`` to refuse every model whose licence is not commercial-safe: loading
``landmarks68`` then raises ``FaceEngineError("license_restricted")``. Detection, 5-point landmarks,
pose, FFHQ alignment and the identity embedding keep working in that mode; the dense-geometry engines
(swap, makeup, generate, second_generation) refuse until a commercial-safe dense landmark model ships.
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
    "landmarks68": ModelFile(
        "shape_predictor_68_face_landmarks.dat", "trained on iBUG 300-W; 300-W images are non-commercial", False
    ),
    "embedding": ModelFile("dlib_face_recognition_resnet_model_v1.dat", "CC0 1.0", True),
}


def commercial_only() -> bool:
    """True when ``GASANG_COMMERCIAL_ONLY`` is set to 1/true/yes (read on every call, never cached)."""
    return os.environ.get("GASANG_COMMERCIAL_ONLY", "").strip().lower() in {"1", "true", "yes"}


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
