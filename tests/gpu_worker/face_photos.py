"""Offline face photos for the face/engine tests: skimage's astronaut, matplotlib's Grace Hopper and
the shared test photos (used in place, never copied; tests needing them skip when absent)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_FACES = REPO_ROOT.parent / "shared" / "testdata" / "faces"


@cache
def astronaut() -> np.ndarray:
    from skimage import data

    img = data.astronaut()
    img.flags.writeable = False
    return img


@cache
def grace_hopper() -> np.ndarray:
    import matplotlib.cbook

    from gpu_worker.face.imageio import read_image

    img = read_image(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    img.flags.writeable = False
    return img


def shared_photo(name: str) -> Path:
    path = SHARED_FACES / name
    if not path.exists():
        pytest.skip(f"shared test photo {path} is absent")
    return path


@cache
def largest_embedding(key: str) -> np.ndarray:
    """Embedding of the largest face of a named photo ("astronaut" or "grace")."""
    from gpu_worker.face.detect import analyze
    from gpu_worker.face.embed import embedding
    from gpu_worker.face.select import select_face

    img = {"astronaut": astronaut, "grace": grace_hopper}[key]()
    return embedding(img, select_face(analyze(img)))


def embedding_of(image: np.ndarray, near: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """Embedding of the face nearest ``near`` (a box) or the largest face; fails the test if none."""
    from gpu_worker.face.detect import analyze
    from gpu_worker.face.embed import embedding
    from gpu_worker.face.select import select_face

    faces = analyze(image)
    assert faces, "no face found in the result"
    if near is None:
        return embedding(image, select_face(faces))
    centre = np.array([(near[0] + near[2]) / 2, (near[1] + near[3]) / 2])

    def offset(f):
        return np.hypot((f.box[0] + f.box[2]) / 2 - centre[0], (f.box[1] + f.box[3]) / 2 - centre[1])

    return embedding(image, min(faces, key=offset))


@cache
def bald_guys() -> np.ndarray:
    """The shared photo of four men, six shots each (skips when absent)."""
    from gpu_worker.face.imageio import read_image

    img = read_image(shared_photo("bald_guys.jpg"))
    img.flags.writeable = False
    return img


def bald_crop(index: int) -> np.ndarray:
    """A crop around face ``index`` (left to right) of bald_guys.jpg: one face per image."""

    img = bald_guys()
    face = _bald_faces()[index]
    left, top, right, bottom = face.box
    pad = face.size
    return np.ascontiguousarray(img[max(0, top - pad) : bottom + pad, max(0, left - pad) : right + pad])


@cache
def _bald_faces():
    from gpu_worker.face.detect import analyze

    return analyze(bald_guys())


def shared_testdata(folder: str, name: str) -> Path:
    """A photo of ``../shared/testdata/<folder>/``, used in place; skips the test when absent."""
    path = SHARED_FACES.parent / folder / name
    if not path.exists():
        pytest.skip(f"shared test photo {path} is absent")
    return path
