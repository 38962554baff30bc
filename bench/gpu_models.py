"""Latency, throughput and peak memory of the neural models, per batch size and precision.

Usage::

    .venv/bin/python bench/gpu_models.py --device cuda --batches 1,8,32 --dtypes fp32,fp16 --iters 20
    .venv/bin/python bench/gpu_models.py --device cpu --batches 1 --iters 2      # the 2-core dev box

Models (full official configs, as in production): StyleGAN2-1024 (z -> image, mapping included),
GPEN-BFR-512, AEI-Net + HEAR-Net at 256 (one AEI-Net forward then HEAR-Net on its output, per face),
IR-SE50 ArcFace at 112, pSp encoder at 256, PSGAN at 256 (batch 1 only: its attention pairs one
source with one reference), BiSeNet parsing at 512. Weights are recipe weights (``--weights recipe``,
deterministic, needs ../shared/conformance) or PyTorch's default init (``--weights init``, faster to
build): timing does not depend on the values. fp16 means CUDA autocast, as the engines run it
(``gpu_worker.engines.runtime.inference``); CPU always runs fp32, so CPU fp16 rows are skipped.

Timing: ``--warmup`` untimed iterations, then ``--iters`` timed ones between two
``torch.cuda.synchronize()``; latency = wall time per batch, throughput = images per second.
Peak memory is ``torch.cuda.max_memory_allocated`` over the timed run. A configuration whose
estimate (from the batch-1 time) exceeds ``--max-seconds`` is skipped and listed as skipped.
TF32: PyTorch leaves cuDNN convolutions on TF32 and matmuls off by default; ``--tf32 on|off`` sets
both, and the setting is printed. Targets (H100, fp16, batch 32): StyleGAN2-1024 >= 100 img/s,
GPEN-512 >= 200 faces/s, AEI-Net + HEAR-Net >= 300 faces/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TARGETS = {"stylegan2-1024": 100.0, "gpen-512": 200.0, "aei+hear-256": 300.0}  # fp16, batch 32, H100


@dataclass
class Row:
    model: str
    device: str
    dtype: str
    batch: int
    latency_ms: float | None = None
    throughput: float | None = None
    peak_mem_mib: float | None = None
    skipped: str | None = None


def build_model(name: str, weights: str, device: str):
    """The full official config of ``name`` with recipe or default-init weights, eval, on ``device``."""
    import torch

    from gpu_worker.models import build
    from tests.gpu_worker.conformance_support import conformance_io, shared_dir

    manifest = json.loads((shared_dir() / "conformance" / name / "manifest.json").read_text())
    model = build(name, **manifest["build_kwargs"])
    if weights == "recipe":
        from gpu_worker.weights.recipe import recipe_state_dict

        model.load_state_dict(recipe_state_dict(model, conformance_io(name)["weights"]["rules"]), strict=True)
    return model.to(device).eval().requires_grad_(False), torch


def make_cases(weights: str, device: str) -> dict[str, tuple[Callable[[int], Callable[[], object]], int]]:
    """name -> (factory: batch -> zero-argument step, max batch). Models are built lazily, once."""
    import torch

    cache: dict[str, object] = {}

    def model(name: str):
        if name not in cache:
            cache[name] = build_model(name, weights, device)[0]
        return cache[name]

    def rand(*shape: int):
        return torch.rand(*shape, device=device) * 2 - 1

    def stylegan2(b: int):
        g, z = model("stylegan2"), torch.randn(b, 512, device=device)
        return lambda: g([z], randomize_noise=False)[0]

    def gpen(b: int):
        g, x = model("gpen"), rand(b, 3, 512, 512)
        return lambda: g(x)[0]

    def faceshifter(b: int):
        aei, hear = model("aei_net"), model("hear_net")
        xt, z = rand(b, 3, 256, 256), torch.nn.functional.normalize(torch.randn(b, 512, device=device))

        def step():
            y, _ = aei(xt, z)
            return hear(torch.cat([y, xt - y], dim=1))

        return step

    def arcface(b: int):
        net, x = model("arcface_ir_se50"), rand(b, 3, 112, 112)
        return lambda: net(x)

    def psp(b: int):
        net, x = model("psp_encoder"), rand(b, 3, 256, 256)
        return lambda: net(x)

    def bisenet(b: int):
        net, x = model("bisenet_parsing"), torch.randn(b, 3, 512, 512, device=device)
        return lambda: net(x)[0]

    def psgan(b: int):
        from tests.gpu_worker.conformance_support import shared_dir

        net = model("psgan")
        io = torch.load(shared_dir() / "conformance" / "psgan" / "io.pt", map_location=device, weights_only=True)
        t = io["inputs"]
        args = (t["c"], t["s"], t["mask_c"].float(), t["mask_s"].float(), t["diff_c"], t["diff_s"])
        return lambda: net(*args)

    return {
        "stylegan2-1024": (stylegan2, 10**6),
        "gpen-512": (gpen, 10**6),
        "aei+hear-256": (faceshifter, 10**6),
        "arcface-112": (arcface, 10**6),
        "psp-256": (psp, 10**6),
        "psgan-256": (psgan, 1),
        "bisenet-512": (bisenet, 10**6),
    }


def time_step(step: Callable[[], object], device: str, dtype: str, warmup: int, iters: int) -> tuple[float, float]:
    """(seconds per iteration, peak MiB) of ``step`` under the engines' inference context."""
    import torch

    from gpu_worker.engines.runtime import inference

    cuda = device == "cuda"
    with inference(device, dtype):
        for _ in range(warmup):
            step()
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        for _ in range(iters):
            step()
        if cuda:
            torch.cuda.synchronize()
        seconds = (time.perf_counter() - start) / iters
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else float("nan")
    return seconds, peak


def bench(args: argparse.Namespace) -> list[Row]:
    import torch

    if args.device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("--device cuda: no CUDA device is visible")
        if args.tf32 != "default":
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = args.tf32 == "on"
        torch.backends.cudnn.benchmark = args.cudnn_benchmark
        print(f"GPU {torch.cuda.get_device_name()}; TF32 matmul={torch.backends.cuda.matmul.allow_tf32} "
              f"cudnn={torch.backends.cudnn.allow_tf32}; cudnn.benchmark={args.cudnn_benchmark}")
    else:
        torch.set_num_threads(args.threads)
        print(f"CPU, {torch.get_num_threads()} threads; fp32 only (no autocast on CPU)")
    rows: list[Row] = []
    cases = make_cases(args.weights, args.device)
    for name, (factory, max_batch) in cases.items():
        if args.models and name.split("-")[0] not in args.models and name not in args.models:
            continue
        per_image: float | None = None  # seconds per image at batch 1, for the skip estimate
        for dtype in args.dtypes:
            for batch in args.batches:
                row = Row(name, args.device, dtype, batch)
                rows.append(row)
                if args.device == "cpu" and dtype != "fp32":
                    row.skipped = "CPU runs fp32 only"
                elif dtype != "fp32" and name.startswith("psgan"):
                    row.skipped = "the engines run PSGAN in fp32 (runtime.AUTOCAST_UNSAFE)"
                elif batch > max_batch:
                    row.skipped = f"batch {max_batch} only"
                elif per_image is not None and per_image * batch * (args.iters + args.warmup) > args.max_seconds:
                    row.skipped = f"estimated {per_image * batch * (args.iters + args.warmup):.0f}s > --max-seconds"
                if row.skipped:
                    print(f"  skip {name} {dtype} b{batch}: {row.skipped}", flush=True)
                    continue
                try:
                    seconds, peak = time_step(factory(batch), args.device, dtype, args.warmup, args.iters)
                except torch.cuda.OutOfMemoryError:
                    row.skipped = "CUDA out of memory"
                    torch.cuda.empty_cache()
                    print(f"  skip {name} {dtype} b{batch}: out of memory", flush=True)
                    continue
                if batch == 1 and dtype == "fp32":
                    per_image = seconds
                row.latency_ms, row.throughput = seconds * 1000, batch / seconds
                row.peak_mem_mib = None if peak != peak else peak
                print(f"  {name:15s} {dtype} b{batch:<3d} {row.latency_ms:10.1f} ms {row.throughput:9.2f} img/s",
                      flush=True)
    return rows


def summary(rows: list[Row], device: str) -> str:
    lines = [f"{'model':15s} {'dtype':5s} {'batch':>5s} {'latency ms':>11s} {'img/s':>9s} {'peak MiB':>9s}  note"]
    for r in rows:
        if r.skipped:
            blank = f"{'-':>11s} {'-':>9s} {'-':>9s}"
            lines.append(f"{r.model:15s} {r.dtype:5s} {r.batch:5d} {blank}  skipped: {r.skipped}")
            continue
        mem = f"{r.peak_mem_mib:9.0f}" if r.peak_mem_mib is not None else f"{'-':>9s}"
        lines.append(f"{r.model:15s} {r.dtype:5s} {r.batch:5d} {r.latency_ms:11.1f} {r.throughput:9.2f} {mem}")
    if device == "cuda":
        lines.append("targets (one H100, fp16, batch 32):")
        for model, target in TARGETS.items():
            got = next((r.throughput for r in rows if r.model == model and r.dtype == "fp16" and r.batch == 32
                        and r.throughput), None)
            verdict = "not measured" if got is None else ("MET" if got >= target else "MISSED")
            lines.append(f"  {model:15s} >= {target:5.0f} img/s: {verdict}" + (f" ({got:.1f})" if got else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    p.add_argument("--batches", default="1,8,32", type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--dtypes", default="fp32,fp16", type=lambda s: s.split(","))
    p.add_argument("--iters", type=int, default=None, help="timed iterations (default 20 on CUDA, 2 on CPU)")
    p.add_argument("--warmup", type=int, default=None, help="untimed iterations (default 3 on CUDA, 1 on CPU)")
    p.add_argument("--models", type=lambda s: s.split(","), default=None,
                   help="subset, e.g. stylegan2,gpen,aei+hear,arcface,psp,psgan,bisenet")
    p.add_argument("--weights", choices=("recipe", "init"), default="recipe")
    p.add_argument("--max-seconds", type=float, default=None, help="skip configs estimated longer (CPU default 60)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads")
    p.add_argument("--tf32", choices=("default", "on", "off"), default="default")
    p.add_argument("--cudnn-benchmark", action="store_true")
    p.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = p.parse_args(argv)
    cuda = args.device == "cuda"
    args.iters = args.iters or (20 if cuda else 2)
    args.warmup = args.warmup if args.warmup is not None else (3 if cuda else 1)
    args.max_seconds = args.max_seconds or (600.0 if cuda else 60.0)
    for d in args.dtypes:
        if d not in ("fp32", "fp16", "bf16"):
            p.error(f"unknown dtype {d}")
    rows = bench(args)
    print(summary(rows, args.device))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1))


if __name__ == "__main__":
    main()
