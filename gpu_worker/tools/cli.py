"""``python -m gpu_worker models convert-ada PKL --out PT [--channel-multiplier {1,2}]``: convert a
stylegan2-ada generator pickle to the rosinality ``{'g_ema', 'latent_avg'}`` container (offline tool).

Exit codes: 0 success, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Sequence

from gpu_worker.weights.cli import OneLineParser, UsageError


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m gpu_worker models", description="Offline weight converters.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    p = sub.add_parser("convert-ada", help="convert a stylegan2-ada .pkl to rosinality {'g_ema','latent_avg'}")
    p.add_argument("pkl")
    p.add_argument("--out", required=True)
    p.add_argument("--channel-multiplier", type=int, choices=(1, 2), default=2)
    return parser


def _cmd_convert_ada(args: argparse.Namespace) -> int:
    from gpu_worker.tools.convert_stylegan2_ada import convert_ada_pickle_to_file

    try:
        result = convert_ada_pickle_to_file(args.pkl, args.out, channel_multiplier=args.channel_multiplier)
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:  # incl. UnsafePickleError, UnsupportedAdaConfig
        raise UsageError(f"{args.pkl}: {exc}") from exc
    kwargs = ", ".join(f"{k}={v}" for k, v in result.build_kwargs.items())
    print(f"wrote {args.out}: rosinality {{'g_ema','latent_avg'}} for build('stylegan2', {kwargs})")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the converter; returns the exit code (2 with a one-line reason on stderr for bad input)."""
    try:
        return _cmd_convert_ada(_parser().parse_args(list(sys.argv[1:] if argv is None else argv)))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
    return 2
