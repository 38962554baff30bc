"""Offline: measure which MediaPipe mesh vertex (or blend of two) best matches each iBUG 68-point landmark.

Usage: ``.venv/bin/python -m gpu_worker.tools.mesh_to_68 [--data ../shared/testdata]``

It runs dlib's HOG detector and 68-point model (iBUG 300-W, non-commercial: used here only to *measure*,
never shipped in the default path) and the mesh (``face/landmarks_mesh.py``) on the same box for every face
of the shared test photos (faces, makeup, identities, fashion), normalises every distance by dlib's
inter-ocular distance (eye centres), and for each of the 68 points picks the single vertex or the midpoint
of two of the 12 best vertices with the smallest mean error. It prints the table (paste into
``MESH_TO_68``) and the mean error per group. Never imported by the worker.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np

GROUPS = ("faces", "makeup", "identities", "fashion")


def collect(data: Path) -> tuple[list[np.ndarray], list[np.ndarray], list[str]]:
    from gpu_worker.face import detect, landmarks_mesh, models
    from gpu_worker.face.imageio import read_image

    p68 = models._load("landmarks68")
    dlib68, meshes, groups = [], [], []
    for group in GROUPS:
        for path in sorted((data / group).glob("*")):
            if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
                continue
            image = read_image(path)
            for box, _score in detect._dlib_boxes(image):
                ref = detect._shape_points(p68, image, box)
                mesh = landmarks_mesh.mesh_points(image, box)
                if mesh is None:
                    continue
                dlib68.append(ref)
                meshes.append(mesh[:, :2])
                groups.append(group)
    return dlib68, meshes, groups


OUTLIER = 0.25  # error / IOD above which a face is a gross failure, not a correspondence error


def _error(ref: np.ndarray, mesh2d: np.ndarray) -> float:
    from gpu_worker.face import landmarks_mesh

    derived = landmarks_mesh.to68(np.c_[mesh2d, np.zeros(len(mesh2d))])
    return float(np.linalg.norm(derived - ref, axis=1).mean() / iod(ref))


def iod(points68: np.ndarray) -> float:
    return float(np.linalg.norm(points68[36:42].mean(0) - points68[42:48].mean(0)))


def fit(dlib68: list[np.ndarray], meshes: list[np.ndarray]) -> list[tuple[tuple[int, float], ...]]:
    ref = np.stack(dlib68)  # (F, 68, 2)
    mesh = np.stack(meshes)  # (F, 478, 2)
    norm = np.array([iod(r) for r in dlib68])[:, None]
    table = []
    for i in range(68):
        err = np.linalg.norm(mesh[:, :468] - ref[:, i : i + 1], axis=2) / norm  # (F, 468): no iris vertices
        mean = err.mean(0)
        best = [((int(v), 1.0),) for v in np.argsort(mean)[:12]]
        candidates = best + [((a[0][0], 0.5), (b[0][0], 0.5)) for a, b in itertools.combinations(best, 2)]
        scores = []
        for blend in candidates:
            pred = sum(w * mesh[:, v] for v, w in blend)
            scores.append((np.linalg.norm(pred - ref[:, i], axis=1) / norm[:, 0]).mean())
        table.append(candidates[int(np.argmin(scores))])
    return table


def main(argv: list[str] | None = None) -> int:
    from gpu_worker.face import landmarks_mesh

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2].parent / "shared" / "testdata"))
    args = parser.parse_args(argv)
    dlib68, meshes, groups = collect(Path(args.data))
    table = fit(dlib68, meshes)
    # Second pass without gross failures (the mesh on another face, or dlib's fit collapsed on a tiny face).
    landmarks_mesh.MESH_TO_68 = tuple(table)
    keep = [i for i, (r, m) in enumerate(zip(dlib68, meshes)) if _error(r, m) < OUTLIER]
    print(f"# {len(dlib68)} faces, {len(dlib68) - len(keep)} outliers (error / IOD >= {OUTLIER}) left out of the fit")
    table = fit([dlib68[i] for i in keep], [meshes[i] for i in keep])
    print("MESH_TO_68 = (")
    for blend in table:
        print(f"    {tuple(blend)!r},")
    print(")")
    landmarks_mesh.MESH_TO_68 = tuple(table)
    for group in GROUPS:
        errs = np.array([_error(r, m) for r, m, g in zip(dlib68, meshes, groups) if g == group])
        ok = errs[errs < OUTLIER]
        print(
            f"{group}: {len(errs)} faces, mean error / IOD {ok.mean():.4f} (median {np.median(errs):.4f}, "
            f"max {ok.max():.4f}), {len(errs) - len(ok)} outliers"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
