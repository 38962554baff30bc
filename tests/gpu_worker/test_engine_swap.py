"""Swap engine: identity moves to the source, the rest of the photo stays, bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.engines import FaceEngineError, get_engine
from gpu_worker.face.detect import analyze
from gpu_worker.face.embed import distance, embedding
from gpu_worker.face.imageio import read_image
from tests.gpu_worker.face_photos import astronaut, embedding_of, grace_hopper, largest_embedding, shared_photo

swap = get_engine("swap")


@pytest.fixture(scope="module")
def grace_as_astronaut():
    return swap.run({"source": astronaut(), "target": grace_hopper()}, {})


def test_swap_moves_identity_toward_the_source_both_ways(grace_as_astronaut):
    result = grace_as_astronaut
    emb = embedding_of(result.image)
    assert distance(emb, largest_embedding("astronaut")) < distance(emb, largest_embedding("grace"))
    assert distance(emb, largest_embedding("astronaut")) < 0.5
    other = swap.run({"source": grace_hopper(), "target": astronaut()}, {"face": "largest"})
    emb = embedding_of(other.image)
    assert distance(emb, largest_embedding("grace")) < distance(emb, largest_embedding("astronaut"))


def test_swap_output_shape_metadata_and_untouched_background(grace_as_astronaut):
    result = grace_as_astronaut
    target = grace_hopper()
    assert result.image.shape == target.shape and result.image.dtype == np.uint8
    meta = result.metadata
    assert meta["engine"] == "swap" and meta["version"]
    assert set(meta["target_face"]) >= {"box", "yaw", "pitch", "roll"}
    assert {"prepare_asset", "analyze_target", "swap", "consistency"} <= set(meta["timings"])
    left, top, right, bottom = meta["target_face"]["box"]
    changed = np.any(result.image != target, axis=2)
    ys, xs = np.nonzero(changed)
    size = right - left
    # Everything that changed lies near the face; the rest of the photo is bit-exact.
    assert xs.min() >= left - size and xs.max() <= right + size
    assert ys.min() >= top - size and ys.max() <= bottom + size
    assert changed.sum() > 0.3 * size * size


def test_swap_is_deterministic(grace_as_astronaut):
    again = swap.run({"source": astronaut(), "target": grace_hopper()}, {})
    assert np.array_equal(again.image, grace_as_astronaut.image)


def test_swap_with_restore_changes_only_the_face():
    plain = swap.run({"source": grace_hopper(), "target": astronaut()}, {})
    restored = swap.run({"source": grace_hopper(), "target": astronaut()}, {"restore": 0.6})
    assert restored.metadata["settings"]["restore"] == 0.6
    diff = np.any(plain.image != restored.image, axis=2)
    assert diff.any()
    left, top, right, bottom = plain.metadata["target_face"]["box"]
    ys, xs = np.nonzero(diff)
    assert xs.min() >= left - (right - left) and ys.max() <= bottom + (bottom - top)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"restore": 1.5}, "bad_parameter"),
        ({"shape_keep": -1}, "bad_parameter"),
        ({"face_index": 5}, "bad_parameter"),
        ({"face_index": 0, "face": "largest"}, "bad_parameter"),
        ({"face": "similar"}, "bad_parameter"),
        ({"detector": "yolo"}, "bad_parameter"),
        ({"min_face_size": 1000}, "face_too_small"),
        ({"max_yaw": 0.01}, "face_turned"),
    ],
)
def test_swap_refuses_bad_parameters_and_unusable_faces(params, code):
    with pytest.raises(FaceEngineError) as exc:
        swap.run({"source": astronaut(), "target": grace_hopper()}, params)
    assert exc.value.code == code


def test_swap_refuses_a_source_face_below_80px():
    import cv2

    small = cv2.resize(astronaut(), None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)  # face ~68 px
    with pytest.raises(FaceEngineError) as exc:
        swap.run({"source": small, "target": grace_hopper()}, {})
    assert exc.value.code == "face_too_small"
    assert "source" in exc.value.message


def test_swap_refuses_missing_faces_and_non_images():
    blank = np.full((300, 300, 3), 200, np.uint8)
    with pytest.raises(FaceEngineError) as exc:
        swap.run({"source": astronaut(), "target": blank}, {})
    assert exc.value.code == "no_face" and "target" in exc.value.message
    with pytest.raises(FaceEngineError) as exc:
        swap.run({"source": blank, "target": grace_hopper()}, {})
    assert exc.value.code == "no_face" and "source" in exc.value.message
    with pytest.raises(FaceEngineError) as exc:
        swap.run({"source": astronaut().astype(np.float32), "target": grace_hopper()}, {})
    assert exc.value.code == "unreadable_image"
    with pytest.raises(FaceEngineError) as exc:
        swap.run({"source": astronaut()}, {})
    assert exc.value.code == "bad_parameter"


def test_swap_in_commercial_only_mode_runs_on_the_mesh_landmarks(monkeypatch):
    monkeypatch.delenv("GASANG_LANDMARKS", raising=False)
    monkeypatch.setenv("GASANG_COMMERCIAL_ONLY", "1")
    result = swap.run({"source": astronaut(), "target": grace_hopper()}, {})
    assert distance(embedding_of(result.image), largest_embedding("astronaut")) < distance(
        embedding_of(result.image), largest_embedding("grace")
    )


def test_swap_picks_the_face_by_index_or_by_similarity_in_a_group_photo():
    group = read_image(shared_photo("2008_002506.jpg"))
    faces = analyze(group)
    by_index = swap.run({"source": grace_hopper(), "target": group}, {"face_index": 2})
    assert by_index.metadata["target_face"]["box"] == list(faces[2].box)
    reference = group[faces[0].box[1] - 40 : faces[0].box[3] + 40, max(0, faces[0].box[0] - 40) : faces[0].box[2] + 40]
    by_ref = swap.run(
        {"source": grace_hopper(), "target": group, "reference": np.ascontiguousarray(reference)}, {"face": "similar"}
    )
    assert by_ref.metadata["target_face"]["box"] == list(faces[0].box)
    # The other two people are untouched.
    for other in faces[1:]:
        left, top, right, bottom = other.box
        assert np.array_equal(by_ref.image[top:bottom, left + 10 : right], group[top:bottom, left + 10 : right])
    assert distance(embedding(by_index.image, faces[0]), embedding(group, faces[0])) < 1e-6


def test_an_open_source_mouth_is_closed_in_the_face_asset():
    from gpu_worker.face.asset import prepare_asset
    from gpu_worker.face.layout import layout

    asset = prepare_asset(astronaut())  # she smiles with her teeth showing
    lay = layout()
    centre = lay.uv[lay.inner_lips].mean(0).round().astype(int)
    patch = asset.texture[centre[1] - 2 : centre[1] + 3, centre[0] - 10 : centre[0] + 11]
    face = analyze(astronaut())[0]
    inner = face.landmarks68[60:68].mean(0).round().astype(int)
    teeth = astronaut()[inner[1] - 2 : inner[1] + 3, inner[0] - 6 : inner[0] + 7]
    # The teeth were the brightest thing in the mouth; the asset's mouth line is lip-dark.
    assert patch.mean() < teeth.mean() - 20
