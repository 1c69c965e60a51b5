"""``natakanu-peer hx``: the seed README's example, wire-compatible with hash-exchange 4.0.1.

Moves bytes between one link (standard input/output, or one TCP connection) and a
``HashExchange`` through an ``Hx4Connection``, and shows what arrives on standard error in
the seed's format. The protocol decisions are theirs; this module only does I/O, timers and
the example's policy (provide every message, request everything available, close when done).
It must never write anything but protocol bytes to standard output, and never wait forever:
every wait is bounded by the idle timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from typing import assert_never

from ..errors import RemoteProtocolError, UsageError
from ..protocol.hash_exchange import (
    SHA1,
    Available,
    Closed,
    Events,
    HashExchange,
    IdReceived,
    NotHereReceived,
    Provide,
    RequestReceived,
    Response,
    SeenReceived,
    Send,
    ServeRequested,
    SinceReceived,
)
from ..protocol.hx4 import Hx4Connection

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PROTOCOL_ERROR = 1  # the peer broke the protocol; the reason is logged
EXIT_TIMEOUT = 3  # the peer was silent for longer than --timeout
EXIT_CONNECTION_LOST = 4  # the link failed or ended before the exchange was over
DEFAULT_TIMEOUT = 30.0
_READ_SIZE = 64 * 1024

DESCRIPTION = """\
Trade messages with a hash-exchange 4 peer, as the npm package's README example does:
provide the SHA-1 hex of each MESSAGE, request everything the peer makes available, and
print each body received on standard error between "# BEGIN <hash>" and "# END <hash>".
Received ids, since and seen numbers are printed as "# ID <id>", "# SINCE <n>" and
"# SEEN <n>"; "# CLOSE" once both sides have closed.

With --since N, our messages are provided only when the peer's SINCE arrives, and then only
those after its position (as in the seed's since example). With --close, the exchange is
closed once nothing is left to wait for: the peer's list of hashes has arrived, everything
we requested has been answered, our messages were provided and the peer has sent its
request for them (a seed peer answers each list with one request, even an empty one) or has
closed. The command then exits 0 when the peer has closed too (a seed peer that closes
second never sends its CLOSE: the end of its connection after ours counts as its close).

Exit status: 0 done; 1 the peer broke the protocol; 2 bad usage; 3 the peer was silent for
--timeout seconds; 4 the connection failed or ended before the exchange was over.
"""


# ------------------------------------------------------------------------ command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``natakanu-peer hx``."""
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument(
        "--stdio", action="store_true", help="speak on standard input and output (pipes)"
    )
    mode.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=_host_port,
        help='accept one TCP connection (port 0 picks one; "# LISTENING HOST:PORT" tells which)',
    )
    mode.add_argument(
        "--connect", metavar="HOST:PORT", type=_host_port, help="connect to a TCP peer"
    )
    parser.add_argument("--id", help="tell the peer this identifier")
    parser.add_argument(
        "--since",
        type=_since,
        metavar="N",
        help="ask the peer for what comes after position N only (N >= -1)",
    )
    parser.add_argument(
        "--seen", action="store_true", help="acknowledge each response's sequence number"
    )
    parser.add_argument("--close", action="store_true", help="close once nothing is awaited")
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up after this long without a byte from the peer (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("messages", nargs="*", metavar="MESSAGE", help="a message to provide")


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)  # [::1]:80 names an IPv6 host


def _since(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -2
    if value < -1:
        raise argparse.ArgumentTypeError(f"expected an integer >= -1, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class Options:
    """What ``natakanu-peer hx`` was asked to do, typed."""

    messages: tuple[bytes, ...]
    stdio: bool = False
    listen: tuple[str, int] | None = None
    connect: tuple[str, int] | None = None
    id: str | None = None
    since: int | None = None
    seen: bool = False
    close: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        return cls(
            messages=tuple(os.fsencode(m) for m in args.messages),
            stdio=args.stdio,
            listen=args.listen,
            connect=args.connect,
            id=args.id,
            since=args.since,
            seen=args.seen,
            close=args.close,
            timeout=args.timeout,
        )


async def run(args: argparse.Namespace) -> int:
    """Run ``natakanu-peer hx``; returns the exit status."""
    return await trade(Options.from_args(args))


async def trade(options: Options) -> int:
    """Open the link ``options`` names, run the example over it, return the exit status."""
    try:
        link = await _open_link(options)
    except TimeoutError:
        log.error("no peer within %g seconds: giving up", options.timeout)
        return EXIT_TIMEOUT
    except OSError as exc:
        log.error("cannot open the link: %s", exc)
        return EXIT_CONNECTION_LOST
    try:
        return await _Trade(options, link.reader, link.writer).run()
    finally:
        await link.close(options.timeout)


# ------------------------------------------------------------------------------- links


@dataclass(slots=True)
class _Link:
    """Both directions of one link; stdio has a transport of its own for each."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    read_transport: asyncio.BaseTransport | None = None

    async def close(self, timeout: float) -> None:
        """Close both directions, waiting (boundedly) until what we wrote has gone out."""
        self.writer.close()
        if self.read_transport is not None:
            self.read_transport.close()
        with suppress(OSError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), timeout)


async def _open_link(options: Options) -> _Link:
    if options.listen is not None:
        return _Link(*await _accept_one(*options.listen, options.timeout))
    if options.connect is not None:
        host, port = options.connect
        connecting = asyncio.open_connection(host, port)
        return _Link(*await asyncio.wait_for(connecting, options.timeout))
    return await _stdio_link()


async def _accept_one(
    host: str, port: int, timeout: float
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
    accepted = loop.create_future()

    def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if accepted.done():
            writer.close()  # one peer per run; a second caller is turned away
        else:
            accepted.set_result((reader, writer))

    server = await asyncio.start_server(on_connection, host, port)
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    _say(f"# LISTENING {shown}:{bound_port}")
    try:
        return await asyncio.wait_for(accepted, timeout)
    finally:
        server.close()


async def _stdio_link() -> _Link:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    # Own file objects over fds 0 and 1, so closing the link really closes them: the peer
    # sees the end of our output as soon as we are done, not when the interpreter exits.
    stdin = os.fdopen(sys.stdin.fileno(), "rb", buffering=0)
    stdout = os.fdopen(sys.stdout.fileno(), "wb", buffering=0)
    try:
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), stdin
        )
        # A StreamReaderProtocol (with a reader nobody reads) gives the write side the flow
        # control and the close waiter that StreamWriter needs.
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), stdout
        )
    except ValueError as exc:  # a regular file cannot carry a conversation
        raise UsageError("--stdio needs pipes, sockets or a terminal on stdin and stdout") from exc
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    return _Link(reader, writer, read_transport)


# ---------------------------------------------------------------------------- the trade


class _Trade:
    """The seed README's example, over one link."""

    def __init__(
        self, options: Options, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._options = options
        self._reader = reader
        self._writer = writer
        self._exchange = HashExchange(SHA1)
        self._wire = Hx4Connection()
        # Like the seed's example: one entry per distinct message, in order of first mention.
        self._contents = {SHA1.hash_of(m): m for m in options.messages}
        self._provided = False
        self._peer_provided = False
        self._provides_sent = 0  # our Provide messages, each answered by one seed REQUEST
        self._requests_received = 0

    async def run(self) -> int:
        try:
            return await self._run()
        except RemoteProtocolError as exc:
            log.error("closing the link: the peer broke the protocol: %s", exc)
            return EXIT_PROTOCOL_ERROR
        except TimeoutError:  # only a write can time out here: reads are handled in _run
            log.error("the peer did not take our data for %g seconds", self._options.timeout)
            return EXIT_TIMEOUT
        except ConnectionError as exc:
            log.error("the connection failed: %s", exc)
            return EXIT_CONNECTION_LOST

    async def _run(self) -> int:
        self._start()
        await self._flush()
        while not self._exchange.closed:
            try:
                data = await self._read()
            except TimeoutError:
                log.error("no word from the peer for %g seconds: giving up", self._options.timeout)
                return EXIT_TIMEOUT
            if not data:
                return await self._on_end_of_stream()
            for message in self._wire.receive_data(data):
                self._apply(self._exchange.receive(message))
            self._maybe_close()
            await self._flush()
        return EXIT_OK

    async def _read(self) -> bytes:
        try:
            return await asyncio.wait_for(self._reader.read(_READ_SIZE), self._options.timeout)
        except ConnectionError:
            return b""  # a reset is the end of the peer's stream too

    async def _on_end_of_stream(self) -> int:
        for message in self._wire.receive_eof():
            log.info("the peer's stream ended after our CLOSE: taken as its CLOSE")
            self._apply(self._exchange.receive(message))
        if self._exchange.closed:
            return EXIT_OK
        if not self._options.close and self._exchange.outstanding == 0:
            log.info("the peer hung up with nothing of ours outstanding")
            return EXIT_OK
        log.error("the peer hung up before the exchange was closed")
        return EXIT_CONNECTION_LOST

    async def _flush(self) -> None:
        data = self._wire.data_to_send()
        if data:
            self._writer.write(data)
            await asyncio.wait_for(self._writer.drain(), self._options.timeout)

    def _start(self) -> None:
        options, exchange = self._options, self._exchange
        if options.id is not None:
            self._apply(exchange.id(options.id))
        if options.since is not None:
            self._apply(exchange.since(options.since))  # we provide when the peer's since comes
        else:
            self._provide(after=0)
        self._maybe_close()

    def _provide(self, after: int) -> None:
        self._provided = True
        self._apply(self._exchange.provide(list(self._contents)[after:]))

    def _maybe_close(self) -> None:
        # Nothing left to wait for: the peer's hashes came and all we requested is answered;
        # ours went out and the peer said what it wants of them (a seed peer answers each of
        # our Provides with one REQUEST, maybe empty) or closed. We answer at once, so after
        # that nothing of the peer's is pending. Closing sooner would lose our answers: the
        # seed ignores every RPC after a CLOSE.
        exchange = self._exchange
        peer_done = exchange.remote_closed or self._requests_received >= self._provides_sent
        if (
            self._options.close
            and not exchange.local_closed
            and self._peer_provided
            and self._provided
            and peer_done
            and exchange.outstanding == 0
        ):
            self._apply(exchange.close())

    def _apply(self, events: Events) -> None:
        exchange, options = self._exchange, self._options
        for event in events:
            match event:
                case Send(message):
                    self._provides_sent += isinstance(message, Provide)
                    self._wire.send(message)
                case Available(hashes):
                    self._peer_provided = True
                    if not exchange.local_closed:
                        self._apply(exchange.request(hashes))
                case Response(hash_, content, seq):
                    _say(f"# BEGIN {hash_}")
                    _say(_printable(content.decode("utf-8", "replace"), multiline=True))
                    _say(f"# END {hash_}")
                    if options.seen and not exchange.local_closed:
                        self._apply(exchange.seen(seq))
                case RequestReceived():
                    self._requests_received += 1
                case ServeRequested(hash_):
                    self._apply(exchange.respond(hash_, self._contents[hash_]))
                case NotHereReceived(hash_):
                    log.warning("the peer does not have %s", hash_)
                case IdReceived(value):
                    _say(f"# ID {_printable(value, multiline=False)}")
                case SinceReceived(seq):
                    _say(f"# SINCE {seq}")
                    waiting = options.since is not None and not self._provided
                    if waiting and not exchange.local_closed:
                        self._provide(after=max(seq, 0))
                case SeenReceived(seq):
                    _say(f"# SEEN {seq}")
                case Closed():
                    _say("# CLOSE")
                case _:
                    assert_never(event)


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _printable(text: str, *, multiline: bool) -> str:
    """Peer text made safe for a terminal: control characters are shown escaped."""
    kept = "\n\t" if multiline else ""
    # Every Cc character is below U+0100 (C0, DEL, C1), so two hex digits always suffice.
    return "".join(
        c if c in kept or unicodedata.category(c) != "Cc" else f"\\x{ord(c):02x}" for c in text
    )
