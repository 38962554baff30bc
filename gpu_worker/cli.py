"""Command line for humans and benchmarks: ``python -m gpu_worker <capability> ... [--engine auto|classical|neural]``.

``--engine`` goes through ``gpu_worker.engines.selection.choose_engine``, the worker's own choice: ``classical``
(the default here), ``neural`` (fails when its weights or a device are missing) or ``auto`` (neural when it
can run). Exit codes: 0 = image written; 2 = bad input or refused result (one line ``error: <code>: <reason>``
on stderr, nothing written); 3 = ``--engine neural`` cannot run (one line naming the missing weights or
device); argparse usage errors also exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from gpu_worker.engines.selection import ENGINE_CHOICES


def _face_choice(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--face-index", type=int, help="0 = leftmost face")
    group.add_argument(
        "--face", choices=["largest", "similar"], help="largest (default) or most similar to --reference-face"
    )
    p.add_argument("--detector", choices=["hog", "mmod"], default=None)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gpu_worker", description="Gasang face engines.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("models", help="weight files: list | install NAME --from SRC | verify | convert-ada (see --help)")

    p = sub.add_parser("swap", help="put the source (virtual model) face into the target photo")
    p.add_argument("--source", required=True)
    p.add_argument("--target", required=True)
    p.add_argument("--reference-face", help="photo of the person to replace (with --face similar)")
    p.add_argument("--restore", type=float, default=0.0, help="restore strength 0..1 after the swap")
    _face_choice(p)

    p = sub.add_parser("restore", help="enhance a face and paste it back")
    p.add_argument("--image", required=True)
    p.add_argument("--strength", type=float, default=0.6)
    p.add_argument("--upscale", type=int, choices=[1, 2, 4], default=1)
    p.add_argument("--all-faces", action="store_true")
    _face_choice(p)

    p = sub.add_parser("makeup", help="transfer makeup from a reference face to the target face")
    p.add_argument("--target", required=True)
    p.add_argument("--reference", required=True, help="face photo wearing the makeup")
    p.add_argument("--strength", type=float, default=0.8)
    _face_choice(p)

    p = sub.add_parser("generate", help="morph K>=3 gallery faces into a new identity (1024 px)")
    p.add_argument("--faces", nargs="+", required=True)
    p.add_argument("--weights", nargs="+", type=float)
    p.add_argument("--seed", type=int, default=0, help="picks the new face's proportion edits")
    p.add_argument("--size", type=int, choices=[256, 512, 1024], default=1024)

    p = sub.add_parser("second-generation", help="predict a child face from two parents")
    p.add_argument("--parent-a", required=True)
    p.add_argument("--parent-b", required=True)
    p.add_argument("--sex", choices=["girl", "boy"])
    p.add_argument("--weight-a", type=float, default=0.5, help="share of parent A (0..1)")
    p.add_argument("--age-band", choices=["3-6", "7-12"], default="3-6", help="the child's age")
    p.add_argument("--size", type=int, choices=[256, 512, 1024], default=1024)

    for name, p in sub.choices.items():
        if name == "models":
            continue
        p.add_argument("--engine", choices=ENGINE_CHOICES, default="classical",
                       help="classical (default), neural (needs installed weights and a GPU) or auto")
        p.add_argument("--out", required=True, help="output image (.png, .jpg, .webp)")
        p.add_argument("--metadata", help="also write the metadata JSON here")
    return parser


def _face_params(args: argparse.Namespace) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if args.face_index is not None:
        params["face_index"] = args.face_index
    if args.face:
        params["face"] = args.face
    if args.detector:
        params["detector"] = args.detector
    return params


def plan(args: argparse.Namespace) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(engine name, {input name: path}, params) for parsed arguments."""
    if args.command == "swap":
        paths = {"source": args.source, "target": args.target}
        if args.reference_face:
            paths["reference"] = args.reference_face
        return "swap", paths, {**_face_params(args), "restore": args.restore}
    if args.command == "restore":
        params = {**_face_params(args), "strength": args.strength, "upscale": args.upscale}
        if args.all_faces:
            params["all_faces"] = True
        return "restore", {"image": args.image}, params
    if args.command == "makeup":
        return (
            "makeup",
            {"target": args.target, "reference": args.reference},
            {**_face_params(args), "strength": args.strength},
        )
    if args.command == "generate":
        params: dict[str, Any] = {"size": args.size, "seed": args.seed}
        if args.weights:
            params["weights"] = args.weights
        return "generate", {f"face_{i}": path for i, path in enumerate(args.faces)}, params
    params = {"weight_a": args.weight_a, "size": args.size, "age_band": args.age_band}
    if args.sex:
        params["sex"] = args.sex
    return "second_generation", {"parent_a": args.parent_a, "parent_b": args.parent_b}, params


# The job kind whose provenance a command's output has (gpu_worker.spec.source_type, content credentials).
COMMAND_KINDS = {"swap": "swap", "restore": "restore", "makeup": "makeup", "generate": "generate_face",
                 "second-generation": "second_generation"}
OUTPUT_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def encode_output(out: Path, image, *, command: str, engine, product_shot: str | None, signer) -> bytes:
    """The output's bytes with provenance: XMP (provenance.py) and, with a signer, C2PA content credentials."""
    from gpu_worker import content_credentials, provenance
    from gpu_worker.face.imageio import as_rgb
    from gpu_worker.spec import source_type

    kind, job_id, agent = COMMAND_KINDS[command], f"cli-{uuid.uuid4()}", f"{engine.NAME}:{engine.VERSION}"
    mime = OUTPUT_MIME[out.suffix.lower()]
    xmp = provenance.xmp_packet(source_type=source_type(kind), job_id=job_id, engine=agent, engine_version=agent)
    data = provenance.encode(as_rgb(image), xmp, mime)
    shot = Path(product_shot).read_bytes() if product_shot else None
    return content_credentials.sign(
        data, mime, kind=kind, job_id=job_id, agent=agent, source_type=source_type(kind), ingredient=shot,
        ingredient_mime=content_credentials.image_mime(shot), config=signer,
    )


def _write_atomically(path: Path, write) -> None:
    """Write through a temporary file in the same folder, so a failure never leaves a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["models", "convert-ada"]:  # offline converter
        from gpu_worker.tools.cli import main as tools_main

        return tools_main(argv[1:])
    if argv[:1] == ["models"]:  # weight registry: list | install | verify
        from gpu_worker.weights.cli import main as models_main

        return models_main(argv[1:])
    from gpu_worker.content_credentials import SignerConfigError, check_signer
    from gpu_worker.engines.base import FaceEngineError
    from gpu_worker.engines.selection import EngineUnavailable, choose_engine
    from gpu_worker.face.imageio import read_image

    args = build_parser().parse_args(argv)
    out = Path(args.out)
    try:
        if out.suffix.lower() not in OUTPUT_MIME:
            raise FaceEngineError("bad_parameter", f"--out must end in .png, .jpg or .webp: {out}")
        if not out.parent.is_dir():
            raise FaceEngineError("bad_parameter", f"output folder {out.parent} does not exist")
        name, paths, params = plan(args)
        signer = check_signer()
        inputs = {key: read_image(path) for key, path in paths.items()}
        engine, _reason = choose_engine(name, engine=args.engine)
        result = engine.run(inputs, params)
    except FaceEngineError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except EngineUnavailable as exc:
        print(f"error: engine_unavailable: {exc}", file=sys.stderr)
        return 3
    except SignerConfigError as exc:
        print(f"error: content_credentials: {exc}", file=sys.stderr)
        return 2
    data = encode_output(out, result.image, command=args.command, engine=engine, signer=signer,
                         product_shot=paths.get("target") or paths.get("image"))
    _write_atomically(out, lambda tmp: Path(tmp).write_bytes(data))
    if args.metadata:
        _write_atomically(Path(args.metadata), lambda tmp: Path(tmp).write_text(json.dumps(result.metadata, indent=2)))
    h, w = result.image.shape[:2]
    print(f"{name}: wrote {out} ({w}x{h}) in {sum(result.metadata.get('timings', {}).values()):.2f}s")
    return 0
