"""Shared face analysis: detection, landmarks, pose, alignment, masks, selection, licences."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.face import models
from gpu_worker.face.align import align_face, ffhq_quad
from gpu_worker.face.detect import analyze, check_usable
from gpu_worker.face.embed import distance, embedding
from gpu_worker.face.errors import FaceEngineError
from gpu_worker.face.imageio import as_rgb, read_image
from gpu_worker.face.mask import face_mask
from gpu_worker.face.select import select_face
from tests.gpu_worker.face_photos import astronaut, grace_hopper, shared_photo


def test_importing_gpu_worker_face_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, gpu_worker, gpu_worker.face, gpu_worker.engines, gpu_worker.cli; "
        "print(any(m in sys.modules for m in ('torch', 'dlib', 'cv2', 'django')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_grace_hopper_has_one_frontal_face_with_landmarks_and_pose():
    faces = analyze(grace_hopper())
    assert len(faces) == 1
    face = faces[0]
    assert face.landmarks68.shape == (68, 2) and face.landmarks5.shape == (5, 2)
    assert abs(face.pose.yaw) < 15 and abs(face.pose.roll) < 10
    left, right = face.eye_centres
    assert left[0] < right[0]


def test_astronaut_badge_is_not_a_face():
    faces = analyze(astronaut())
    assert len(faces) == 1 and 150 < faces[0].box[0] < 200


def test_yaw_sign_flips_when_a_turned_face_is_mirrored():
    img = read_image(shared_photo("bald_guys.jpg"))
    turned = max(analyze(img), key=lambda f: abs(f.pose.yaw))
    assert abs(turned.pose.yaw) > 25
    left, top, right, bottom = turned.box
    pad = turned.size
    crop = np.ascontiguousarray(img[max(0, top - pad) : bottom + pad, max(0, left - pad) : right + pad])
    (face,) = [f for f in analyze(crop) if f.size > turned.size * 0.8]
    (mirrored,) = [f for f in analyze(np.ascontiguousarray(crop[:, ::-1])) if f.size > turned.size * 0.8]
    assert np.sign(face.pose.yaw) == np.sign(turned.pose.yaw) == -np.sign(mirrored.pose.yaw)
    assert abs(abs(face.pose.yaw) - abs(mirrored.pose.yaw)) < 10


def test_ffhq_alignment_puts_the_eyes_on_a_horizontal_line_at_fixed_height():
    img = grace_hopper()
    face = analyze(img)[0]
    crop, matrix = align_face(img, face, 256)
    assert crop.shape == (256, 256, 3)
    aligned = analyze(crop)[0]
    left, right = aligned.eye_centres
    assert abs(left[1] - right[1]) < 4
    assert 110 < (left[1] + right[1]) / 2 < 130  # FFHQ places the eyes ~47 % down the crop
    assert ffhq_quad(face).shape == (4, 2)
    with pytest.raises(FaceEngineError) as exc:
        align_face(img, face, 300)
    assert exc.value.code == "bad_parameter"


def test_face_mask_excludes_a_synthetic_fringe_of_hair_and_a_blue_object():
    img = np.array(grace_hopper())
    face = analyze(img)[0]
    lm = face.landmarks68
    clean, _ = face_mask(img, lm)
    occluded = img.copy()
    brow_y = int(lm[17:27, 1].min())
    occluded[brow_y - 40 : brow_y - 8, int(lm[0, 0]) : int(lm[16, 0])] = (40, 28, 20)  # dark fringe
    cheek = lm[[3, 4, 48]].mean(0).astype(int)
    occluded[cheek[1] - 12 : cheek[1] + 12, cheek[0] - 12 : cheek[0] + 12] = (30, 60, 200)  # blue object
    mask, fraction = face_mask(occluded, lm)
    fringe = mask[brow_y - 36 : brow_y - 12, int(lm[4, 0]) : int(lm[12, 0])]
    assert (fringe == 0).mean() > 0.9
    assert mask[cheek[1], cheek[0]] == 0 and clean[cheek[1], cheek[0]] == 255
    assert fraction > 0.05
    assert mask[int(lm[30, 1]), int(lm[30, 0])] == 255  # the nose stays


def test_select_face_by_index_largest_and_reference():
    img = read_image(shared_photo("2008_002506.jpg"))
    faces = analyze(img)
    assert len(faces) == 3
    assert [f.box[0] for f in faces] == sorted(f.box[0] for f in faces)
    assert select_face(faces, index=2) is faces[2]
    assert select_face(faces, largest=True).size == max(f.size for f in faces)
    ref = embedding(img, faces[1])
    assert select_face(faces, reference=ref, image=img) is faces[1]
    with pytest.raises(FaceEngineError) as exc:
        select_face(faces, index=3)
    assert exc.value.code == "bad_parameter"
    with pytest.raises(FaceEngineError) as exc:
        select_face([], largest=True)
    assert exc.value.code == "no_face"


def test_embedding_separates_people_and_is_deterministic():
    a, g = astronaut(), grace_hopper()
    fa, fg = analyze(a)[0], analyze(g)[0]
    ea = embedding(a, fa)
    assert ea.shape == (128,)
    assert distance(ea, embedding(a, fa)) == 0.0
    assert distance(ea, embedding(g, fg)) > 0.6


def test_size_and_yaw_limits_refuse_with_codes():
    face = analyze(grace_hopper())[0]
    with pytest.raises(FaceEngineError) as exc:
        check_usable(face, "target", min_size=face.size + 1)
    assert exc.value.code == "face_too_small"
    with pytest.raises(FaceEngineError) as exc:
        check_usable(face, "target", max_yaw=abs(face.pose.yaw) / 2 if face.pose.yaw else 1e-6)
    assert exc.value.code == "face_turned"


def test_as_rgb_rejects_non_images():
    for bad in (None, np.zeros((10, 10, 3), np.float32), np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 3), np.uint8)):
        with pytest.raises(FaceEngineError) as exc:
            as_rgb(bad)
        assert exc.value.code == "unreadable_image"
    assert as_rgb(np.zeros((20, 20), np.uint8)).shape == (20, 20, 3)


def test_read_image_rejects_garbage(tmp_path):
    path = tmp_path / "junk.jpg"
    path.write_bytes(b"not a jpeg")
    with pytest.raises(FaceEngineError) as exc:
        read_image(path)
    assert exc.value.code == "unreadable_image"


def test_commercial_only_mode_refuses_the_68_point_model_and_keeps_dense_mesh_landmarks(monkeypatch):
    monkeypatch.delenv("GASANG_LANDMARKS", raising=False)
    monkeypatch.setenv("GASANG_COMMERCIAL_ONLY", "1")
    with pytest.raises(FaceEngineError) as exc:
        models.load("landmarks68")
    assert exc.value.code == "license_restricted"
    faces = analyze(grace_hopper())
    assert faces[0].landmarks68.shape == (68, 2) and faces[0].landmarks5.shape == (5, 2)
    assert faces[0].require_dense() is faces[0].landmarks68  # mesh-derived, commercial-safe
    crop, _ = align_face(grace_hopper(), faces[0], 256)
    assert crop.shape == (256, 256, 3)
    assert embedding(grace_hopper(), faces[0]).shape == (128,)
    sparse = analyze(grace_hopper(), dense=False)[0]
    assert sparse.landmarks68 is None
    with pytest.raises(FaceEngineError) as exc:
        sparse.require_dense()
    assert exc.value.code == "no_face"


def test_mmod_detector_finds_the_same_face():
    faces = analyze(grace_hopper(), detector="mmod", upsample=0)
    assert len(faces) == 1
    hog = analyze(grace_hopper())[0]
    assert abs(faces[0].landmarks68[30] - hog.landmarks68[30]).max() < 8
