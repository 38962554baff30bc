"""``python -m gpu_worker``: exit 0 and an image on success; exit 2, one line on stderr, no file on bad input."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from gpu_worker.cli import main
from gpu_worker.face.imageio import read_image, write_image
from tests.gpu_worker.face_photos import REPO_ROOT, astronaut, bald_crop, grace_hopper, shared_photo


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    paths = {}
    for name, image in (
        ("astronaut", astronaut()),
        ("grace", grace_hopper()),
        ("blank", np.full((240, 240, 3), 90, np.uint8)),
    ):
        paths[name] = folder / f"{name}.png"
        write_image(paths[name], image)
    paths["junk"] = folder / "junk.jpg"
    paths["junk"].write_bytes(b"\x00not an image")
    return paths


def _refused(capsys, argv, out, code):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {code}:"), err
    assert not out.exists()


def test_swap_writes_the_result_and_metadata(photos, tmp_path, capsys):
    out, meta = tmp_path / "r.png", tmp_path / "r.json"
    argv = [
        "swap",
        "--source",
        str(photos["astronaut"]),
        "--target",
        str(photos["grace"]),
        "--out",
        str(out),
        "--face",
        "largest",
        "--restore",
        "0.6",
        "--metadata",
        str(meta),
    ]
    assert main(argv) == 0
    assert read_image(out).shape == grace_hopper().shape
    assert '"engine": "swap"' in meta.read_text()
    assert "swap: wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--source", "{junk}", "--target", "{grace}"], "unreadable_image"),
        (["--source", "{missing}", "--target", "{grace}"], "unreadable_image"),
        (["--source", "{astronaut}", "--target", "{blank}"], "no_face"),
        (["--source", "{blank}", "--target", "{grace}"], "no_face"),
        (["--source", "{astronaut}", "--target", "{grace}", "--face-index", "4"], "bad_parameter"),
        (["--source", "{astronaut}", "--target", "{grace}", "--restore", "3"], "bad_parameter"),
    ],
)
def test_swap_refuses_bad_input_with_exit_2(photos, tmp_path, capsys, args, code):
    paths = {**{k: str(v) for k, v in photos.items()}, "missing": str(tmp_path / "nope.jpg")}
    out = tmp_path / "r.png"
    _refused(capsys, ["swap", *[a.format(**paths) for a in args], "--out", str(out)], out, code)


def test_small_and_turned_faces_exit_2(tmp_path, capsys):
    import cv2

    small = tmp_path / "small.png"
    write_image(small, cv2.resize(astronaut(), None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA))
    out = tmp_path / "r.png"
    # As the source, a 68 px face is below the 80 px minimum.
    _refused(capsys, ["swap", "--source", str(small), "--target", str(small), "--out", str(out)], out, "face_too_small")
    # The most turned man in bald_guys.jpg (about 38 degrees) is inside the 40 degree limit, so a
    # crop of him passes with the default limit and is refused with --max-yaw 30 semantics (engine).
    from gpu_worker.engines import FaceEngineError, get_engine

    turned = bald_crop(22)
    path = tmp_path / "turned.png"
    write_image(path, turned)
    assert main(["restore", "--image", str(path), "--out", str(out)]) == 0
    with pytest.raises(FaceEngineError) as exc:
        get_engine("swap").run({"source": astronaut(), "target": turned}, {"max_yaw": 30})
    assert exc.value.code == "face_turned"
    out.unlink()


def test_output_folder_must_exist_and_extension_must_be_an_image(photos, tmp_path, capsys):
    out = tmp_path / "missing" / "r.png"
    _refused(capsys, ["restore", "--image", str(photos["grace"]), "--out", str(out)], out, "bad_parameter")
    out = tmp_path / "r.gif"
    _refused(capsys, ["restore", "--image", str(photos["grace"]), "--out", str(out)], out, "bad_parameter")


def test_restore_makeup_generate_and_second_generation_run_on_real_photos(photos, tmp_path, capsys):
    tom = str(shared_photo("Tom_Cruise_avp_2014_4.jpg"))
    out = tmp_path / "restore.png"
    assert (
        main(["restore", "--image", str(photos["grace"]), "--strength", "0.5", "--upscale", "2", "--out", str(out)])
        == 0
    )
    assert read_image(out).shape[0] == 2 * grace_hopper().shape[0]
    out = tmp_path / "makeup.png"
    assert (
        main(["makeup", "--target", str(photos["astronaut"]), "--reference", str(photos["grace"]), "--out", str(out)])
        == 0
    )
    assert read_image(out).shape == astronaut().shape
    out = tmp_path / "child.png"
    assert (
        main(
            [
                "second-generation",
                "--parent-a",
                tom,
                "--parent-b",
                str(photos["grace"]),
                "--sex",
                "boy",
                "--size",
                "256",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert read_image(out).shape == (256, 256, 3)
    out = tmp_path / "gen.png"
    # Three photos of the same two people cannot pass the not-a-contributor check: exit 2, nothing written.
    _refused(
        capsys, ["generate", "--faces", tom, tom, tom, "--size", "256", "--out", str(out)], out, "identity_check_failed"
    )


def test_python_dash_m_entry_point(photos, tmp_path):
    out = tmp_path / "r.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gpu_worker",
            "swap",
            "--source",
            str(photos["junk"]),
            "--target",
            str(photos["grace"]),
            "--out",
            str(out),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.startswith("error: unreadable_image:")
    assert not out.exists()
    done = subprocess.run(
        [sys.executable, "-m", "gpu_worker", "swap", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2  # argparse usage error


def test_models_subcommand_lists_the_weight_registry_with_licences(tmp_path):
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "gpu_worker", "models", "list"], capture_output=True, text=True,
                            env={**os.environ, "GASANG_MODEL_DIR": str(tmp_path)}, timeout=120)

    assert result.returncode == 0, result.stderr
    assert "stylegan2" in result.stdout and "NC" in result.stdout


def test_engine_classical_runs_the_classical_engine(photos, tmp_path, capsys):
    out, meta = tmp_path / "r.png", tmp_path / "r.json"
    argv = ["restore", "--image", str(photos["astronaut"]), "--engine", "classical", "--out", str(out),
            "--metadata", str(meta)]
    assert main(argv) == 0
    assert read_image(out).shape == astronaut().shape
    assert '"version": "classical-1.0"' in meta.read_text()
    assert "restore: wrote" in capsys.readouterr().out


def test_engine_neural_without_weights_names_them_and_writes_nothing(photos, tmp_path, monkeypatch):
    """A clear one-line error naming the missing weights, exit 3, no traceback, no output file."""
    import os
    import subprocess
    import sys

    out = tmp_path / "r.png"
    env = {**os.environ, "GASANG_MODEL_DIR": str(tmp_path / "no-models"), "GASANG_NEURAL_ON_CPU": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "gpu_worker", "swap", "--source", str(photos["astronaut"]), "--target",
         str(photos["grace"]), "--engine", "neural", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert done.returncode == 3, done.stderr
    err = done.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: engine_unavailable:"), done.stderr
    assert "weights not installed: arcface_ir_se50, aei_net" in err[0] and "Traceback" not in done.stderr
    assert not out.exists()


def test_engine_choice_is_validated_by_argparse(photos, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["restore", "--image", str(photos["astronaut"]), "--engine", "quantum", "--out", str(tmp_path / "r.png")])
    assert exc.value.code == 2
