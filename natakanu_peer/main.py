"""Command-line entry point: parses arguments, sets up logging, runs the chosen command.

This is the one place that wires adapters together. It must never hold protocol logic.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from . import __version__
from .errors import UsageError


def build_parser() -> argparse.ArgumentParser:
    from .net import hx4_endpoint

    parser = argparse.ArgumentParser(
        prog="natakanu-peer",
        description="Share archive keys and files with the people of your community, "
        "computer to computer, with no server and no internet.",
    )
    parser.add_argument("--version", action="version", version=f"natakanu-peer {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="say more on standard error"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    hx = commands.add_parser(
        "hx",
        help="trade messages with a hash-exchange 4 peer (wire-compatible with the npm package)",
        description=hx4_endpoint.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hx4_endpoint.add_arguments(hx)
    hx.set_defaults(run=hx4_endpoint.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG
        if args.verbose > 1
        else logging.INFO
        if args.verbose
        else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "run", None) is None:
        parser.print_help()
        return 0
    try:
        code: int = asyncio.run(args.run(args))
    except UsageError as exc:
        print(f"natakanu-peer: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
