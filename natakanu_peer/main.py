"""Command-line entry point: parses arguments, sets up logging, runs the chosen command.

This is the one place that wires adapters together. It must never hold protocol logic.
Commands other than ``daemon`` and ``hx`` talk to the node running for the data directory
through its control API.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import UsageError


class _JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _address(text: str) -> str:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (for example 127.0.0.1:4700)")
    return text


def _discovery_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--no-discovery", action="store_true", help="do not look for peers on the local network"
    )
    command.add_argument(
        "--discovery-interface",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="look for peers only on the interface with this IPv4 address (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    from .net import hx4_endpoint

    parser = argparse.ArgumentParser(
        prog="natakanu-peer",
        description="Share archive keys and files with the people of your community, "
        "computer to computer, with no server and no internet.",
    )
    parser.add_argument("--version", action="version", version=f"natakanu-peer {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="where this peer keeps its state")
    parser.add_argument("--log-json", action="store_true", help="log JSON lines on stderr")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="say more on standard error"
    )
    commands = parser.add_subparsers(
        dest="command",
        metavar="COMMAND",
        description="With no command, the window opens.",
    )

    window = commands.add_parser("window", help="open the window (the same as no command)")
    window.add_argument(
        "--listen",
        type=_address,
        metavar="HOST:PORT",
        help="where other peers reach this one (default: the port in the settings)",
    )
    _discovery_arguments(window)
    window.add_argument("--exit-after-paint", action="store_true", help=argparse.SUPPRESS)
    window.add_argument("--screenshots", metavar="DIR", help=argparse.SUPPRESS)

    daemon = commands.add_parser("daemon", help="run this peer without a window")
    daemon.add_argument(
        "--listen",
        type=_address,
        default="0.0.0.0:4700",
        metavar="HOST:PORT",
        help="where other peers reach this one (port 0: any free port)",
    )
    daemon.add_argument(
        "--peer",
        type=_address,
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="a peer to connect to (again and again, until it answers)",
    )
    _discovery_arguments(daemon)
    daemon.add_argument("--name", default="", help="the name other peers see")

    keys = commands.add_parser("keys", help="list the known keys, sorted")
    keys.add_argument("--json", action="store_true")
    advertise = commands.add_parser("advertise", help="advertise a key to every peer")
    which = advertise.add_mutually_exclusive_group(required=True)
    which.add_argument("key", nargs="?", metavar="HEX")
    which.add_argument("--text", help="advertise this text (UTF-8) as the key")
    delete = commands.add_parser("delete", help="withdraw a key you advertised")
    delete.add_argument("key", metavar="HEX")
    share = commands.add_parser("share", help="share files or folders; prints their keys")
    share.add_argument("paths", nargs="+", metavar="PATH")
    fetch = commands.add_parser("fetch", help="download a shared file; prints where it is")
    fetch.add_argument("key", metavar="KEY")
    fetch.add_argument("--to", metavar="DIR", help="folder to download into")
    peers = commands.add_parser("peers", help="list the peers met, online or not")
    peers.add_argument("--json", action="store_true")
    status = commands.add_parser("status", help="this peer's id, address and counts")
    status.add_argument("--json", action="store_true")
    circles = commands.add_parser("circles", help="list your circles; * marks the active one")
    circles.add_argument("--json", action="store_true")
    invite = commands.add_parser(
        "invite", help="print an invitation to your circle, to send to a new member"
    )
    invite.add_argument("--circle", metavar="NAME", help="a circle other than the active one")
    invite.add_argument(
        "--code",
        action="store_true",
        help="a short code to read aloud instead (one person, ten minutes, same network)",
    )
    join = commands.add_parser("join", help="join a circle with the invitation you were sent")
    how = join.add_mutually_exclusive_group(required=True)
    how.add_argument("invitation", metavar="INVITATION", nargs="?")
    how.add_argument("--code", help="the short code a member read to you, like 42-river-moose")
    join.add_argument(
        "--from",
        dest="from_address",
        metavar="HOST:PORT",
        help="the member's address, where it cannot be found on the network",
    )
    remove = commands.add_parser(
        "remove", help="remove a member from your circle (the others get a new secret)"
    )
    remove.add_argument("peer", metavar="PEER_ID", help="the id, or its first 8+ characters")

    hx = commands.add_parser(
        "hx",
        help="trade messages with a hash-exchange 4 peer (wire-compatible with the npm package)",
        description=hx4_endpoint.DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hx4_endpoint.add_arguments(hx)
    hx.set_defaults(run=hx4_endpoint.run)
    return parser


def _setup_logging(args: argparse.Namespace) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if args.log_json:
        handler.setFormatter(_JsonLines())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    default = logging.INFO if args.command == "daemon" else logging.WARNING
    level = [default, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=min(level, default), handlers=[handler], force=True)


async def _remote(args: argparse.Namespace, name: str, body: dict[str, Any]) -> Any:
    from .net.control import call
    from .storage.paths import DataPaths, resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    return await call(DataPaths(data_dir).control, data_dir, name, body)


async def _run_command(args: argparse.Namespace) -> int:
    from .storage.paths import resolve_data_dir

    match args.command:
        case "daemon":
            from .app.runtime import run_daemon

            host, _, port = args.listen.rpartition(":")
            if args.no_discovery:
                logging.getLogger(__name__).info("discovery is off")
            return await run_daemon(
                resolve_data_dir(args.data_dir),
                (host, int(port)),
                args.peer,
                args.name,
                discovery=not args.no_discovery,
                discovery_interfaces=args.discovery_interface or None,
            )
        case "keys":
            entries = await _remote(args, "keys", {})
            if args.json:
                print(json.dumps(entries, ensure_ascii=False))
            for entry in [] if args.json else entries:
                label = entry.get("name") or entry.get("text") or ""
                print(f"{entry['key']}  {label}".rstrip())
        case "advertise":
            body = {"text": args.text} if args.text is not None else {"key": args.key}
            print((await _remote(args, "advertise", body))["key"])
        case "delete":
            print((await _remote(args, "delete", {"key": args.key}))["key"])
        case "share":
            paths = [str(Path(p).expanduser().absolute()) for p in args.paths]
            for entry in await _remote(args, "share", {"paths": paths}):
                print(entry["key"])
        case "fetch":
            to = str(Path(args.to).expanduser().absolute()) if args.to else None
            print((await _remote(args, "fetch", {"key": args.key, "to": to}))["path"])
        case "peers":
            entries = await _remote(args, "peers", {})
            if args.json:
                print(json.dumps(entries, ensure_ascii=False))
            for entry in [] if args.json else entries:
                online = "online" if entry["online"] else "offline"
                print(
                    f"{entry['peer_id'][:16]}  {online:7}  {entry['address'] or '-':21}  "
                    f"{entry['name'] or ''}"
                )
                if entry.get("refused"):
                    until = time.strftime("%H:%M", time.localtime(entry["refused"]["until"]))
                    print(f"    refused until {until}: {entry['refused']['reason']}")
        case "circles":
            entries = await _remote(args, "circles", {})
            if args.json:
                print(json.dumps(entries, ensure_ascii=False))
            for entry in [] if args.json else entries:
                print(f"{'*' if entry['active'] else ' '} {entry['name']}")
        case "invite":
            made = await _remote(args, "invite", {"circle": args.circle, "code": args.code})
            if args.code:
                print(made["code"])
                print(
                    f"Read this code to one person near you; it works once, for "
                    f"{made['minutes']} minutes.",
                    file=sys.stderr,
                )
            else:
                print(made["invitation"])
        case "join":
            if args.code:
                from .protocol.join_code import parse_code

                parse_code(args.code)  # a mistyped code is refused before anything
                body = {"code": args.code, "from": args.from_address}
            else:
                from .protocol.circle import decode_invitation

                decode_invitation(args.invitation)  # a bad invitation is refused at once
                body = {"invitation": args.invitation}
            joined = await _remote(args, "join", body)
            print(f"joined the circle: {joined['circle']}")
        case "remove":
            done = await _remote(args, "remove", {"peer": args.peer})
            print(
                f"removed {done['removed'][:16]}; {done['told_now']} members linked now have "
                "the new secret, the others get it when they next connect"
            )
        case "status":
            info = await _remote(args, "status", {})
            if args.json:
                print(json.dumps(info, ensure_ascii=False))
            else:
                for key, value in info.items():
                    print(f"{key}: {value}")
        case _:
            raise AssertionError(args.command)
    return 0


def _open_window(args: argparse.Namespace) -> int:
    from .storage.paths import resolve_data_dir

    _setup_logging(args)
    listen = getattr(args, "listen", None)
    host, _, port = (listen or "").rpartition(":")
    try:
        from .gui.launch import run_window
    except ImportError as exc:
        print(
            f"natakanu-peer: the window cannot start here ({exc}); `natakanu-peer daemon` "
            "runs the same peer without a window.",
            file=sys.stderr,
        )
        return 1
    return run_window(
        resolve_data_dir(args.data_dir),
        listen=(host, int(port)) if listen else None,
        exit_after_paint=getattr(args, "exit_after_paint", False),
        screenshots=Path(args.screenshots) if getattr(args, "screenshots", None) else None,
        discovery=False if getattr(args, "no_discovery", False) else None,
        discovery_interfaces=getattr(args, "discovery_interface", None) or None,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in (None, "window"):
        return _open_window(args)
    _setup_logging(args)
    runner = getattr(args, "run", None) or _run_command
    try:
        code: int = asyncio.run(runner(args))
    except UsageError as exc:
        print(f"natakanu-peer: {exc}", file=sys.stderr)
        return 2 if args.command in ("hx",) else 1
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
