"""Benchmark of the classical virtual-face engines (issue 16): generated candidates and second generation.

Usage: ``.venv/bin/python bench/virtual_faces.py [--requests 20] [--candidates 2] [--pairs 20] [--size 1024]
[--out bench/out/virtual]``

Pool: the 20 portraits of ``../shared/testdata/makeup/`` and the SimSwap crops of ``identities/`` (``ljm2``/``ljm3``
left out: other photos of ``ljm``). Every pool face is also "a face the gallery already holds".

Generate: request r blends three pool faces (deterministic, spread over the pool), ``--candidates`` seeds each.
- ``accepted``: share of candidates the engine returns (the rest: ``identity_check_failed``);
- ``nearest real``: dlib distance of each candidate to the nearest pool face (contributors and the rest);
- ``spread``: mean pairwise distance among the candidates of one request;
- ``sharpness``: variance of the Laplacian on the face's skin (outline minus eyes, brows, lips) of the
  candidate over the mean of its contributors' FFHQ-aligned crops at the same size (goal >= 0.8);
- ``copied bg``: share of the textured 16 px background blocks (outside the face, not the person: hair and
  shoulders are the framing contributor's by design) that match a block of a contributor's crop at the same
  framing and place within 3 levels mean absolute difference (a copied background; goal 0).
Second generation: pair p of two pool faces, ``weight_a`` alternating 0.3 / 0.7, age band alternating.
- distances to each parent (goal both <= 0.75, the heavier-weighted parent nearer);
- child ratios on the result's mesh vs the parents' mean: inter-ocular distance / face width (children
  larger) and lower face (subnasale-chin) / face height (nasion-chin) (children smaller).
Contact sheets: ``<out>/generate_NN.png`` (contributors | candidates), ``<out>/children_NN.png`` (parent A |
parent B | child).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import combinations
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gpu_worker.engines.generate import classical as generate  # noqa: E402
from gpu_worker.engines.generate.morph import align_all, laplacian_variance, skin_region  # noqa: E402
from gpu_worker.engines.generate.studio import zoom_about_centre, zoom_points  # noqa: E402
from gpu_worker.engines.second_generation import classical as second  # noqa: E402
from gpu_worker.face.detect import Face, analyze  # noqa: E402
from gpu_worker.face.embed import distance, embedding  # noqa: E402
from gpu_worker.face.errors import FaceEngineError  # noqa: E402
from gpu_worker.face.imageio import read_image, write_image  # noqa: E402
from gpu_worker.face.mesh import dense_points, outline_polygon  # noqa: E402
from gpu_worker.face.segment import person_mask  # noqa: E402

TESTDATA = REPO.parent / "shared" / "testdata"
GOALS = {"sharpness": 0.8, "copied_bg": 0.0, "parent_max": 0.75}


def pool() -> list[tuple[str, np.ndarray, Face, np.ndarray]]:
    paths = sorted((TESTDATA / "makeup").glob("*.png")) + sorted(
        p for p in (TESTDATA / "identities").glob("*.jpg") if p.stem not in ("simswap_ljm2", "simswap_ljm3"))
    out = []
    for path in paths:
        image = read_image(path)
        found = analyze(image)
        if not found:
            print(f"{path.stem}: no face, left out")
            continue
        face = max(found, key=lambda f: f.size)
        out.append((path.stem, image, face, embedding(image, face)))
    return out


def copied_share(result: np.ndarray, crops: list[np.ndarray], face_lm: np.ndarray, block: int = 16) -> float:
    import cv2

    size = result.shape[0]
    face = np.zeros((size, size), np.uint8)
    cv2.fillPoly(face, [outline_polygon(dense_points(face_lm))], 255)
    face = cv2.dilate(face, np.ones((block * 2 + 1, block * 2 + 1), np.uint8))
    person = person_mask(result)  # hair and shoulders are the framing contributor's by design, not background
    copied = total = 0
    for y in range(0, size - block + 1, block):
        for x in range(0, size - block + 1, block):
            if face[y:y + block, x:x + block].any() or person[y:y + block, x:x + block].mean() > 0.5:
                continue
            patch = result[y:y + block, x:x + block].astype(np.int16)
            if patch.std() < 4:  # flat (paper, sky): not evidence of copying
                continue
            total += 1
            if any(np.abs(patch - c[y:y + block, x:x + block].astype(np.int16)).mean() < 3 for c in crops):
                copied += 1
    return copied / total if total else 0.0


def child_ratios(face: Face) -> tuple[float, float]:
    lm = face.landmarks68
    iod = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
    width = float(np.linalg.norm(lm[16] - lm[0]))
    lower = float(np.linalg.norm(lm[8] - lm[33]))
    height = float(np.linalg.norm(lm[8] - lm[27]))
    return iod / width, lower / height


def tile(image: np.ndarray, size: int = 256) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    s = size / max(h, w)
    small = cv2.resize(image, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    out = np.zeros((size, size, 3), np.uint8)
    out[:small.shape[0], :small.shape[1]] = small
    return out


def write_pages(rows: list[np.ndarray], out: Path, stem: str, per_page: int = 4) -> None:
    width = max(r.shape[1] for r in rows)
    padded = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    for page in range(0, len(padded), per_page):
        write_image(out / f"{stem}_{page // per_page + 1:02d}.png", np.vstack(padded[page:page + per_page]))


def bench_generate(faces, requests: int, candidates: int, size: int, out: Path) -> None:
    n = len(faces)
    accepted, nearest, spreads, sharp, copied, seconds = [], [], [], [], [], []
    rows = []
    for r in range(requests):
        picks = [(r * 7) % n, (r * 7 + 5) % n, (r * 7 + 11) % n]
        chosen = [faces[i] for i in picks]
        inputs = {f"face_{i}": c[1] for i, c in enumerate(chosen)}
        aligned = align_all([c[1] for c in chosen], [c[2] for c in chosen], size)
        embs, images = [], []
        for seed in range(candidates):
            start = time.process_time()
            try:
                result = generate.run(inputs, {"seed": seed, "size": size})
            except FaceEngineError as exc:
                accepted.append(False)
                print(f"request {r:2d} seed {seed}: {exc.code} ({exc.message[:80]})")
                continue
            seconds.append(time.process_time() - start)
            accepted.append(True)
            emb = np.asarray(result.metadata["embedding"])
            near = min((distance(emb, f[3]), f[0]) for f in faces)
            nearest.append(near[0])
            found = analyze(result.image)
            if found:
                lm = max(found, key=lambda f: f.size).landmarks68
                skin = skin_region(result.image.shape[:2], lm)
                # The contributors at the candidate's framing (the engine zooms tight photos in).
                zoom = result.metadata["framing"]["zoom"]
                framed = [(zoom_about_centre(a.image, zoom), zoom_points(a.lm68, zoom, size)) for a in aligned]
                ref = np.mean([laplacian_variance(im, skin_region(im.shape[:2], pts)) for im, pts in framed])
                sharp.append(laplacian_variance(result.image, skin) / ref)
                copied.append(copied_share(result.image, [im for im, _ in framed], lm))
            embs.append(emb)
            images.append(result.image)
            print(f"request {r:2d} seed {seed}: nearest real {near[0]:.3f} ({near[1][:24]}), "
                  f"contributors {[round(v, 3) for v in result.metadata['distances'].values()]}, "
                  f"sharpness {sharp[-1] if sharp else float('nan'):.2f}, copied bg "
                  f"{copied[-1] if copied else float('nan'):.2f}, {seconds[-1]:.1f} s", flush=True)
        if len(embs) > 1:
            spreads.append(float(np.mean([distance(a, b) for a, b in combinations(embs, 2)])))
        rows.append(np.hstack([tile(c[1]) for c in chosen] + [tile(i) for i in images]))
    write_pages(rows, out, "generate")
    acc = float(np.mean(accepted)) if accepted else 0.0
    print(f"\ngenerate: {len(accepted)} candidates asked, accepted {acc:.0%}; nearest real face min "
          f"{np.min(nearest):.3f}, median {np.median(nearest):.3f} (engine margin {generate.MIN_DISTANCE}); "
          f"spread within a request mean {np.mean(spreads):.3f} (min {np.min(spreads):.3f}); sharpness vs "
          f"contributors median {np.median(sharp):.2f}, min {np.min(sharp):.2f} (goal >= {GOALS['sharpness']}); "
          f"copied background blocks mean {np.mean(copied):.2f}, max {np.max(copied):.2f} (goal 0); "
          f"{np.median(seconds):.1f} s CPU per candidate at {size} px")


def bench_children(faces, pairs: int, size: int, out: Path) -> None:
    n = len(faces)
    rows, d_max, heavier_nearer, ratios = [], [], [], []
    for p in range(pairs):
        a, b = faces[(p * 3) % n], faces[(p * 3 + 8) % n]
        weight_a = 0.3 if p % 2 else 0.7
        band = "3-6" if p % 4 < 2 else "7-12"
        try:
            result = second.run({"parent_a": a[1], "parent_b": b[1]},
                                {"weight_a": weight_a, "age_band": band, "size": size})
        except FaceEngineError as exc:
            print(f"pair {p:2d}: {exc.code} ({exc.message[:80]})")
            continue
        da, db = result.metadata["distances"]["parent_a"], result.metadata["distances"]["parent_b"]
        d_max.append(max(da, db))
        heavier_nearer.append((da < db) == (weight_a > 0.5))
        found = analyze(result.image)
        if found:
            child = child_ratios(max(found, key=lambda f: f.size))
            parents = np.mean([child_ratios(a[2]), child_ratios(b[2])], axis=0)
            ratios.append((child[0] / parents[0], child[1] / parents[1]))
        print(f"pair {p:2d} ({a[0][:18]} {weight_a:.1f} + {b[0][:18]}, {band}): d_a {da:.3f} d_b {db:.3f} "
              f"nearer {result.metadata['resemblance']['nearer']}; eyes/width x{ratios[-1][0]:.2f}, "
              f"lower/height x{ratios[-1][1]:.2f}", flush=True)
        rows.append(np.hstack([tile(a[1]), tile(b[1]), tile(result.image)]))
    write_pages(rows, out, "children", per_page=6)
    r = np.array(ratios)
    print(f"\nsecond generation: {len(d_max)} children; max parent distance mean {np.mean(d_max):.3f}, "
          f"{int((np.array(d_max) > GOALS['parent_max']).sum())} over {GOALS['parent_max']}; heavier parent nearer "
          f"{np.mean(heavier_nearer):.0%}; child/parents inter-ocular/face width x{r[:, 0].mean():.3f} "
          f"(target > 1), lower face/face height x{r[:, 1].mean():.3f} (target < 1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--candidates", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "virtual"))
    args = parser.parse_args()
    if not (TESTDATA / "makeup").is_dir():
        print(f"skipped: {TESTDATA} is not there")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    faces = pool()
    if args.requests:
        bench_generate(faces, args.requests, args.candidates, args.size, out)
    if args.pairs:
        bench_children(faces, args.pairs, args.size, out)
    print(f"contact sheets in {out}; run time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
