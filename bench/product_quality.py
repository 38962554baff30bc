"""Quality benchmark of the swap on product shots (offline photos only): issue 15's "how you measure".

Usage: ``.venv/bin/python bench/product_quality.py [--limit N] [--sources 10|name,name] [--engine classical]
[--out bench/out/product]``

Targets: the six product shots of ``../shared/testdata/fashion/`` (four half-body women 564x1000, two full-body
men 960x1280 with ~90 px faces) and the PASCAL VOC group photos of ``bench/face_quality.py``. Sources (virtual
models): the frontal portraits of ``../shared/testdata/makeup/`` and the tight 224 px crops of
``../shared/testdata/identities/``; ``--sources N`` takes N of them, alternating the two folders and always
including ``simswap_ljm`` (the one person with other photos: ``simswap_ljm2/3`` serve as "a different photo").

Per (source, target) pair:
- ``d_src``: dlib 128-D distance of the result face to the source photo, ``d_oth`` to a different photo of the
  source (ljm only), ``d_tgt`` to the original target face. Every descriptor is computed on an upsampled chip:
  dlib's ``get_face_chip`` at 600 px (padding 0.25, the descriptor's own alignment), then an area-average down to
  the 150 px the network takes, so a 90 px face is resampled once, smoothly, instead of being nearest-sampled;
  ``res_floor`` is the distance between the source and the source shrunk to the target's face size (what
  resolution alone costs), printed so ``d_src`` can be read against it;
- ``lm_err``: mean landmark distance between result and target over the target's inter-ocular distance;
- ``light``: std (inside the face) of the low-frequency difference of 8-bit L (OpenCV Lab) between result and
  target; low-pass = Gaussian, sigma 0.12 x eye-to-chin distance, normalised inside the face mask (hull of the
  target's landmarks, eroded by 4 % of the face size) so the background does not bleed in.
Per source, ``consistency`` = mean pairwise distance among its results across targets. A summary per target group
(half-body women, full-body men, group photos) and against the goals follows; refusals are counted by reason. The
contact sheet (source | target face | result face, 256 px each) is written in pages of six rows,
``<out>/contact_sheet_NN.png``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from face_quality import (  # noqa: E402  (also puts the repository root on sys.path)
    FACES,
    GROUP_TARGETS,
    REPO,
    crop_around,
    face_crop,
    landmark_error,
    largest,
    result_face,
)

from gpu_worker.engines.selection import ENGINE_CHOICES, choose_engine  # noqa: E402
from gpu_worker.face import models  # noqa: E402
from gpu_worker.face.asset import prepare_asset  # noqa: E402
from gpu_worker.face.detect import Face, analyze  # noqa: E402
from gpu_worker.face.embed import distance  # noqa: E402
from gpu_worker.face.errors import FaceEngineError  # noqa: E402
from gpu_worker.face.imageio import read_image, write_image  # noqa: E402

TESTDATA = FACES.parent
GOALS = {"nearer": 0.95, "dist_src": 0.50, "consistency": 0.40, "landmark_error": 0.03, "light_mean": 3.0,
         "light_max": 6.0}
CHIP = 600  # px, the upsampled chip the descriptor is measured on
ROWS_PER_PAGE = 6


@dataclass
class Source:
    name: str
    image: np.ndarray
    emb: np.ndarray | None  # None: no face found in the source photo itself
    other: np.ndarray | None = None  # a different photo of the same person, when there is one
    asset: object | None = None  # its prepared face asset (what a gallery face carries)
    asset_s: float = float("nan")


@dataclass
class Shot:
    name: str
    group: str
    image: np.ndarray
    index: int  # face_index of the target face
    face: Face
    emb: np.ndarray


@dataclass
class Pair:
    source: str
    shot: str
    group: str
    d_src: float
    d_oth: float
    d_tgt: float
    lm_err: float
    light: float
    light_skin: float
    res_floor: float
    seconds: float
    megapixels: float
    flagged: bool
    emb: np.ndarray = field(repr=False)


def chip_embedding(image: np.ndarray, face: Face) -> np.ndarray:
    """The 128-D descriptor measured on a 600 px aligned chip area-averaged to 150 px (see module doc)."""
    import cv2
    import dlib

    shape = dlib.full_object_detection(
        dlib.rectangle(*face.box), [dlib.point(int(round(x)), int(round(y))) for x, y in face.landmarks5]
    )
    chip = dlib.get_face_chip(np.ascontiguousarray(image), shape, size=CHIP, padding=0.25)
    chip = cv2.resize(chip, (150, 150), interpolation=cv2.INTER_AREA)
    return np.asarray(models.load("embedding").compute_face_descriptor(chip, 0), dtype=np.float64)


def resolution_floor(source: Source, shot: Shot) -> float:
    """Distance between the source and the source shrunk so its face is the size of the shot's face."""
    import cv2

    face = largest(source.image)
    scale = shot.face.size / face.size
    if scale >= 1:
        return 0.0
    small = cv2.resize(source.image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = analyze(small)
    return distance(chip_embedding(small, max(found, key=lambda f: f.size)), source.emb) if found else float("nan")


def light_deviation(result: np.ndarray, target: np.ndarray, face: Face, skin_only: Face | None = None) -> float:
    """Std inside the face of the low-frequency L difference (8-bit Lab), sigma 0.12 x eye-to-chin.

    With ``skin_only`` (the result's face) the eyes, brows, nose and lips of both faces are left out of the mask:
    what is left compares light on skin with light on skin, not the model's brows with the target's."""
    import cv2

    points = face.landmarks68 if face.landmarks68 is not None else face.landmarks5
    mask = np.zeros(target.shape[:2], np.uint8)
    if face.landmarks68 is not None:
        cv2.fillConvexPoly(mask, cv2.convexHull(points.astype(np.int32)), 1)
        chin = face.landmarks68[8]
    else:  # 5-point mode: the box's ellipse, chin at the box bottom
        left, top, right, bottom = face.box
        cv2.ellipse(mask, ((left + right) // 2, (top + bottom) // 2), ((right - left) // 2, (bottom - top) // 2),
                    0, 0, 360, 1, -1)
        chin = np.array([(left + right) / 2, bottom])
    erode = max(1, int(face.size * 0.04))
    mask = cv2.erode(mask, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
    if skin_only is not None and face.landmarks68 is not None and skin_only.landmarks68 is not None:
        from gpu_worker.face.mask import feature_mask

        for lm in (face.landmarks68, skin_only.landmarks68):
            mask[feature_mask(mask.shape, lm, grow=0.08) > 0] = 0
    mask = mask.astype(np.float32)
    sigma = 0.12 * float(np.hypot(*(np.mean(face.eye_centres, axis=0) - chin)))

    def low(image: np.ndarray) -> np.ndarray:
        lum = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(np.float32)
        return cv2.GaussianBlur(lum * mask, (0, 0), sigma) / np.maximum(cv2.GaussianBlur(mask, (0, 0), sigma), 1e-6)

    diff = (low(result) - low(target))[mask > 0]
    return float(diff.std()) if diff.size else float("nan")


def load_sources(spec: str) -> list[Source]:
    """``spec``: a count (alternating makeup / identities, ljm always in) or comma-separated name parts."""
    makeup = sorted((TESTDATA / "makeup").glob("*.png"))
    idents = sorted(p for p in (TESTDATA / "identities").glob("*.jpg") if not p.stem.startswith("simswap_ljm"))
    if spec.isdigit():
        count = max(1, int(spec))
        n_ident = max(0, count // 2 - 1)
        pick = lambda paths, n: [paths[round(i * len(paths) / n)] for i in range(n)] if n else []  # noqa: E731
        paths = [TESTDATA / "identities" / "simswap_ljm.jpg"]
        paths += pick(makeup, count - 1 - n_ident) + pick(idents, n_ident)
    else:
        wanted = [w.strip() for w in spec.split(",") if w.strip()]
        every = makeup + sorted((TESTDATA / "identities").glob("*.jpg"))
        paths = [p for p in every if any(w in p.stem for w in wanted)]
    sources = []
    for path in paths:
        image = read_image(path)
        found = analyze(image)
        emb = chip_embedding(image, max(found, key=lambda f: f.size)) if found else None
        source = Source(path.stem, image, emb)
        try:
            start = time.process_time()
            source.asset = prepare_asset(image)
            source.asset_s = time.process_time() - start
        except FaceEngineError as exc:
            print(f"{path.stem}: no face asset ({exc.code}: {exc.message})")
        if path.stem == "simswap_ljm":
            other = read_image(TESTDATA / "identities" / "simswap_ljm2.jpg")
            source.other = chip_embedding(other, largest(other))
        sources.append(source)
    return sources


def load_shots(groups: int) -> list[Shot]:
    shots = []
    for path in sorted((TESTDATA / "fashion").iterdir()):
        image = read_image(path)
        group = "half-body women" if image.shape[0] == 1000 else "full-body men"
        faces = analyze(image)
        index = int(np.argmax([f.size for f in faces]))
        name = path.stem.removeprefix("catvton_")[:18]
        shots.append(Shot(name, group, image, index, faces[index], chip_embedding(image, faces[index])))
    for photo, index in GROUP_TARGETS[:groups]:
        image = read_image(FACES / photo)
        face = analyze(image)[index]
        shots.append(Shot(f"{photo[:-4]}#{index}", "group photos", image, index, face, chip_embedding(image, face)))
    return shots


def measure(swap, source: Source, shot: Shot) -> tuple[Pair | None, str, np.ndarray | None]:
    """One swap and its figures; (None, reason, None) when the engine refuses."""
    start = time.process_time()
    try:
        inputs = {"source": source.image, "target": shot.image}
        if source.asset is not None:
            inputs["source_asset"] = source.asset
        result = swap.run(inputs, {"face_index": shot.index})
    except FaceEngineError as exc:
        return None, exc.code, None
    seconds = time.process_time() - start
    face, _redetected = result_face(result.image, shot.face)
    emb = chip_embedding(result.image, face)
    pair = Pair(
        source.name, shot.name, shot.group,
        d_src=distance(emb, source.emb) if source.emb is not None else float("nan"),
        d_oth=distance(emb, source.other) if source.other is not None else float("nan"),
        d_tgt=distance(emb, shot.emb),
        lm_err=landmark_error(face, shot.face),
        light=light_deviation(result.image, shot.image, shot.face),
        light_skin=light_deviation(result.image, shot.image, shot.face, skin_only=face),
        res_floor=resolution_floor(source, shot) if source.emb is not None else float("nan"),
        seconds=seconds,
        megapixels=shot.image.shape[0] * shot.image.shape[1] / 1e6,
        flagged=bool(result.metadata.get("consistency", {}).get("flagged", False)),
        emb=emb,
    )
    return pair, "", result.image


def sheet_row(source: Source, shot: Shot, result: np.ndarray) -> np.ndarray:
    import cv2

    found = analyze(source.image)
    src = (face_crop(source.image, max(found, key=lambda f: f.size), 256) if found
           else cv2.resize(source.image, (256, 256), interpolation=cv2.INTER_CUBIC))
    tiles = [src, _zoom(shot.image, shot.face), _zoom(result, shot.face)]
    row = np.hstack(tiles)
    cv2.putText(row, f"{source.name[:26]} -> {shot.name}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1)
    return row


def _zoom(image: np.ndarray, face: Face) -> np.ndarray:
    """The face crop upscaled (cubic) to 256 px: small faces are shown bigger than they are."""
    import cv2

    crop = crop_around(image, face, 0.35)
    return cv2.resize(crop, (256, 256), interpolation=cv2.INTER_CUBIC if crop.shape[0] < 256 else cv2.INTER_AREA)


def print_summary(pairs: list[Pair], refusals: dict[str, list[str]], n_pairs: int) -> None:
    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    print(f"\nattempted pairs: {n_pairs}; swapped: {len(pairs)}; refused: "
          + (", ".join(f"{code} x{len(v)}" for code, v in sorted(refusals.items())) or "none"))
    for code, which in sorted(refusals.items()):
        print(f"  {code}: {', '.join(sorted(set(which)))}")
    print(f"\n{'group':>16} {'n':>3} {'nearer':>7} {'d_src':>6} {'floor':>6} {'d_tgt':>6} {'lm_err':>7} "
          f"{'light':>6} {'l_max':>6} {'cons':>6} {'cpu s':>6}")
    for group in ("half-body women", "full-body men", "product shots", "group photos", "all"):
        rows = [p for p in pairs if group in ("all", p.group) or (group == "product shots" and "body" in p.group)]
        if rows:
            _group_line(group, rows)
    consistency = _consistency(pairs)
    if not pairs:
        print("no swap succeeded")
        return
    a = np.array([(p.d_src, p.d_tgt, p.lm_err, p.light) for p in pairs])
    ok_src = ~np.isnan(a[:, 0])
    nearer = float((a[ok_src, 0] < a[ok_src, 1]).mean()) if ok_src.any() else float("nan")
    cons = float(np.mean(list(consistency.values()))) if consistency else float("nan")
    print()
    print(f"{verdict(not refusals)} every target with a visible face swapped: {len(pairs)}/{n_pairs}")
    print(f"{verdict(nearer >= GOALS['nearer'])} nearer the source than the target: {nearer:.0%} (goal >= 95%)")
    d_src = float(np.nanmean(a[:, 0]))
    print(f"{verdict(d_src <= GOALS['dist_src'])} mean distance to source: {d_src:.3f} (goal <= 0.50)")
    print(f"{verdict(cons <= GOALS['consistency'])} consistency (mean over sources of the mean pairwise distance "
          f"of its results): {cons:.3f} (goal <= 0.40)")
    lm = float(a[:, 2].mean())
    print(f"{verdict(lm <= GOALS['landmark_error'])} landmark error / IOD: {lm:.4f} (goal <= 0.03)")
    light_mean, light_max = float(np.nanmean(a[:, 3])), float(np.nanmax(a[:, 3]))
    light_ok = light_mean <= GOALS["light_mean"] and light_max <= GOALS["light_max"]
    print(f"{verdict(light_ok)} lighting deviation: mean {light_mean:.2f}, max {light_max:.2f}, "
          f"{int((a[:, 3] > GOALS['light_max']).sum())} pairs > 6 (goal mean <= 3, none > 6)")
    per_mp = [p.seconds / p.megapixels for p in pairs]
    print(f"speed (warm, asset prepared, one thread): median {np.median(per_mp):.2f} s/MP, max {max(per_mp):.2f} "
          f"s/MP (goal <= 1.0); flagged by the engine's own consistency check: {sum(p.flagged for p in pairs)}")
    skin = np.array([p.light_skin for p in pairs])
    print(f"     lighting deviation on skin only (features of both faces left out): mean {np.nanmean(skin):.2f}, "
          f"max {np.nanmax(skin):.2f}, {int((skin > GOALS['light_max']).sum())} pairs > 6")
    print("consistency per source: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(consistency.items())))


def _group_line(group: str, rows: list[Pair]) -> None:
    a = np.array([(p.d_src, p.d_tgt, p.lm_err, p.light, p.res_floor, p.seconds) for p in rows])
    valid = ~np.isnan(a[:, 0])
    nearer = float((a[valid, 0] < a[valid, 1]).mean()) if valid.any() else float("nan")
    cons = list(_consistency(rows).values())
    print(f"{group:>16} {len(rows):>3} {nearer:>7.0%} {np.nanmean(a[:, 0]):6.3f} {np.nanmean(a[:, 4]):6.3f} "
          f"{a[:, 1].mean():6.3f} {a[:, 2].mean():7.4f} {np.nanmean(a[:, 3]):6.2f} {np.nanmax(a[:, 3]):6.2f} "
          f"{np.mean(cons) if cons else float('nan'):6.3f} {np.median(a[:, 5]):6.2f}")


def _consistency(pairs: list[Pair]) -> dict[str, float]:
    out = {}
    for name in sorted({p.source for p in pairs}):
        embs = [p.emb for p in pairs if p.source == name]
        if len(embs) >= 2:
            out[name] = float(np.mean([distance(x, y) for x, y in combinations(embs, 2)]))
    return out


def write_sheets(rows: list[np.ndarray], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("contact_sheet_*.png"):
        old.unlink()
    paths = []
    for page in range(0, len(rows), ROWS_PER_PAGE):
        path = out / f"contact_sheet_{page // ROWS_PER_PAGE + 1:02d}.png"
        write_image(path, np.vstack(rows[page : page + ROWS_PER_PAGE]))
        paths.append(path)
    return paths


def main() -> int:
    import cv2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="stop after N pairs (0 = all)")
    parser.add_argument("--sources", default="10", help="how many sources, or comma-separated name parts")
    parser.add_argument("--groups", type=int, default=len(GROUP_TARGETS), help="how many group-photo targets")
    parser.add_argument("--engine", choices=ENGINE_CHOICES, default="classical", help="which swap engine to measure")
    parser.add_argument("--out", default=str(REPO / "bench" / "out" / "product"))
    args = parser.parse_args()
    cv2.setNumThreads(1)
    if not (TESTDATA / "fashion").is_dir():
        print(f"shared test photos not found at {TESTDATA}", file=sys.stderr)
        return 1
    began = time.monotonic()
    swap, reason = choose_engine("swap", engine=args.engine)
    print(f"engine: {swap.NAME}:{swap.VERSION} ({reason}); descriptor on a {CHIP} px chip")
    sources, shots = load_sources(args.sources), load_shots(args.groups)
    prep = [s.asset_s for s in sources if s.asset is not None]
    if prep:
        print(f"face asset preparation (cpu s, one thread): median {np.median(prep):.2f}, max {max(prep):.2f} "
              f"(goal <= 3)")
    print(f"sources: {', '.join(s.name for s in sources)}\ntargets: {', '.join(s.name for s in shots)}")
    print(f"{'source':>28} {'target':>20} {'d_src':>6} {'d_oth':>6} {'d_tgt':>6} {'floor':>6} {'lm_err':>7} "
          f"{'light':>6} {'cpu s':>6}")
    pairs, refusals, rows, attempted = [], {}, [], 0
    for source in sources:
        for shot in shots:
            if args.limit and attempted >= args.limit:
                break
            attempted += 1
            pair, code, result = measure(swap, source, shot)
            if pair is None:
                refusals.setdefault(code, []).append(source.name)
                print(f"{source.name[:28]:>28} {shot.name:>20}  refused: {code}", flush=True)
                continue
            pairs.append(pair)
            rows.append(sheet_row(source, shot, result))
            print(f"{pair.source[:28]:>28} {pair.shot:>20} {pair.d_src:6.3f} {pair.d_oth:6.3f} {pair.d_tgt:6.3f} "
                  f"{pair.res_floor:6.3f} {pair.lm_err:7.4f} {pair.light:6.2f} {pair.seconds:6.2f}", flush=True)
    print_summary(pairs, refusals, attempted)
    paths = write_sheets(rows, Path(args.out))
    print(f"contact sheets: {len(paths)} pages of {ROWS_PER_PAGE} rows (source | target face | result face) in "
          f"{args.out}")
    print(f"run time: {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
