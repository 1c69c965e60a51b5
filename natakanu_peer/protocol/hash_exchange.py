"""Hash exchange: trade hashes with one peer, then the content behind the hashes each lacks.

The sans-I/O form of the npm package ``hash-exchange`` (see docs/protocol/hash-exchange.md):
``provide``, ``request``, ``id``, ``since``, ``seen`` and ``close`` as in the seed, plus
``respond``/``decline`` for the application to answer a serve request (the seed's
``createReadStream`` callback), and ``receive(message)`` for what the peer sent. Every method
returns a list of events; messages to transmit are ``Send`` events. The wire is somebody
else's job: ``encode_message``/``decode_message`` below are the native codec, and
``protocol.hx4`` speaks the npm package's own wire format to the very same state machine.

Unlike the seed, content is checked against its hash before it is reported, a peer's
requests and ours are bounded, and a peer that breaks the rules gets ``RemoteProtocolError``.

This module must never do I/O, read a clock, draw random numbers or call back into its
caller, and ``decode_message`` must never raise anything but ``RemoteProtocolError``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from itertools import islice
from typing import TypeAlias

from ..errors import LocalProtocolError, RemoteProtocolError
from . import limits
from .wire import Reader, Writer

# ------------------------------------------------------------------------- hash algorithms

_LOWER_HEX = re.compile(r"[0-9a-f]*")


def _read_lower_hex(text: str) -> bytes | None:
    # Only the canonical spelling is a hash: "AB" and "ab" must never name two things.
    if len(text) % 2 or not _LOWER_HEX.fullmatch(text):
        return None
    return bytes.fromhex(text)


@dataclass(frozen=True, slots=True)
class HashSpelling:
    """How a digest is written in messages, and how such text is read back."""

    name: str
    write: Callable[[bytes], str]
    #: The digest that ``text`` spells, or None when ``text`` is not a spelling at all.
    read: Callable[[str], bytes | None]


LOWER_HEX = HashSpelling("lowercase hex", bytes.hex, _read_lower_hex)


@dataclass(frozen=True, slots=True)
class HashAlgorithm:
    """A digest function with its size and how its digests are spelled as hashes."""

    name: str
    digest: Callable[[bytes], bytes]
    digest_size: int
    spelling: HashSpelling = LOWER_HEX

    def hash_of(self, content: bytes) -> str:
        """The hash that names ``content``."""
        return self.spelling.write(self.digest(content))

    def is_hash(self, text: object) -> bool:
        """Whether ``text`` is a well-spelled hash of this algorithm."""
        if not isinstance(text, str) or len(text) > limits.MAX_HASH_TEXT_BYTES:
            return False
        raw = self.spelling.read(text)
        return raw is not None and len(raw) == self.digest_size


def _sha1(content: bytes) -> bytes:
    # Not for security: it is the hash the seed and its peers name content by.
    return hashlib.sha1(content, usedforsecurity=False).digest()


def _sha256(content: bytes) -> bytes:
    return hashlib.sha256(content).digest()


#: The seed's algorithm (its example names messages by their SHA-1 hex).
SHA1 = HashAlgorithm("sha1", _sha1, 20)
SHA256 = HashAlgorithm("sha256", _sha256, 32)

# -------------------------------------------------------------------------------- messages


class Message:
    """Base of what the two sides of a hash exchange say to each other (wire nouns)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Provide(Message):
    """Says "I have these": the peer may request them.

    ``position``, when given, is where these hashes end in the sender's own numbering of
    what it provides: the receiver can store it, acknowledge it with ``seen`` and, on the
    next connection, ask with ``since`` for what comes after it. (Native wire only: the
    hash-exchange 4 wire has no room for it and drops it.)
    """

    hashes: tuple[str, ...]
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Request(Message):
    """Asks "send me the content of these"; each is answered by a Deliver or a NotHere."""

    hashes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Deliver(Message):
    """The content of one requested hash, numbered ``seq`` by its sender."""

    hash: str
    seq: int
    content: bytes


@dataclass(frozen=True, slots=True)
class NotHere(Message):
    """Says "I do not have these" (or will not serve them), answering requested hashes."""

    hashes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Id(Message):
    """The sender's identifier."""

    value: str


@dataclass(frozen=True, slots=True)
class Since(Message):
    """Asks "only serve me what comes after ``seq``" (seq >= -1)."""

    seq: int


@dataclass(frozen=True, slots=True)
class Seen(Message):
    """Says "I stored what you numbered ``seq``" (seq >= -1)."""

    seq: int


@dataclass(frozen=True, slots=True)
class Close(Message):
    """Says "I need nothing more"; the exchange is over when both sides said it."""


AnyMessage: TypeAlias = Provide | Request | Deliver | NotHere | Id | Since | Seen | Close

# ---------------------------------------------------------------------------------- events


class Event:
    """Base of what a ``HashExchange`` method call leads to."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Send(Event):
    """Transmit ``message`` to the peer, in the order the events were returned."""

    message: AnyMessage


@dataclass(frozen=True, slots=True)
class Available(Event):
    """The peer provided these hashes, which we do not provide ourselves.

    ``position`` is where they end in the peer's numbering, when it said so.
    """

    hashes: tuple[str, ...]
    position: int | None = None


@dataclass(frozen=True, slots=True)
class Response(Event):
    """Content we requested arrived and matches its hash."""

    hash: str
    content: bytes
    seq: int


@dataclass(frozen=True, slots=True)
class NotHereReceived(Event):
    """The peer said it does not have ``hash``, which we requested."""

    hash: str


@dataclass(frozen=True, slots=True)
class RequestReceived(Event):
    """The peer sent a request (all its new hashes, ours or not; possibly none at all).

    Seed peers answer every Provide with one request, even an empty one, so counting these
    tells an application whether the peer has said what it wants from our list.
    """

    hashes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServeRequested(Event):
    """The peer asked for ``hash``, which we provide: call ``respond`` or ``decline``."""

    hash: str


@dataclass(frozen=True, slots=True)
class IdReceived(Event):
    """The peer told us its identifier."""

    value: str


@dataclass(frozen=True, slots=True)
class SinceReceived(Event):
    """The peer asked to be served only what comes after ``seq``."""

    seq: int


@dataclass(frozen=True, slots=True)
class SeenReceived(Event):
    """The peer acknowledged what we numbered ``seq``."""

    seq: int


@dataclass(frozen=True, slots=True)
class Closed(Event):
    """Both sides called close: the exchange is over (reported once)."""


AnyEvent: TypeAlias = (
    Send
    | Available
    | Response
    | NotHereReceived
    | RequestReceived
    | ServeRequested
    | IdReceived
    | SinceReceived
    | SeenReceived
    | Closed
)
Events: TypeAlias = list[AnyEvent]

# ----------------------------------------------------------------------------------- codec


class _Kind(IntEnum):
    """The first byte of a native message."""

    PROVIDE = 1
    REQUEST = 2
    DELIVER = 3
    NOT_HERE = 4
    ID = 5
    SINCE = 6
    SEEN = 7
    CLOSE = 8


def encode_message(message: AnyMessage) -> bytes:
    """The native encoding of ``message`` (one frame body; framing is the transport's job).

    Raises ``LocalProtocolError`` for a message its own decoder would refuse.
    """
    return b"".join(encode_message_parts(message))


def encode_message_parts(message: AnyMessage) -> tuple[bytes, ...]:
    """``encode_message`` in pieces to be sent one after the other.

    A delivery's content is its own piece, not copied: a transport can join the pieces with
    its own framing in one copy (content is the bulk of what goes over a link).
    """
    if isinstance(message, Deliver):
        hash_, seq, content = message.hash, message.seq, message.content
        _check_text(hash_, limits.MAX_HASH_TEXT_BYTES, "hash")
        _check_seq(seq, 0)
        if len(content) > limits.MAX_CONTENT_BYTES:
            raise LocalProtocolError(f"content of {len(content)} bytes is too large")
        head = Writer().byte(_Kind.DELIVER).blob(hash_.encode()).varint(seq)
        return (head.varint(len(content)).getvalue(), content)
    w = Writer()
    match message:
        case Provide(hashes, position):
            _write_hashes(w.byte(_Kind.PROVIDE), hashes)
            if position is not None:
                _check_seq(position, -1)
            # position + 2 on the wire (it may be -1), 0 for none.
            w.varint(0 if position is None else position + 2)
        case Request(hashes):
            _write_hashes(w.byte(_Kind.REQUEST), hashes)
        case NotHere(hashes):
            _write_hashes(w.byte(_Kind.NOT_HERE), hashes)
        case Id(value):
            _check_text(value, limits.MAX_EXCHANGE_ID_BYTES, "id")
            w.byte(_Kind.ID).blob(value.encode())
        case Since(seq) | Seen(seq):
            _check_seq(seq, -1)
            # seq + 1 on the wire, as hash-exchange 4 does, so -1 needs no sign.
            w.byte(_Kind.SINCE if isinstance(message, Since) else _Kind.SEEN).varint(seq + 1)
        case Close():
            w.byte(_Kind.CLOSE)
        case _:
            raise LocalProtocolError(f"not a hash-exchange message: {message!r}")
    return (w.getvalue(),)


def decode_message(data: bytes | memoryview) -> AnyMessage:
    """Decode one native message; any malformed or oversized input is ``RemoteProtocolError``.

    A memoryview is read in place: a delivery's content is its only copy.
    """
    if len(data) > limits.MAX_EXCHANGE_MESSAGE_BYTES:
        raise RemoteProtocolError(f"message of {len(data)} bytes exceeds the limit")
    r = Reader(data)
    kind = r.byte("message type")
    message: AnyMessage
    if kind == _Kind.PROVIDE:
        hashes = _read_hashes(r)
        position = r.varint(limits.MAX_SEQUENCE + 2, "position")
        message = Provide(hashes, None if position == 0 else position - 2)
    elif kind == _Kind.REQUEST:
        message = Request(_read_hashes(r))
    elif kind == _Kind.NOT_HERE:
        message = NotHere(_read_hashes(r))
    elif kind == _Kind.DELIVER:
        hash_ = _read_text(r, limits.MAX_HASH_TEXT_BYTES, "hash")
        seq = r.varint(limits.MAX_SEQUENCE, "sequence number")
        message = Deliver(hash_, seq, r.blob(limits.MAX_CONTENT_BYTES, "content"))
    elif kind == _Kind.ID:
        message = Id(_read_text(r, limits.MAX_EXCHANGE_ID_BYTES, "id"))
    elif kind in (_Kind.SINCE, _Kind.SEEN):
        seq = r.varint(limits.MAX_SEQUENCE + 1, "sequence number") - 1
        message = Since(seq) if kind == _Kind.SINCE else Seen(seq)
    elif kind == _Kind.CLOSE:
        message = Close()
    else:
        raise RemoteProtocolError(f"unknown hash-exchange message type {kind}")
    r.done()
    return message


def _write_hashes(w: Writer, hashes: tuple[str, ...]) -> None:
    if len(hashes) > limits.MAX_HASHES_PER_MESSAGE:
        raise LocalProtocolError(f"{len(hashes)} hashes do not fit one message")
    w.varint(len(hashes))
    for hash_ in hashes:
        _check_text(hash_, limits.MAX_HASH_TEXT_BYTES, "hash")
        w.blob(hash_.encode())


def _read_hashes(r: Reader) -> tuple[str, ...]:
    count = r.count(limits.MAX_HASHES_PER_MESSAGE, "hashes")
    return tuple(_read_text(r, limits.MAX_HASH_TEXT_BYTES, "hash") for _ in range(count))


def _read_text(r: Reader, maximum: int, what: str) -> str:
    return decode_text(r.blob(maximum, what), what)


def decode_text(raw: bytes, what: str) -> str:
    """Strict UTF-8, as ``RemoteProtocolError`` when it is not (shared with ``hx4``)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(f"{what} is not valid UTF-8") from exc


def _text_fault(text: object, maximum: int, what: str) -> str | None:
    """Why ``text`` cannot travel as a string of at most ``maximum`` UTF-8 bytes, if it cannot."""
    if not isinstance(text, str):
        return f"{what} must be a str, not {type(text).__name__}"
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates have no UTF-8 form
        return f"{what} cannot be written in UTF-8"
    if size > maximum:
        return f"{what} is longer than {maximum} bytes"
    return None


def _check_text(text: object, maximum: int, what: str) -> None:
    fault = _text_fault(text, maximum, what)
    if fault:
        raise LocalProtocolError(fault)


def _check_seq(seq: object, minimum: int) -> None:
    # bool is an int to Python but never a sequence number.
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise LocalProtocolError(f"a sequence number must be an int, not {type(seq).__name__}")
    if not minimum <= seq <= limits.MAX_SEQUENCE:
        raise LocalProtocolError(
            f"sequence number {seq} is outside {minimum}..{limits.MAX_SEQUENCE}"
        )


def _chunks(hashes: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Split a list of hashes into messages; an empty list is still one (empty) message."""
    if not hashes:
        yield ()
    for start in range(0, len(hashes), limits.MAX_HASHES_PER_MESSAGE):
        yield hashes[start : start + limits.MAX_HASHES_PER_MESSAGE]


# --------------------------------------------------------------------------- state machine


class HashExchange:
    """One side of one hash exchange with one peer.

    Our requests beyond ``max_in_flight`` wait in a local queue and go out in batches as
    answers come back; a peer with more than ``max_in_flight`` requests waiting at us is
    refused. After the peer's Close, only answers to our requests are still taken (the seed
    processes nothing after a CLOSE); after both Closes, everything is ignored.
    """

    def __init__(
        self,
        algorithm: HashAlgorithm = SHA1,
        *,
        max_in_flight: int = limits.MAX_REQUESTS_IN_FLIGHT,
    ) -> None:
        if max_in_flight < 1:
            raise LocalProtocolError("max_in_flight must be at least 1")
        self.algorithm = algorithm
        self._max_in_flight = max_in_flight
        self._provided: set[str] = set()
        self._queued: dict[str, None] = {}  # an ordered set: requests not sent yet
        self._in_flight: set[str] = set()  # requests sent, not answered yet
        self._serving: set[str] = set()  # the peer's requests waiting for respond/decline
        self._sent_seqs: set[int] = set()
        self._received_seqs: set[int] = set()
        self._next_seq = 1  # the seed numbers its deliveries 1, 2, 3...
        self._local_closed = False
        self._remote_closed = False
        self._closed = False

    # ------------------------------------------------------------------ what it knows

    @property
    def local_closed(self) -> bool:
        return self._local_closed

    @property
    def remote_closed(self) -> bool:
        return self._remote_closed

    @property
    def closed(self) -> bool:
        """Both sides closed (``Closed`` was reported)."""
        return self._closed

    @property
    def outstanding(self) -> int:
        """Our requests not answered yet, in flight or still queued."""
        return len(self._in_flight) + len(self._queued)

    @property
    def in_flight(self) -> int:
        """Our requests sent and not answered yet."""
        return len(self._in_flight)

    @property
    def serving(self) -> int:
        """The peer's requests waiting for our respond or decline."""
        return len(self._serving)

    # ---------------------------------------------------------------- the seed's API

    def provide(self, hashes: Iterable[str], position: int | None = None) -> Events:
        """Tell the peer we have ``hashes``; only provided hashes are ever served.

        ``position`` says where these hashes end in our own numbering of what we provide
        (it rides on the last message when the list is split).
        """
        self._require_open("provide")
        if position is not None:
            _check_seq(position, -1)
        wanted = self._local_hashes(hashes)
        self._provided.update(wanted)
        chunks = list(_chunks(wanted))
        return [
            Send(Provide(chunk, position if i == len(chunks) - 1 else None))
            for i, chunk in enumerate(chunks)
        ]

    def request(self, hashes: Iterable[str]) -> Events:
        """Ask the peer for the content of ``hashes`` (each answered once, in time).

        An empty list still sends an empty Request, as the seed does: it tells the peer that
        we want nothing from the list it provided.
        """
        self._require_open("request")
        wanted = self._local_hashes(hashes)
        if not wanted:
            return [Send(Request(()))]
        for hash_ in wanted:
            if hash_ not in self._in_flight:
                self._queued[hash_] = None
        return self._send_queued()

    def id(self, value: str) -> Events:
        """Tell the peer our identifier."""
        self._require_open("id")
        _check_text(value, limits.MAX_EXCHANGE_ID_BYTES, "id")
        return [Send(Id(value))]

    def since(self, seq: int) -> Events:
        """Ask the peer to serve only what comes after ``seq`` (an int >= -1)."""
        self._require_open("since")
        _check_seq(seq, -1)
        return [Send(Since(seq))]

    def seen(self, seq: int) -> Events:
        """Tell the peer we stored what it numbered ``seq`` (an int >= -1)."""
        self._require_open("seen")
        _check_seq(seq, -1)
        return [Send(Seen(seq))]

    def close(self) -> Events:
        """We need nothing more. Queued requests are dropped; the peer's are still served."""
        if self._local_closed:
            raise LocalProtocolError("close() was already called")
        self._local_closed = True
        self._queued.clear()
        return [Send(Close()), *self._maybe_closed()]

    def respond(
        self, hash: str, content: bytes, seq: int | None = None, *, checked: bool = False
    ) -> Events:
        """Answer the peer's request for ``hash`` with its content, numbered ``seq``.

        Without ``seq``, the lowest number from 1 up not used yet in this exchange is taken.
        ``checked``: the caller has just verified ``content`` against ``hash`` itself (a
        content store that checks every read), so it is not hashed a second time here.
        """
        if self._closed:
            return []  # the exchange is over; a late answer has nobody to go to
        # Every check comes before any change, so a refused answer can be given again.
        self._check_serving(hash)
        if len(content) > limits.MAX_CONTENT_BYTES:
            raise LocalProtocolError(f"content of {len(content)} bytes is too large to send")
        if not checked and self.algorithm.hash_of(content) != hash:
            raise LocalProtocolError(f"the content given for {hash} does not match it")
        if seq is None:
            seq = self._unused_seq()
        _check_seq(seq, 0)
        if seq in self._sent_seqs:
            raise LocalProtocolError(f"sequence number {seq} was already used in this exchange")
        self._serving.discard(hash)
        self._sent_seqs.add(seq)
        return [Send(Deliver(hash, seq, content))]

    def decline(self, hash: str) -> Events:
        """Answer the peer's request for ``hash`` with "not here" (content missing after all)."""
        if self._closed:
            return []
        self._check_serving(hash)
        self._serving.discard(hash)
        return [Send(NotHere((hash,)))]

    # ------------------------------------------------------------ what the peer says

    def receive(self, message: AnyMessage) -> Events:
        """Take one message from the peer; ``RemoteProtocolError`` if it breaks the rules."""
        if self._closed:
            return []
        match message:
            case Deliver():
                return self._on_deliver(message)
            case NotHere(hashes):
                return self._on_not_here(hashes)
        if self._remote_closed:
            return []  # like the seed: after the peer's Close only answers count
        match message:
            case Provide(hashes, position):
                if position is not None:
                    _remote_seq(position, -1)
                return self._on_provide(hashes, position)
            case Request(hashes):
                return self._on_request(hashes)
            case Id(value):
                _remote_text(value, limits.MAX_EXCHANGE_ID_BYTES, "id")
                return [IdReceived(value)]
            case Since(seq):
                return [SinceReceived(_remote_seq(seq, -1))]
            case Seen(seq):
                return [SeenReceived(_remote_seq(seq, -1))]
            case Close():
                self._remote_closed = True
                return self._maybe_closed()
        raise LocalProtocolError(f"not a hash-exchange message: {message!r}")

    def _on_provide(self, hashes: tuple[str, ...], position: int | None) -> Events:
        self._remote_hashes(hashes)
        fresh = dict.fromkeys(h for h in hashes if h not in self._provided)
        return [Available(tuple(fresh), position)]

    def _on_request(self, hashes: tuple[str, ...]) -> Events:
        self._remote_hashes(hashes)
        # A hash asked for again while its answer is pending gets that one answer.
        fresh = [h for h in dict.fromkeys(hashes) if h not in self._serving]
        served = [h for h in fresh if h in self._provided]
        missing = tuple(h for h in fresh if h not in self._provided)
        if len(self._serving) + len(served) > self._max_in_flight:
            raise RemoteProtocolError(
                f"the peer has more than {self._max_in_flight} requests waiting at us"
            )
        self._serving.update(served)
        events: Events = [RequestReceived(tuple(fresh))]
        events += [ServeRequested(h) for h in served]
        if missing:
            events.append(Send(NotHere(missing)))
        return events

    def _on_deliver(self, message: Deliver) -> Events:
        hash_, seq, content = message.hash, message.seq, message.content
        if hash_ not in self._in_flight:
            raise RemoteProtocolError(f"delivery of {hash_!r}, which is not awaited from it")
        _remote_seq(seq, 0)
        if seq in self._received_seqs:
            raise RemoteProtocolError(f"sequence number {seq} was used twice by the peer")
        if len(content) > limits.MAX_CONTENT_BYTES:
            raise RemoteProtocolError(f"content of {len(content)} bytes exceeds the limit")
        if self.algorithm.hash_of(content) != hash_:
            raise RemoteProtocolError(f"the content delivered for {hash_} does not match it")
        self._in_flight.discard(hash_)
        self._received_seqs.add(seq)
        return [Response(hash_, content, seq), *self._refill()]

    def _on_not_here(self, hashes: tuple[str, ...]) -> Events:
        self._remote_hashes(hashes)
        events: Events = []
        for hash_ in hashes:
            if hash_ not in self._in_flight:
                raise RemoteProtocolError(f"not-here for {hash_!r}, which is not awaited from it")
            self._in_flight.discard(hash_)
            events.append(NotHereReceived(hash_))
        return events + self._refill()

    # --------------------------------------------------------------------- internals

    def _require_open(self, what: str) -> None:
        if self._local_closed:
            raise LocalProtocolError(f"{what}() after close()")

    def _local_hashes(self, hashes: Iterable[str]) -> tuple[str, ...]:
        if isinstance(hashes, str | bytes):
            raise LocalProtocolError("pass a list of hashes, not a single string")
        checked = tuple(dict.fromkeys(hashes))
        for hash_ in checked:
            if not self.algorithm.is_hash(hash_):
                raise LocalProtocolError(f"{hash_!r} is not a {self.algorithm.name} hash")
        return checked

    def _remote_hashes(self, hashes: tuple[str, ...]) -> None:
        # The codec bounds these already; a message built in memory must obey the same rules.
        if len(hashes) > limits.MAX_HASHES_PER_MESSAGE:
            raise RemoteProtocolError(f"{len(hashes)} hashes in one message exceed the limit")
        for hash_ in hashes:
            if not self.algorithm.is_hash(hash_):
                raise RemoteProtocolError(f"{hash_!r} is not a {self.algorithm.name} hash")

    def _check_serving(self, hash_: str) -> None:
        if hash_ not in self._serving:
            raise LocalProtocolError(f"the peer has no request for {hash_!r} waiting")

    def _unused_seq(self) -> int:
        while self._next_seq in self._sent_seqs:
            self._next_seq += 1
        return self._next_seq

    def _send_queued(self) -> Events:
        events: Events = []
        while self._queued and len(self._in_flight) < self._max_in_flight:
            room = min(self._max_in_flight - len(self._in_flight), limits.MAX_HASHES_PER_MESSAGE)
            batch = tuple(islice(self._queued, room))
            for hash_ in batch:
                del self._queued[hash_]
            self._in_flight.update(batch)
            events.append(Send(Request(batch)))
        return events

    def _refill(self) -> Events:
        # Wait until half the window is free, so requests go out in batches, not one by one.
        if self._local_closed or len(self._in_flight) > self._max_in_flight // 2:
            return []
        return self._send_queued()

    def _maybe_closed(self) -> Events:
        if self._closed or not (self._local_closed and self._remote_closed):
            return []
        self._closed = True
        self._serving.clear()
        self._in_flight.clear()
        return [Closed()]


def _remote_seq(seq: int, minimum: int) -> int:
    if not isinstance(seq, int) or not minimum <= seq <= limits.MAX_SEQUENCE:
        raise RemoteProtocolError(
            f"sequence number {seq!r} is outside {minimum}..{limits.MAX_SEQUENCE}"
        )
    return seq


def _remote_text(text: str, maximum: int, what: str) -> None:
    fault = _text_fault(text, maximum, what)
    if fault:
        raise RemoteProtocolError(fault)
