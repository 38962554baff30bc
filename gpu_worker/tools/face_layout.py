"""Derive Gasang's canonical frontal face layout from MediaPipe meshes: ``python -m gpu_worker.tools.face_layout``.

Reads the frontal portraits of ``../shared/testdata/makeup/`` (or ``--faces DIR``), fits the 478-point mesh on each,
aligns the meshes to each other (3-D similarity), averages them, finds each vertex's mirror partner and makes the mean
exactly left/right symmetric, then writes ``gpu_worker/face/data/face_layout.npz``:

- ``shape``: (478, 3) float32, the mean frontal head, eye centres at (+-0.5, 0, .), x to the image right, y down,
  z away from the camera (MediaPipe's sign), inter-ocular distance 1;
- ``mirror``: (478,) int16, the vertex on the other side of the face (midline vertices map to themselves);
- ``triangles``: (T, 3) int16, a Delaunay triangulation of the frontal projection.

It is our own layout (the mean of our own measurements), not MediaPipe's canonical model. Run it again only to
change the layout, and bump ``gpu_worker.face.asset.ASSET_VERSION`` when you do (stored assets use it).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "face" / "data" / "face_layout.npz"
DEFAULT_FACES = Path(__file__).resolve().parents[3] / "shared" / "testdata" / "makeup"


def _eye_centres(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from gpu_worker.face.landmarks_mesh import to68

    lm = to68(mesh)
    return lm[36:42].mean(0), lm[42:48].mean(0)


def _normalise(mesh: np.ndarray) -> np.ndarray:
    """Eyes level at y = 0, x = +-0.5; z scaled with x and y."""
    left, right = _eye_centres(mesh)
    angle = np.arctan2(*(right - left)[::-1])
    c, s = np.cos(-angle), np.sin(-angle)
    rot = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    iod = float(np.hypot(*(right - left)))
    mid = np.array([*(left + right) / 2, mesh[:, 2].mean()])
    return ((mesh - mid) @ rot.T) / iod


def derive(faces_dir: Path) -> dict[str, np.ndarray]:
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial import Delaunay
    from scipy.spatial.distance import cdist

    from gpu_worker.face.detect import analyze
    from gpu_worker.face.imageio import read_image
    from gpu_worker.face.layout import umeyama3

    meshes = []
    for path in sorted(faces_dir.glob("*.png")) + sorted(faces_dir.glob("*.jpg")):
        faces = [f for f in analyze(read_image(path)) if f.mesh is not None and abs(f.pose.yaw) < 15]
        if faces:
            meshes.append(_normalise(max(faces, key=lambda f: f.size).mesh))
    if len(meshes) < 5:
        raise SystemExit(f"need at least 5 frontal faces, found {len(meshes)} in {faces_dir}")
    mean = meshes[0]
    for _ in range(3):  # generalised Procrustes: align all to the running mean
        aligned = []
        for m in meshes:
            scale, rot, t = umeyama3(m, mean)
            aligned.append(scale * m @ rot.T + t)
        mean = _normalise(np.mean(aligned, axis=0))
    mirrored = mean * [-1, 1, 1]
    partner = linear_sum_assignment(cdist(mean, mirrored))[1]
    bad = int((partner[partner] != np.arange(len(mean))).sum())
    if bad:
        raise SystemExit(f"mirror matching is not an involution for {bad} vertices")
    symmetric = (mean + mirrored[partner]) / 2
    symmetric = _normalise(symmetric)
    tri = Delaunay(symmetric[:, :2]).simplices
    print(f"{len(meshes)} faces, {len(tri)} triangles, midline vertices {(partner == np.arange(len(mean))).sum()}")
    return {
        "shape": symmetric.astype(np.float32),
        "mirror": partner.astype(np.int16),
        "triangles": tri.astype(np.int16),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces", type=Path, default=DEFAULT_FACES)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    layout = derive(args.faces)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **layout)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
