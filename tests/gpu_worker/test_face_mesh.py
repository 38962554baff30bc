"""Commercial-safe dense geometry: MediaPipe mesh landmarks, combined detection, the licence gate, packaging."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gpu_worker.engines import FaceEngineError, get_engine
from gpu_worker.face import detect, models
from gpu_worker.face.imageio import read_image
from tests.gpu_worker.face_photos import SHARED_FACES, astronaut, bald_crop, grace_hopper, shared_photo

SHARED = SHARED_FACES.parent


def shared_file(group: str, name: str):
    path = SHARED / group / name
    if not path.exists():
        pytest.skip(f"shared test photo {path} is absent")
    return path


@pytest.fixture
def commercial_only(monkeypatch):
    monkeypatch.delenv("GASANG_LANDMARKS", raising=False)
    monkeypatch.setenv("GASANG_COMMERCIAL_ONLY", "1")


def test_the_landmark_path_imports_one_headless_opencv_and_neither_torch_nor_jax():
    code = (
        "import sys, importlib.metadata as md, numpy as np\n"
        "from gpu_worker.face import detect\n"
        "img = np.full((200, 200, 3), 128, np.uint8)\n"
        "detect.analyze(img)\n"
        "from gpu_worker.face import landmarks_mesh; landmarks_mesh.mesh_points(img, (50, 50, 150, 150))\n"
        "import cv2\n"
        "dists = {d.metadata['Name'].lower() for d in md.distributions()}\n"
        "owner = [d.metadata['Name'] for d in md.distributions() "
        "if any(str(f).startswith('cv2/') and str(f).endswith('.so') for f in (d.files or ()))]\n"
        "print(sorted(n for n in dists if n.startswith('opencv')), owner, cv2.__file__,"
        " [m for m in ('torch', 'jax', 'jaxlib', 'sounddevice') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out.startswith("['opencv-python-headless'] ['opencv-python-headless'] "), out
    assert out.endswith(" []"), out  # no torch, jax or sounddevice imported by the landmark path


def test_commercial_only_refuses_the_ibug_model_and_production_defaults_to_it(monkeypatch):
    assert models.MODEL_FILES["landmarks68"].commercial_ok is False
    assert all(models.MODEL_FILES[k].commercial_ok for k in ("hog", "mmod", "landmarks5", "embedding", "mesh"))
    monkeypatch.setenv("GASANG_LANDMARKS", "ibug68")
    monkeypatch.setenv("GASANG_COMMERCIAL_ONLY", "1")
    with pytest.raises(FaceEngineError) as exc:
        detect.analyze(grace_hopper())
    assert exc.value.code == "license_restricted" and "shape_predictor_68" in exc.value.message
    monkeypatch.delenv("GASANG_COMMERCIAL_ONLY")
    monkeypatch.setenv("GASANG_ENV", "production")
    assert models.commercial_only() is True
    with pytest.raises(FaceEngineError) as exc:
        get_engine("swap").run({"source": astronaut(), "target": grace_hopper()}, {})
    assert exc.value.code == "license_restricted"
    monkeypatch.setenv("GASANG_COMMERCIAL_ONLY", "0")  # the operator's explicit non-commercial choice
    assert detect.analyze(grace_hopper())[0].mesh is None  # the iBUG model ran
    monkeypatch.setenv("GASANG_LANDMARKS", "nonsense")
    with pytest.raises(FaceEngineError) as exc:
        detect.analyze(grace_hopper())
    assert exc.value.code == "bad_parameter"


def test_default_landmarks_are_the_mesh_in_commercial_only_mode(commercial_only):
    face = detect.analyze(grace_hopper())[0]
    assert face.mesh.shape == (478, 3) and face.landmarks68.shape == (68, 2)
    assert abs(face.pose.yaw) < 20


def test_a_tight_crop_filling_the_frame_is_found():
    image = read_image(shared_file("identities", "simswap_ljm3.jpg"))  # 224 x 224, the face fills it
    assert detect._dlib_boxes(image) == []  # dlib alone: no_face
    faces = detect.analyze(image)
    assert len(faces) == 1 and faces[0].size > 100


def test_small_faces_of_a_group_photo_are_still_found_left_to_right():
    image = read_image(shared_photo("bald_guys.jpg"))
    faces = detect.analyze(image)
    assert len(faces) == len(detect._dlib_boxes(image)) == 24  # dlib finds them; BlazeFace adds no duplicate
    assert [f.box[0] for f in faces] == sorted(f.box[0] for f in faces)


def test_a_face_whose_mesh_cannot_be_fitted_keeps_every_face_index_and_is_refused_by_name(monkeypatch):
    """face_index counts every detected face (the dashboard shows them all): losing one must not shift the others."""
    from gpu_worker.engines.common import find_face
    from gpu_worker.face import landmarks_mesh

    image = read_image(shared_photo("bald_guys.jpg"))
    boxes = sorted(detect.detect_boxes(image), key=lambda b: (b[0][0], b[0][1]))
    unfittable = boxes[1][0]
    real_mesh = landmarks_mesh.mesh_points
    monkeypatch.setattr(landmarks_mesh, "mesh_points",
                        lambda img, box: None if tuple(box) == tuple(unfittable) else real_mesh(img, box))
    faces = detect.analyze(image)
    assert len(faces) == 24 and faces[1].landmarks68 is None
    assert find_face(image, "target", {"face_index": 2}).box == faces[2].box
    with pytest.raises(FaceEngineError) as refused:
        find_face(image, "target", {"face_index": 1})
    assert refused.value.code == "no_face" and "could not be fitted" in str(refused.value)


# Mean error / inter-ocular distance of the mesh-derived 68 points vs dlib's 68-point model, measured with
# gpu_worker/tools/mesh_to_68.py: makeup portraits 0.030 (max 0.042), fashion shots 0.039 (max 0.045).
@pytest.mark.parametrize(
    "group,name",
    [
        ("makeup", "beautygan_no_makeup_xfsy_0055.png"),
        ("fashion", sorted(p.name for p in (SHARED / "fashion").glob("*.jpg"))[0] if SHARED.exists() else "-"),
        ("faces", "Tom_Cruise_avp_2014_4.jpg"),
    ],
)
def test_mesh_derived_68_points_agree_with_dlibs_68_point_model(group, name):
    image = read_image(shared_file(group, name))
    box = max(detect._dlib_boxes(image), key=lambda found: found[0][2] - found[0][0])[0]
    ours = detect.face_at(image, box).landmarks68
    theirs = detect._shape_points(models._load("landmarks68"), image, box)
    iod = np.linalg.norm(theirs[36:42].mean(0) - theirs[42:48].mean(0))
    assert np.linalg.norm(ours - theirs, axis=1).mean() / iod < 0.06


def test_every_classical_engine_runs_in_commercial_only_mode(commercial_only):
    tom = read_image(shared_photo("Tom_Cruise_avp_2014_4.jpg"))
    swapped = get_engine("swap").run({"source": tom, "target": grace_hopper()}, {})
    assert swapped.image.shape == grace_hopper().shape and not np.array_equal(swapped.image, grace_hopper())
    restored = get_engine("restore").run({"image": grace_hopper()}, {"strength": 0.6})
    assert restored.image.shape == grace_hopper().shape
    made_up = get_engine("makeup").run({"target": astronaut(), "reference": grace_hopper()}, {"strength": 0.8})
    assert made_up.image.shape == astronaut().shape
    gallery = {"face_0": tom, "face_1": bald_crop(19), "face_2": bald_crop(9)}
    assert get_engine("generate").run(gallery, {"size": 256}).image.shape == (256, 256, 3)
    child = get_engine("second_generation").run({"parent_a": grace_hopper(), "parent_b": tom}, {"size": 256})
    assert child.image.shape == (256, 256, 3)
