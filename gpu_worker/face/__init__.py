"""Shared face analysis for every engine: detection, landmarks, pose, FFHQ alignment, masks, embedding.

Heavy libraries (dlib, OpenCV, SciPy) are imported inside functions, so importing this package is
cheap. See ``README.md`` in ``gpu_worker/`` for limits and ``models.py`` for model licences.
"""

from gpu_worker.face.errors import ERROR_CODES, FaceEngineError

__all__ = ["ERROR_CODES", "FaceEngineError"]
