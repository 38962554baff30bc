"""Choosing one face when an image holds several people."""

from __future__ import annotations

import numpy as np

from gpu_worker.face.detect import Face
from gpu_worker.face.errors import FaceEngineError


def select_face(
    faces: list[Face],
    *,
    index: int | None = None,
    largest: bool = False,
    reference: np.ndarray | None = None,
    image: np.ndarray | None = None,
    role: str = "target",
) -> Face:
    """Pick one face: by ``index`` (0 = leftmost), the ``largest``, or the one most similar to the
    ``reference`` embedding (needs ``image``). With no criterion: the largest.

    Raises ``no_face`` if ``faces`` is empty and ``bad_parameter`` for an index out of range or
    contradictory criteria.
    """
    if not faces:
        raise FaceEngineError("no_face", f"no face found in the {role} image", input=role)
    chosen = sum(x is not None and x is not False for x in (index, reference)) + int(largest)
    if chosen > 1:
        raise FaceEngineError("bad_parameter", "choose the face by index, largest or reference, not several")
    if index is not None:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(faces):
            raise FaceEngineError(
                "bad_parameter", f"face index {index!r} is out of range: the {role} image has {len(faces)} face(s)"
            )
        return faces[index]
    # By size or similarity, prefer faces whose dense landmarks were fitted (the engines need them).
    faces = [f for f in faces if f.landmarks68 is not None] or faces
    if reference is not None:
        if image is None:
            raise FaceEngineError("bad_parameter", "selecting by reference needs the image")
        from gpu_worker.face.embed import distance, embedding

        return min(faces, key=lambda f: distance(embedding(image, f), reference))
    # Ties (same size) resolve to the leftmost, which keeps the choice deterministic.
    return max(faces, key=lambda f: (f.size, f.score, -f.box[0]))
