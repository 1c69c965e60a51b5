"""Key gossip: signed operations, the four wire messages, and their binary codec.

An operation is one author's signed statement "key K is advertised" or "key K is deleted",
numbered 1, 2, 3... per author. Messages carry operations grouped by author, with the
intervals of numbers the sender vouches for (see docs/protocol/gossip.md).

``decode_message`` turns any byte string into a message or raises ``RemoteProtocolError``;
it never raises anything else and never allocates beyond the limits in ``limits``.
This module must never verify signatures or hold state: that is ``keyset``'s job.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import IntEnum

from ..errors import LocalProtocolError, RemoteProtocolError
from . import limits
from .intervals import Interval
from .wire import Reader, Writer

#: Version of the gossip wire format, sent in ``Hello``.
GOSSIP_VERSION = 1
AUTHOR_BYTES = 32  # an Ed25519 public key
SIGNATURE_BYTES = 64  # an Ed25519 signature
FINGERPRINT_BYTES = 16
_SIGNING_DOMAIN = b"natakanu-gossip-op/1\x00"


class OpKind(IntEnum):
    ADVERTISE = 1
    DELETE = 2


@dataclass(frozen=True, slots=True)
class Operation:
    """One author's signed advertise or delete of one key."""

    author: bytes
    seq: int
    kind: OpKind
    key: bytes
    signature: bytes

    def content_hash(self) -> int:
        """64-bit hash of what the operation says (not of its signature).

        Two operations with the same author and number but different hashes are an
        equivocation; the sum of these hashes over live operations is an author's digest.
        """
        h = hashlib.blake2b(digest_size=8)
        h.update(self.author)
        h.update(self.seq.to_bytes(8, "big"))
        h.update(bytes((self.kind,)))
        h.update(self.key)
        return int.from_bytes(h.digest(), "big")


def signing_payload(topic: str, author: bytes, seq: int, kind: OpKind, key: bytes) -> bytes:
    """The exact bytes an author signs: bound to the topic, so no replay across topics."""
    topic_bytes = topic.encode()
    return b"".join(
        (
            _SIGNING_DOMAIN,
            len(topic_bytes).to_bytes(1, "big"),
            topic_bytes,
            author,
            seq.to_bytes(8, "big"),
            bytes((kind,)),
            key,
        )
    )


# ------------------------------------------------------------------------------ messages


@dataclass(frozen=True, slots=True)
class Hello:
    """First message on every link: which topic and which format version we speak."""

    topic: str
    version: int = GOSSIP_VERSION


@dataclass(frozen=True, slots=True)
class Summary:
    """A fingerprint of the whole replicated state. ``reply`` marks an answer to a Summary."""

    fingerprint: bytes
    reply: bool = False


@dataclass(frozen=True, slots=True)
class VectorEntry:
    """What a replica holds of one author: covered operation numbers and a digest."""

    author: bytes
    covered: tuple[Interval, ...]
    digest: int


@dataclass(frozen=True, slots=True)
class Vector:
    """A replica's entries, possibly split over several messages; ``final`` ends the list."""

    entries: tuple[VectorEntry, ...]
    final: bool = True


@dataclass(frozen=True, slots=True)
class AuthorBatch:
    """Every live operation of ``author`` numbered inside ``covered``, as the sender knows them."""

    author: bytes
    covered: tuple[Interval, ...]
    ops: tuple[Operation, ...]


@dataclass(frozen=True, slots=True)
class Delta:
    """Operations the receiver lacks, and the sender's entries for authors where it lags."""

    batches: tuple[AuthorBatch, ...]
    wants: tuple[VectorEntry, ...] = ()


GossipMessage = Hello | Summary | Vector | Delta

_HELLO, _SUMMARY, _VECTOR, _DELTA = 1, 2, 3, 4


# ------------------------------------------------------------------------------ encoding


def _write_intervals(w: Writer, intervals: tuple[Interval, ...]) -> None:
    w.varint(len(intervals))
    previous_end = 0
    for start, end in intervals:
        # Gap from the previous interval, then length: small numbers, short varints.
        w.varint(start - previous_end - 1).varint(end - start)
        previous_end = end


def _write_entry(w: Writer, entry: VectorEntry) -> None:
    w.raw(entry.author)
    _write_intervals(w, entry.covered)
    w.raw(entry.digest.to_bytes(8, "big"))


def _write_batch(w: Writer, batch: AuthorBatch) -> None:
    w.raw(batch.author)
    _write_intervals(w, batch.covered)
    w.varint(len(batch.ops))
    previous = 0
    for op in batch.ops:
        w.varint(op.seq - previous - 1)  # numbers ascend: send the gap
        previous = op.seq
        w.byte(op.kind).blob(op.key).raw(op.signature)


def encode_message(message: GossipMessage) -> bytes:
    """Encode one message; raises ``LocalProtocolError`` if it breaks a limit."""
    w = Writer()
    match message:
        case Hello(topic=topic, version=version):
            w.byte(_HELLO).blob(topic.encode()).varint(version)
        case Summary(fingerprint=fingerprint, reply=reply):
            w.byte(_SUMMARY).raw(fingerprint).byte(1 if reply else 0)
        case Vector(entries=entries, final=final):
            w.byte(_VECTOR).byte(1 if final else 0).varint(len(entries))
            for entry in entries:
                _write_entry(w, entry)
        case Delta(batches=batches, wants=wants):
            w.byte(_DELTA).varint(len(batches))
            for batch in batches:
                _write_batch(w, batch)
            w.varint(len(wants))
            for entry in wants:
                _write_entry(w, entry)
    data = w.getvalue()
    if len(data) > limits.MAX_GOSSIP_FRAME_BYTES:
        raise LocalProtocolError(f"gossip message of {len(data)} bytes is over the frame limit")
    return data


# ------------------------------------------------------------------------------ decoding


def _read_intervals(r: Reader) -> tuple[Interval, ...]:
    count = r.count(limits.MAX_INTERVALS_PER_AUTHOR, "intervals")
    intervals: list[Interval] = []
    previous_end = 0
    for _ in range(count):
        start = previous_end + 1 + r.varint(limits.MAX_OPS_PER_AUTHOR, "interval gap")
        end = start + r.varint(limits.MAX_OPS_PER_AUTHOR, "interval length")
        if end > limits.MAX_OPS_PER_AUTHOR:
            raise RemoteProtocolError(
                f"operation number {end} is over the per-author quota of "
                f"{limits.MAX_OPS_PER_AUTHOR}"
            )
        intervals.append((start, end))
        previous_end = end
    return tuple(intervals)


def _read_entry(r: Reader) -> VectorEntry:
    author = r.fixed(AUTHOR_BYTES, "author")
    covered = _read_intervals(r)
    digest = int.from_bytes(r.fixed(8, "digest"), "big")
    return VectorEntry(author, covered, digest)


def _read_batch(r: Reader, ops_budget: int) -> AuthorBatch:
    author = r.fixed(AUTHOR_BYTES, "author")
    covered = _read_intervals(r)
    count = r.count(ops_budget, "operations in the message")
    ops: list[Operation] = []
    seq = 0
    for _ in range(count):
        seq += 1 + r.varint(limits.MAX_OPS_PER_AUTHOR, "operation number gap")
        if seq > limits.MAX_OPS_PER_AUTHOR:
            raise RemoteProtocolError(
                f"operation number {seq} is over the per-author quota of "
                f"{limits.MAX_OPS_PER_AUTHOR}"
            )
        kind_value = r.byte("operation kind")
        if kind_value not in (OpKind.ADVERTISE, OpKind.DELETE):
            raise RemoteProtocolError(f"unknown operation kind {kind_value}")
        key = r.blob(limits.MAX_KEY_BYTES, "key")
        if not key:
            raise RemoteProtocolError("empty key")
        signature = r.fixed(SIGNATURE_BYTES, "signature")
        if not any(start <= seq <= end for start, end in covered):
            raise RemoteProtocolError(
                f"operation number {seq} lies outside the intervals its message vouches for"
            )
        ops.append(Operation(author, seq, OpKind(kind_value), key, signature))
    return AuthorBatch(author, covered, tuple(ops))


def _read_authors_unique(entries: list[bytes]) -> None:
    if len(set(entries)) != len(entries):
        raise RemoteProtocolError("an author appears twice in one message")


def decode_message(data: bytes | memoryview) -> GossipMessage:
    """Decode one gossip frame, or raise ``RemoteProtocolError``."""
    if len(data) > limits.MAX_GOSSIP_FRAME_BYTES:
        raise RemoteProtocolError(f"gossip frame of {len(data)} bytes is over the limit")
    r = Reader(bytes(data))
    tag = r.byte("message type")
    message: GossipMessage
    if tag == _HELLO:
        raw_topic = r.blob(limits.MAX_TOPIC_BYTES, "topic")
        try:
            topic = raw_topic.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RemoteProtocolError("topic is not valid UTF-8") from exc
        message = Hello(topic, r.varint(1 << 16, "version"))
    elif tag == _SUMMARY:
        fingerprint = r.fixed(FINGERPRINT_BYTES, "fingerprint")
        flag = r.byte("reply flag")
        if flag > 1:
            raise RemoteProtocolError("reply flag must be 0 or 1")
        message = Summary(fingerprint, bool(flag))
    elif tag == _VECTOR:
        flag = r.byte("final flag")
        if flag > 1:
            raise RemoteProtocolError("final flag must be 0 or 1")
        entries = tuple(_read_entry(r) for _ in range(r.count(limits.MAX_AUTHORS, "entries")))
        _read_authors_unique([e.author for e in entries])
        message = Vector(entries, bool(flag))
    elif tag == _DELTA:
        batches: list[AuthorBatch] = []
        budget = limits.MAX_OPS_PER_MESSAGE
        for _ in range(r.count(limits.MAX_AUTHORS, "author batches")):
            batch = _read_batch(r, budget)
            budget -= len(batch.ops)
            batches.append(batch)
        wants = tuple(_read_entry(r) for _ in range(r.count(limits.MAX_AUTHORS, "wants")))
        _read_authors_unique([b.author for b in batches])
        _read_authors_unique([e.author for e in wants])
        message = Delta(tuple(batches), wants)
    else:
        raise RemoteProtocolError(f"unknown gossip message type {tag}")
    r.done()
    return message
