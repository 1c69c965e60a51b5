"""The wire format of the npm package hash-exchange 4.0.1, byte for byte, without I/O.

Three layers (docs/protocol/hx4.md has the details and an annotated capture):

1. a varint length before every frame;
2. a multiplex frame, protobuf: channel (sint32), name, type (DATA/END/ERROR), data;
3. on the stream named ``"0"``, one RPC per DATA frame, protobuf with fields numbered from 0
   (which protobuf libraries refuse, hence this hand-written codec); each requested content
   travels on its own stream, named by the hex of seq + 1 and announced by a HASHES RPC.

``Hx4Connection`` turns the peer's bytes into ``hash_exchange`` messages and our messages
into bytes, so one ``HashExchange`` drives this wire as it drives the native one. Everything
a peer sends is bounded by ``limits``; malformed or hostile input raises
``RemoteProtocolError`` and nothing else. This module must never do I/O, keep the peer's
bytes beyond those limits, or decide anything the state machine decides.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import IntEnum

from ..errors import LocalProtocolError, RemoteProtocolError
from . import limits
from .hash_exchange import (
    AnyMessage,
    Close,
    Deliver,
    Id,
    NotHere,
    Provide,
    Request,
    Seen,
    Since,
    decode_text,
)
from .wire import Reader, VarintFramer, Writer, zigzag_decode, zigzag_encode

#: Name of the stream that carries the RPCs (``parseInt("0", 16)`` is seq 0 in the seed).
RPC_STREAM_NAME = "0"
_MAX_UINT32 = 2**32 - 1
_CONTENT_STREAM_NAME = re.compile(r"[1-9a-f][0-9a-f]{0,7}")  # hex of 1..2**32-1, as JS writes

# protobuf wire types
_VARINT = 0
_FIXED64 = 1
_LENGTH = 2
_FIXED32 = 5

# ------------------------------------------------------------------------------------ RPCs


class RpcType(IntEnum):
    AVAILABLE = 0
    REQUEST = 1
    HASHES = 2
    SINCE = 3
    CLOSE = 4
    SEEN = 5
    ID = 6


@dataclass(frozen=True, slots=True)
class Rpc:
    """One hash-exchange 4 RPC. ``sequence`` is the wire value (seq + 1 for SINCE/SEEN)."""

    kind: RpcType
    hashes: tuple[str, ...] = ()
    mapping: tuple[tuple[str, int], ...] = ()  # (hash, sequence) pairs of a HASHES
    sequence: int | None = None


def encode_rpc(rpc: Rpc) -> bytes:
    """Encode ``rpc`` as the seed does: type, hashes, mapping entries, sequence, in that order."""
    w = Writer().byte(_key(0, _VARINT)).varint(rpc.kind)
    for text in rpc.hashes:
        w.byte(_key(1, _LENGTH)).blob(text.encode())
    for hash_, seq in rpc.mapping:
        entry = Writer().byte(_key(0, _LENGTH)).blob(hash_.encode())
        entry.byte(_key(1, _VARINT)).varint(seq)
        w.byte(_key(2, _LENGTH)).blob(entry.getvalue())
    if rpc.sequence is not None:
        w.byte(_key(3, _VARINT)).varint(rpc.sequence)
    return w.getvalue()


def decode_rpc(data: bytes) -> Rpc:
    """Decode one RPC; anything malformed, oversized or out of shape is ``RemoteProtocolError``."""
    kind: int | None = None
    hashes: list[str] = []
    mapping: list[tuple[str, int]] = []
    sequence: int | None = None
    longest = max(limits.MAX_HASH_TEXT_BYTES, limits.MAX_EXCHANGE_ID_BYTES)
    for number, wire, value in _fields(data):
        if number == 0:
            kind = _int_field(wire, value, "RPC type")
        elif number == 1:
            _count(len(hashes) + 1, "hashes")
            hashes.append(_text_field(wire, value, longest, "hash"))
        elif number == 2:
            _count(len(mapping) + 1, "mapping entries")
            mapping.append(_decode_mapping_entry(_bytes_field(wire, value, "mapping entry")))
        elif number == 3:
            sequence = _int_field(wire, value, "sequence")
            if sequence > _MAX_UINT32:
                raise RemoteProtocolError(f"sequence {sequence} does not fit 32 bits")
    if kind is None:
        raise RemoteProtocolError("RPC without a type")
    if kind not in RpcType.__members__.values():
        raise RemoteProtocolError(f"unknown RPC type {kind}")
    rpc = Rpc(RpcType(kind), tuple(hashes), tuple(mapping), sequence)
    _check_shape(rpc)
    return rpc


def _decode_mapping_entry(data: bytes) -> tuple[str, int]:
    hash_: str | None = None
    seq: int | None = None
    for number, wire, value in _fields(data):
        if number == 0:
            hash_ = _text_field(wire, value, limits.MAX_HASH_TEXT_BYTES, "mapped hash")
        elif number == 1:
            seq = _int_field(wire, value, "mapped sequence")
            if seq > _MAX_UINT32:
                raise RemoteProtocolError(f"mapped sequence {seq} does not fit 32 bits")
    if hash_ is None or seq is None:
        raise RemoteProtocolError("mapping entry without its hash or its sequence")
    return hash_, seq


def _check_shape(rpc: Rpc) -> None:
    """Refuse fields the seed never puts in an RPC of that type."""
    kind = rpc.kind
    with_hashes = kind in (RpcType.AVAILABLE, RpcType.REQUEST, RpcType.ID)
    if rpc.hashes and not with_hashes:
        raise RemoteProtocolError(f"{kind.name} RPC carries hashes")
    if rpc.mapping and kind is not RpcType.HASHES:
        raise RemoteProtocolError(f"{kind.name} RPC carries a mapping")
    if rpc.sequence is not None and kind not in (RpcType.SINCE, RpcType.SEEN):
        raise RemoteProtocolError(f"{kind.name} RPC carries a sequence")
    if kind is RpcType.ID:
        if len(rpc.hashes) != 1:
            raise RemoteProtocolError(f"ID RPC with {len(rpc.hashes)} values instead of one")
        if len(rpc.hashes[0].encode()) > limits.MAX_EXCHANGE_ID_BYTES:
            raise RemoteProtocolError("ID longer than the limit")
    elif any(len(h.encode()) > limits.MAX_HASH_TEXT_BYTES for h in rpc.hashes):
        raise RemoteProtocolError("hash longer than the limit")


# ---------------------------------------------------------------------------------- frames


class FrameType(IntEnum):
    DATA = 1
    END = 2
    ERROR = 3


@dataclass(frozen=True, slots=True)
class Frame:
    """One multiplex frame. Channel +(i+1) is slot i of the sender; -(i+1) replies to it."""

    channel: int
    kind: FrameType = FrameType.DATA
    name: str | None = None
    data: bytes | None = None


def encode_frame(frame: Frame) -> bytes:
    """Encode ``frame`` (without its length prefix) exactly as the seed's multiplex does."""
    w = Writer().byte(_key(1, _VARINT)).varint(zigzag_encode(frame.channel) & _MAX_UINT32)
    if frame.name is not None:
        w.byte(_key(2, _LENGTH)).blob(frame.name.encode())
    if frame.kind is not FrameType.DATA:  # DATA is the schema's default: the seed omits it
        w.byte(_key(3, _VARINT)).varint(frame.kind)
    if frame.data is not None:
        w.byte(_key(4, _LENGTH)).blob(frame.data)
    return w.getvalue()


def decode_frame(data: bytes) -> Frame:
    """Decode one frame body; anything malformed is ``RemoteProtocolError``."""
    channel: int | None = None
    name: str | None = None
    kind = FrameType.DATA
    payload: bytes | None = None
    for number, wire, value in _fields(data):
        if number == 1:
            raw = _int_field(wire, value, "channel")
            if raw > _MAX_UINT32:
                raise RemoteProtocolError(f"channel {raw} does not fit 32 bits")
            channel = zigzag_decode(raw)
        elif number == 2:
            name = _text_field(wire, value, limits.MAX_HX4_STREAM_NAME_BYTES, "stream name")
        elif number == 3:
            code = _int_field(wire, value, "frame type")
            if code not in FrameType.__members__.values():
                raise RemoteProtocolError(f"unknown frame type {code}")
            kind = FrameType(code)
        elif number == 4:
            payload = _bytes_field(wire, value, "frame data")
    if channel is None:
        raise RemoteProtocolError("frame without a channel")
    if channel == 0:
        raise RemoteProtocolError("frame on channel 0, which no stream uses")
    return Frame(channel, kind, name, payload)


# ----------------------------------------------------------------------- protobuf helpers


def _key(number: int, wire: int) -> int:
    return (number << 3) | wire


def _fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield (field number, wire type, value) of a protobuf message; unknown ones too.

    Groups and undefined wire types are refused; every length is bounded by the input.
    """
    r = Reader(bytes(data))
    while r.remaining:
        key = r.varint(_MAX_UINT32, "field key")
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            yield number, wire, r.varint()
        elif wire == _LENGTH:
            yield number, wire, r.blob(r.remaining, f"field {number}")
        elif wire == _FIXED64:
            yield number, wire, r.fixed(8, f"field {number}")
        elif wire == _FIXED32:
            yield number, wire, r.fixed(4, f"field {number}")
        else:
            raise RemoteProtocolError(f"protobuf wire type {wire} is not allowed")


def _int_field(wire: int, value: int | bytes, what: str) -> int:
    if wire != _VARINT or not isinstance(value, int):
        raise RemoteProtocolError(f"{what} is not a varint")
    return value


def _bytes_field(wire: int, value: int | bytes, what: str) -> bytes:
    if wire != _LENGTH or not isinstance(value, bytes):
        raise RemoteProtocolError(f"{what} is not length-delimited")
    return value


def _text_field(wire: int, value: int | bytes, maximum: int, what: str) -> str:
    raw = _bytes_field(wire, value, what)
    if len(raw) > maximum:
        raise RemoteProtocolError(f"{what} of {len(raw)} bytes exceeds the limit of {maximum}")
    return decode_text(raw, what)


def _count(count: int, what: str) -> None:
    if count > limits.MAX_HASHES_PER_MESSAGE:
        raise RemoteProtocolError(f"more than {limits.MAX_HASHES_PER_MESSAGE} {what} in one RPC")


# ------------------------------------------------------------------------------ connection


@dataclass(slots=True)
class _PeerStream:
    """A stream the peer opened: its RPC stream (no hash) or the content of one hash."""

    hash: str | None
    seq: int
    parts: list[bytes] = field(default_factory=list)
    size: int = 0


@dataclass(slots=True)
class _Answer:
    """One REQUEST of the peer: answered by one HASHES once none of its hashes is waiting."""

    waiting: set[str]
    deliveries: list[Deliver] = field(default_factory=list)


class Hx4Connection:
    """Hash-exchange 4 bytes in and out for one link; ``hash_exchange`` messages in between.

    Feed the peer's bytes to ``receive_data`` (and its end of stream to ``receive_eof``),
    hand the messages they yield to ``HashExchange.receive``, give every message of a
    ``Send`` event to ``send``, and write ``data_to_send()`` to the peer.

    What the wire cannot say directly is rebuilt here: the seed answers each REQUEST with
    exactly one HASHES, in order, mapping only what it serves, so hashes a HASHES leaves out
    become ``NotHere``, and our own answers are gathered per REQUEST before they go out.
    """

    def __init__(self) -> None:
        self._framer = VarintFramer(limits.MAX_HX4_FRAME_BYTES, skip_empty=True)
        self._out = bytearray()
        self._error: RemoteProtocolError | None = None
        # Our side. Slot 0 is our RPC stream, taken from the start as the seed does.
        self._slots: list[bool] = [True]
        self._rpc_named = False
        self._asked: deque[tuple[str, ...]] = deque()  # our REQUESTs awaiting their HASHES
        self._answers: deque[_Answer] = deque()  # the peer's REQUESTs, oldest first
        self._answer_of: dict[str, _Answer] = {}  # hash -> the REQUEST it waits in
        self._local_closed = False
        # The peer's side.
        self._streams: dict[int, _PeerStream] = {}  # by channel
        self._rpc_opened = False
        self._announced: dict[int, str] = {}  # seq -> hash, mapped but stream not opened yet
        self._seqs_in_use: set[int] = set()
        self._buffered = 0
        self._remote_closed = False

    @property
    def buffered(self) -> int:
        """Bytes of the peer's unfinished frames and content streams held right now."""
        return self._framer.buffered + self._buffered

    @property
    def open_streams(self) -> int:
        """Streams the peer has open at us."""
        return len(self._streams)

    # --------------------------------------------------------------------- inbound

    def receive_data(self, data: bytes) -> list[AnyMessage]:
        """The messages that ``data`` completes. After one error, every call fails."""
        if self._error is not None:
            raise RemoteProtocolError(f"the link already failed: {self._error}")
        try:
            messages: list[AnyMessage] = []
            for body in self._framer.feed(data):
                messages += self._on_frame(decode_frame(body))
            return messages
        except RemoteProtocolError as exc:
            self._error = exc
            raise

    def receive_eof(self) -> list[AnyMessage]:
        """The peer's byte stream ended.

        The seed loses its own CLOSE when it closes second: it ends its output in the same
        step. So once we have closed and owe the peer nothing, the end of its stream stands
        for its CLOSE. Otherwise the link was simply lost: no message.
        """
        if self._error or self._remote_closed or not self._local_closed or self._answers:
            return []
        self._remote_closed = True
        return [Close()]

    def _on_frame(self, frame: Frame) -> list[AnyMessage]:
        if frame.channel < 0:
            return self._on_reply(frame)
        stream = self._streams.get(frame.channel)
        if stream is None:
            stream = self._open_peer_stream(frame)
        if frame.kind is FrameType.DATA:
            return self._on_data(stream, frame.data)
        del self._streams[frame.channel]
        self._buffered -= stream.size
        if stream.hash is None:
            raise RemoteProtocolError("the peer ended its RPC stream")
        self._seqs_in_use.discard(stream.seq)
        if frame.kind is FrameType.END:
            return [Deliver(stream.hash, stream.seq, b"".join(stream.parts))]
        # ERROR: the peer failed to read the content after announcing it.
        return [NotHere((stream.hash,))]

    def _on_reply(self, frame: Frame) -> list[AnyMessage]:
        # Multiplex lets a side write back on a stream the other opened; hash-exchange never
        # does. Its stream teardown could still send END or ERROR there, which say nothing.
        if frame.kind is FrameType.DATA:
            raise RemoteProtocolError(
                f"DATA on channel {frame.channel}: hash-exchange never writes back on a stream"
            )
        return []

    def _open_peer_stream(self, frame: Frame) -> _PeerStream:
        name = frame.name
        if not name:
            raise RemoteProtocolError(f"stream on channel {frame.channel} opened without a name")
        if len(self._streams) >= limits.MAX_HX4_OPEN_STREAMS:
            raise RemoteProtocolError(
                f"the peer opened more than {limits.MAX_HX4_OPEN_STREAMS} streams at once"
            )
        if name == RPC_STREAM_NAME:
            if self._rpc_opened:
                raise RemoteProtocolError("the peer opened a second RPC stream")
            self._rpc_opened = True
            stream = _PeerStream(None, -1)
        else:
            seq = _content_seq(name)
            hash_ = self._announced.pop(seq, None)
            if hash_ is None:
                raise RemoteProtocolError(f"content stream {name!r} was never announced")
            stream = _PeerStream(hash_, seq)
        self._streams[frame.channel] = stream
        return stream

    def _on_data(self, stream: _PeerStream, data: bytes | None) -> list[AnyMessage]:
        if data is None:
            raise RemoteProtocolError("DATA frame without data")
        if stream.hash is None:
            return self._on_rpc(decode_rpc(data))
        stream.size += len(data)
        self._buffered += len(data)
        if stream.size > limits.MAX_CONTENT_BYTES:
            raise RemoteProtocolError(f"content for {stream.hash} exceeds the limit")
        if self._buffered > limits.MAX_HX4_BUFFERED_BYTES:
            raise RemoteProtocolError("the peer's unfinished content streams exceed the limit")
        stream.parts.append(data)
        return []

    def _on_rpc(self, rpc: Rpc) -> list[AnyMessage]:
        if self._remote_closed and rpc.kind is not RpcType.HASHES:
            return []  # the seed processes no RPC after CLOSE; answers to our asks still count
        match rpc.kind:
            case RpcType.AVAILABLE:
                return [Provide(rpc.hashes)]
            case RpcType.REQUEST:
                return self._on_request(rpc.hashes)
            case RpcType.HASHES:
                return self._on_hashes(rpc.mapping)
            case RpcType.SINCE:
                return [Since(_seq_from_wire(rpc.sequence))]
            case RpcType.SEEN:
                return [Seen(_seq_from_wire(rpc.sequence))]
            case RpcType.CLOSE:
                self._remote_closed = True
                return [Close()]
            case RpcType.ID:
                return [Id(rpc.hashes[0])]
        raise AssertionError(rpc.kind)  # pragma: no cover - every RpcType is handled above

    def _on_request(self, hashes: tuple[str, ...]) -> list[AnyMessage]:
        if len(self._answers) >= limits.MAX_HX4_PENDING_REQUESTS:
            raise RemoteProtocolError(
                f"the peer has more than {limits.MAX_HX4_PENDING_REQUESTS} REQUESTs waiting"
            )
        # A hash already waiting in an earlier REQUEST is answered there, once.
        fresh = tuple(h for h in dict.fromkeys(hashes) if h not in self._answer_of)
        answer = _Answer(set(fresh))
        self._answers.append(answer)
        for hash_ in fresh:
            self._answer_of[hash_] = answer
        self._flush_answers()  # a REQUEST with nothing new is answered at once, in turn
        return [Request(fresh)]

    def _on_hashes(self, mapping: tuple[tuple[str, int], ...]) -> list[AnyMessage]:
        if not self._asked:
            raise RemoteProtocolError("HASHES without a REQUEST of ours to answer")
        unanswered = dict.fromkeys(self._asked.popleft())
        for hash_, seq in mapping:
            if hash_ not in unanswered:
                raise RemoteProtocolError(f"HASHES maps {hash_!r}, which was not asked for there")
            del unanswered[hash_]
            if seq > limits.MAX_SEQUENCE:
                raise RemoteProtocolError(f"sequence {seq} exceeds {limits.MAX_SEQUENCE}")
            if seq in self._seqs_in_use:
                raise RemoteProtocolError(f"sequence {seq} is already in use")
            self._seqs_in_use.add(seq)
            self._announced[seq] = hash_
        return [NotHere(tuple(unanswered))] if unanswered else []

    # -------------------------------------------------------------------- outbound

    def send(self, message: AnyMessage) -> None:
        """Queue the bytes of ``message``; answers wait until their REQUEST is complete."""
        match message:
            case Provide(hashes):
                self._write_rpc(Rpc(RpcType.AVAILABLE, hashes=hashes))
            case Request(hashes):
                self._asked.append(hashes)
                self._write_rpc(Rpc(RpcType.REQUEST, hashes=hashes))
            case Deliver():
                self._take_waiting(message.hash).deliveries.append(message)
                self._flush_answers()
            case NotHere(hashes):
                for hash_ in hashes:
                    self._take_waiting(hash_)
                self._flush_answers()
            case Id(value):
                self._write_rpc(Rpc(RpcType.ID, hashes=(value,)))
            case Since(seq):
                self._write_rpc(Rpc(RpcType.SINCE, sequence=seq + 1))
            case Seen(seq):
                self._write_rpc(Rpc(RpcType.SEEN, sequence=seq + 1))
            case Close():
                self._local_closed = True
                self._write_rpc(Rpc(RpcType.CLOSE))
            case _:
                raise LocalProtocolError(f"not a hash-exchange message: {message!r}")

    def data_to_send(self) -> bytes:
        """The bytes queued for the peer since the last call."""
        data = bytes(self._out)
        self._out.clear()
        return data

    def _take_waiting(self, hash_: str) -> _Answer:
        answer = self._answer_of.pop(hash_, None)
        if answer is None:
            raise LocalProtocolError(f"the peer has no REQUEST for {hash_!r} waiting")
        answer.waiting.discard(hash_)
        return answer

    def _flush_answers(self) -> None:
        while self._answers and not self._answers[0].waiting:
            answer = self._answers.popleft()
            mapping = tuple((d.hash, d.seq) for d in answer.deliveries)
            self._write_rpc(Rpc(RpcType.HASHES, mapping=mapping))
            # Like the seed, open every stream of one answer before writing into any of them,
            # so the channels are numbered as it numbers them.
            slots = [self._open_slot() for _ in answer.deliveries]
            for slot, delivery in zip(slots, answer.deliveries, strict=True):
                self._write_content(slot, delivery)

    def _write_content(self, slot: int, delivery: Deliver) -> None:
        channel = slot + 1
        name: str | None = format(delivery.seq + 1, "x")
        content = delivery.content
        for start in range(0, len(content), limits.HX4_CHUNK_BYTES):
            chunk = content[start : start + limits.HX4_CHUNK_BYTES]
            self._write_frame(Frame(channel, FrameType.DATA, name, chunk))
            name = None  # the name travels on the first frame of a stream only
        # Empty content sends no DATA at all, so its END carries the name, as the seed's does.
        self._write_frame(Frame(channel, FrameType.END, name))
        self._slots[slot] = False

    def _open_slot(self) -> int:
        for slot, used in enumerate(self._slots):
            if not used:
                self._slots[slot] = True
                return slot
        self._slots.append(True)
        return len(self._slots) - 1

    def _write_rpc(self, rpc: Rpc) -> None:
        name = None if self._rpc_named else RPC_STREAM_NAME
        self._rpc_named = True
        self._write_frame(Frame(1, FrameType.DATA, name, encode_rpc(rpc)))

    def _write_frame(self, frame: Frame) -> None:
        self._out += VarintFramer.frame(encode_frame(frame))


def _content_seq(name: str) -> int:
    """The seq a content stream's name stands for (lowercase hex of seq + 1, as JS writes)."""
    if not _CONTENT_STREAM_NAME.fullmatch(name):
        raise RemoteProtocolError(f"{name!r} is not the name of a content stream")
    return int(name, 16) - 1


def _seq_from_wire(sequence: int | None) -> int:
    # SINCE/SEEN carry seq + 1; a missing field reads as protobuf's default 0, i.e. -1.
    return (sequence or 0) - 1
