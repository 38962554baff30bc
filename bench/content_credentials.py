"""Cost of C2PA content credentials (issue 18): bytes added and milliseconds per signed 1024x1024 output.

Usage: ``.venv/bin/python bench/content_credentials.py [--runs 20]``

Signs a 1024x1024 PNG and JPEG (a product shot of ``../shared/testdata/fashion/`` resized, or a synthetic picture
when that folder is missing) as an edit with its product shot as ingredient, and as a generated face, with a
throwaway P-256 certificate made here (ES256, no time-stamp authority: a TSA adds a network round trip and ~6 KB).
Prints the median and max signing time, the time to read and validate one back, and the bytes the manifest adds.
Figures only, nothing asserted.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTDATA = REPO.parent / "shared" / "testdata" / "fashion"
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from gpu_worker import content_credentials  # noqa: E402
from gpu_worker.spec import SOURCE_TYPE_COMPOSITE, SOURCE_TYPE_GENERATED  # noqa: E402
from tests.gpu_worker.test_content_credentials import make_pki  # noqa: E402  (the tests' throwaway certificates)


def picture() -> np.ndarray:
    shots = sorted(p for p in TESTDATA.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if shots:
        return np.asarray(Image.open(shots[0]).convert("RGB").resize((1024, 1024)))
    y, x = np.mgrid[0:1024, 0:1024]
    noise = np.random.default_rng(0).integers(0, 24, (1024, 1024, 3))
    return (np.stack([x % 256, y % 256, (x + y) % 256], axis=2) + noise).clip(0, 255).astype(np.uint8)


def encode(image: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt, **({"compress_level": 6} if fmt == "PNG" else {"quality": 92}))
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pki = make_pki(Path(folder), "bench")
        config = content_credentials.signer_from_env({content_credentials.CERT_ENV: pki["cert"],
                                                      content_credentials.KEY_ENV: pki["key"]})
    image = picture()
    shot = encode(np.asarray(Image.fromarray(image).resize((768, 1024))), "JPEG")
    print(f"c2pa-python {content_credentials._library().__version__}, ES256, {args.runs} runs each, 1024x1024")
    for fmt, mime in (("PNG", "image/png"), ("JPEG", "image/jpeg")):
        data = encode(image, fmt)
        for label, kind, source_type, ingredient in (
            ("edit + ingredient", "pipeline", SOURCE_TYPE_COMPOSITE, shot),
            ("generated face", "generate_face", SOURCE_TYPE_GENERATED, None),
        ):
            job = {"kind": kind, "job_id": "0b7e5a0c-bench", "agent": "swap:1.0 → restore:1.1",
                   "source_type": source_type, "ingredient": ingredient, "ingredient_mime": "image/jpeg"}
            content_credentials.sign(data, mime, config=config, **job)  # warm-up (library load)
            times, signed = [], b""
            for _ in range(args.runs):
                started = time.perf_counter()
                signed = content_credentials.sign(data, mime, config=config, **job)
                times.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            state = content_credentials.read(signed, mime, trust_anchors=pki["ca"]).state
            read_ms = (time.perf_counter() - started) * 1000
            added = len(signed) - len(data)
            print(f"{fmt:4} {label:18} sign {statistics.median(times):6.1f} ms median, {max(times):6.1f} max; "
                  f"validate {read_ms:5.1f} ms ({state}); +{added} bytes on {len(data)} "
                  f"({100 * added / len(data):.2f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
