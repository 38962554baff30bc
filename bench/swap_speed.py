"""Speed of the classical swap on one core: issue 15's point 5 (figures printed, nothing asserted).

Usage: ``.venv/bin/python bench/swap_speed.py``

- **cold**: a fresh process (``python -c``) that imports the engine, prepares one face asset and swaps it into one
  product shot: process wall time, and the first swap alone (models loaded on first use: dlib's detector, 5-point
  model and ResNet, MediaPipe's graphs);
- **warm**: in this process, after one warm-up, every product shot of ``../shared/testdata/fashion/`` three times
  with an asset already prepared: seconds and seconds per megapixel (median, max), CPU time on one thread;
- **asset preparation**: every portrait of ``../shared/testdata/makeup/`` (median, max).
Goals (issue 15): warm swap <= 1.0 s per megapixel, asset preparation <= 3 s per face.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata"
sys.path.insert(0, str(REPO))

COLD = """
import time, cv2
cv2.setNumThreads(1)
started = time.perf_counter()
from gpu_worker.engines.swap import classical
from gpu_worker.face.asset import prepare_asset
from gpu_worker.face.imageio import read_image
asset = prepare_asset(read_image({model!r}))
shot = read_image({shot!r})
t = time.perf_counter()
classical.run({{"source_asset": asset, "target": shot}}, {{}})
print(round(time.perf_counter() - t, 3), round(time.perf_counter() - started, 3))
"""


def main() -> int:
    import cv2

    from gpu_worker.engines.swap import classical
    from gpu_worker.face.asset import prepare_asset
    from gpu_worker.face.imageio import read_image

    cv2.setNumThreads(1)
    shots = sorted((TESTDATA / "fashion").iterdir()) if (TESTDATA / "fashion").is_dir() else []
    models = sorted((TESTDATA / "makeup").glob("*.png"))
    if not shots or not models:
        print(f"shared test photos not found under {TESTDATA}", file=sys.stderr)
        return 1
    code = COLD.format(model=str(models[0]), shot=str(shots[0]))
    began = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    first_swap, in_process = (float(v) for v in out.stdout.split()[-2:])
    print(f"cold: fresh process {time.perf_counter() - began:.2f} s wall (imports, models, asset, swap: "
          f"{in_process:.2f} s); first swap {first_swap:.2f} s")

    prep = []
    assets = []
    for path in models:
        image = read_image(path)
        start = time.process_time()
        assets.append(prepare_asset(image))
        prep.append(time.process_time() - start)
    print(f"asset preparation ({len(prep)} portraits, CPU s, one thread): median {np.median(prep):.2f}, "
          f"max {max(prep):.2f} (goal <= 3)")

    images = [read_image(p) for p in shots]
    classical.run({"source_asset": assets[0], "target": images[0]}, {})  # warm-up
    seconds, per_mp = [], []
    for round_ in range(3):
        for image in images:
            start = time.process_time()
            classical.run({"source_asset": assets[round_], "target": image}, {})
            spent = time.process_time() - start
            seconds.append(spent)
            per_mp.append(spent / (image.shape[0] * image.shape[1] / 1e6))
    sizes = [i.shape[0] * i.shape[1] / 1e6 for i in images]
    print(f"warm swap ({len(seconds)} swaps into {len(images)} product shots of {min(sizes):.2f}-{max(sizes):.2f}"
          f" MP): median {np.median(seconds):.2f} s, {np.median(per_mp):.2f} s/MP (max {max(per_mp):.2f}; goal <= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
