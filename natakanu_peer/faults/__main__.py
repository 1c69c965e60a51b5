"""The fault suite's command line: ``python -m natakanu_peer.faults FAULT [options]``.

Each kind of fault is a subcommand of its own (``fuzz``, ``kill``, ``disk``, ``network``,
``hostile``; ``all`` runs them one after the other), printing a Markdown report on standard
output and exiting with status 1 when the application did not withstand it. ``disk``
and ``network`` need root (a tmpfs, network namespaces).
This module must never be imported by the application.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .fuzz import DecoderResult, format_markdown, fuzz_all


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _show_progress(result: DecoderResult) -> None:
    # On standard error, so the report on standard output stays a clean Markdown document.
    print(
        f"{result.name}: {result.inputs:,} inputs in {result.seconds:.1f} s",
        file=sys.stderr,
        flush=True,
    )


def _fuzz(args: argparse.Namespace) -> int:
    report = fuzz_all(args.inputs, args.seed, progress=_show_progress)
    print(format_markdown(report))
    return 0 if report.ok else 1


def _kill(args: argparse.Namespace) -> int:
    from .kills import markdown, run_kills

    with tempfile.TemporaryDirectory(prefix="natakanu-kills-") as root:
        report = run_kills(Path(root), kills=args.kills, seed=args.seed)
    print(markdown(report))
    print(f"\n{report.kills} kills in {report.seconds:.0f} s")
    return 0 if report.ok else 1


def _disk(args: argparse.Namespace) -> int:
    from .disk import markdown, run_disk_full

    with tempfile.TemporaryDirectory(prefix="natakanu-disk-") as root:
        report = run_disk_full(Path(root))
    print(markdown(report))
    return 0 if report.ok else 1


def _network(args: argparse.Namespace) -> int:
    from .network import main as network_main

    return network_main(["--quick"] if args.quick else [])


def _hostile(args: argparse.Namespace) -> int:
    from .hostile import markdown_table, run_hostile

    with tempfile.TemporaryDirectory(prefix="natakanu-hostile-") as root:
        results = run_hostile(Path(root), quick=args.quick)
    print(markdown_table(results))
    return 0 if all(r["met"] for r in results) else 1


def _all(args: argparse.Namespace) -> int:
    failed = []
    for name, run in (("fuzz", _fuzz), ("kill", _kill), ("disk", _disk),
                      ("network", _network), ("hostile", _hostile)):  # fmt: skip
        print(f"\n## {name}\n", flush=True)
        if run(args) != 0:
            failed.append(name)
    print(f"\nnot withstood: {', '.join(failed)}" if failed else "\nall withstood")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m natakanu_peer.faults",
        description="Throw faults at Natakanu Peer and report how it held up.",
    )
    faults = parser.add_subparsers(dest="fault", required=True, metavar="FAULT")
    fuzz = faults.add_parser(
        "fuzz",
        help="feed every decoder mutated and random inputs",
        description=(
            "Feed every wire and text decoder mutated and random inputs; each must decode "
            "them or raise its declared error, within 1 s per input."
        ),
    )
    fuzz.add_argument(
        "--inputs",
        type=_positive,
        default=1_000_000,
        metavar="N",
        help="inputs in all, shared among the decoders (default: 1,000,000)",
    )
    fuzz.add_argument(
        "--seed", type=int, default=0, help="the same seed gives the same inputs (default: 0)"
    )
    fuzz.set_defaults(run=_fuzz)
    kill = faults.add_parser(
        "kill", help="SIGKILL three daemons at random moments (transfers, shares, key changes)"
    )
    kill.add_argument("--kills", type=_positive, default=50, metavar="N", help="default: 50")
    kill.add_argument("--seed", type=int, default=1)
    kill.set_defaults(run=_kill)
    disk = faults.add_parser("disk", help="the downloads disk fills up during a download")
    disk.set_defaults(run=_disk)
    network = faults.add_parser(
        "network", help="loss and delay, a flapping cable, a partition (namespaces)"
    )
    network.add_argument("--quick", action="store_true", help="shorter faults")
    network.set_defaults(run=_network)
    hostile = faults.add_parser("hostile", help="members that flood, lie and send garbage")
    hostile.add_argument("--quick", action="store_true", help="shorter floods")
    hostile.set_defaults(run=_hostile)
    every = faults.add_parser("all", help="every fault above, one after the other")
    every.add_argument("--inputs", type=_positive, default=1_000_000, metavar="N")
    every.add_argument("--kills", type=_positive, default=50, metavar="N")
    every.add_argument("--seed", type=int, default=1)
    every.add_argument("--quick", action="store_true")
    every.set_defaults(run=_all)
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
