"""``python -m gpu_worker models ...``: list, install and verify weight files (``models convert-ada`` is the
offline converter of ``gpu_worker.tools.cli``; ``gpu_worker.cli`` routes it there).

    models list
    models install NAME --from PATH_OR_URL [--sha256 HEX] [--model-dir DIR_OR_S3]
    models verify [--model-dir DIR_OR_S3]

Exit codes: 0 success, 1 ``verify`` found a problem, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gpu_worker.weights import registry
from gpu_worker.weights.install import InstallError, install, installed_names, open_store, verify


class UsageError(Exception):
    pass


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line on stderr instead of usage + message
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m gpu_worker models", description="Model weight registry and installer.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    sub.add_parser("list", help="registry entries with licence and install state")
    p = sub.add_parser("install", help="copy a weight file into the model directory after checking its sha256")
    p.add_argument("name")
    p.add_argument("--from", dest="source", required=True, help="local path, file:// URL or http(s) URL")
    p.add_argument("--sha256", help="expected sha256 (required when the registry has none)")
    p.add_argument("--model-dir", help="model directory or s3://bucket/prefix (default: $GASANG_MODEL_DIR)")
    p = sub.add_parser("verify", help="re-hash every installed file")
    p.add_argument("--model-dir")
    return parser


def _cmd_list(args: argparse.Namespace) -> int:
    try:
        installed = installed_names()
    except Exception as exc:  # an unreachable model directory must not hide the registry
        print(f"warning: cannot read the model directory: {exc}", file=sys.stderr)
        installed = set()
    rows = [("NAME", "MODEL", "LICENCE", "COMMERCIAL", "INSTALLED")]
    for w in sorted(registry.WEIGHTS.values(), key=lambda w: w.name):
        rows.append(
            (w.name, w.model, w.licence, "yes" if w.commercial_use else "no", "yes" if w.name in installed else "no")
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    return 0


def _cmd_install(args: argparse.Namespace) -> int:
    store = open_store(args.model_dir)
    record = install(args.name, args.source, sha256=args.sha256, store=store, allow_http=True)
    print(
        f"installed {record.name} -> {store.location}/{record.filename} (sha256 {record.sha256}, {record.size} bytes)"
    )
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    results = verify(open_store(args.model_dir))
    for r in results:
        print(f"{r.status:<8} {r.name}  {r.detail}")
    if not results:
        print("nothing installed")
    return 1 if any(r.status != "OK" for r in results) else 0


_COMMANDS = {"list": _cmd_list, "install": _cmd_install, "verify": _cmd_verify}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns the exit code (2 with a one-line reason on stderr for bad input)."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        return _COMMANDS[args.command](args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except (InstallError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
