"""Key gossip engine: the seed's API (advertise, delete, broadcast, list) over many links.

One ``Gossip`` per topic and identity. The caller reports links opening and closing and the
bytes that arrive on them; every consequence comes back as a list of events: bytes to send
on a link, a link to close (and why), the list having changed, operations to store, an
author caught signing two different operations.

Sync sends the difference, not the set: a link starts with a 16-byte fingerprint; only if
fingerprints differ does one side send its per-author vector, and then each side sends the
operations the other lacks (docs/protocol/gossip.md, "Reconciliation"). Live changes are pushed to
every link, minus what that link is known to hold already, so an operation crosses each link
at most once in each direction.

This module must never do I/O, read a clock, or draw random numbers; and it never calls back.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

from ..errors import KeyTooLargeError, LocalProtocolError, RemoteProtocolError, UsageError
from . import limits
from .gossip_messages import (
    AuthorBatch,
    Delta,
    GossipMessage,
    Hello,
    Operation,
    OpKind,
    Summary,
    Vector,
    VectorEntry,
    decode_message,
    encode_message,
    signing_payload,
)
from .intervals import Interval, IntervalSet
from .keyset import Equivocation, KeySet, Verify

LinkId = Hashable
_Outgoing = tuple[list[AuthorBatch], list[VectorEntry]]
Sign = Callable[[bytes], bytes]

DEFAULT_TOPIC = "natakanu-gossip@1"

# A message is split well below the frame limit, whatever the key sizes.
_SPLIT_BYTES = limits.MAX_GOSSIP_FRAME_BYTES // 2
_OP_OVERHEAD = 80  # number gap, kind, key length, signature: an upper bound


# ------------------------------------------------------------------------------ events


class GossipEvent:
    """Base of everything ``Gossip`` returns."""

    __slots__ = ()


Events = list[GossipEvent]


@dataclass(frozen=True, slots=True)
class SendTo(GossipEvent):
    """Send these bytes, as one frame, on this link."""

    link: LinkId
    data: bytes


@dataclass(frozen=True, slots=True)
class CloseLink(GossipEvent):
    """Close this link: the peer broke the protocol (or speaks another topic)."""

    link: LinkId
    reason: str


@dataclass(frozen=True, slots=True)
class KeysChanged(GossipEvent):
    """The list changed; this is the new sorted list. Fires once per actual change."""

    keys: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class OperationsLearned(GossipEvent):
    """New valid operations (our own included) and covered numbers, for durable storage."""

    author: bytes
    ops: tuple[Operation, ...]
    covered: tuple[Interval, ...]


@dataclass(frozen=True, slots=True)
class AuthorFlagged(GossipEvent):
    """An author signed two different operations with the same number."""

    author: bytes
    reason: str
    evidence: Equivocation


# ------------------------------------------------------------------------------ links


@dataclass(eq=False)
class _Link:
    hello: bool = False
    # What the peer told us it holds (its vector, or operations it sent us), per author.
    remote: dict[bytes, IntervalSet] = field(default_factory=dict)
    # What we sent it. Pushes skip both, so an operation crosses a link at most once each
    # way; a vector is answered from ``remote`` only, so what a lost message carried is
    # sent again when the peer says it still lacks it.
    sent: dict[bytes, IntervalSet] = field(default_factory=dict)
    vector_parts: dict[bytes, VectorEntry] = field(default_factory=dict)


class Gossip:
    """Replicates one topic's key set with every linked peer."""

    def __init__(
        self,
        *,
        author: bytes,
        sign: Sign,
        verify: Verify,
        topic: str = DEFAULT_TOPIC,
        keyset: KeySet | None = None,
    ) -> None:
        if not topic or len(topic.encode()) > limits.MAX_TOPIC_BYTES:
            raise UsageError(
                f"The topic name must be 1 to {limits.MAX_TOPIC_BYTES} bytes long; "
                "choose a shorter name."
            )
        self.topic = topic
        self.author = author
        self._sign = sign
        self.keyset = keyset if keyset is not None else KeySet(topic, verify)
        if self.keyset.topic != topic:
            raise LocalProtocolError("the key set belongs to another topic")
        self._links: dict[LinkId, _Link] = {}

    # ------------------------------------------------------------------ the seed's API

    def list(self) -> builtins.list[bytes]:
        """Every known key, sorted."""
        return self.keyset.list()

    def advertise(self, key: bytes) -> Events:
        """Advertise ``key`` as ours; nothing happens if we advertise it already."""
        _check_key(key)
        own = self.keyset.author(self.author)
        current = own.live.get(key) if own is not None else None
        if current is not None and current.kind is OpKind.ADVERTISE:
            return []
        return self._author_op(OpKind.ADVERTISE, key)

    def delete(self, key: bytes) -> Events:
        """Retract our own advertisement of ``key``, everywhere, for good."""
        _check_key(key)
        own = self.keyset.author(self.author)
        current = own.live.get(key) if own is not None else None
        if current is None or current.kind is not OpKind.ADVERTISE:
            raise UsageError(
                "This key was not advertised by you, so it cannot be deleted; "
                "only the person who shared a key can withdraw it."
            )
        return self._author_op(OpKind.DELETE, key)

    def broadcast(self) -> Events:
        """Compare states with every linked peer again (anti-entropy)."""
        events: Events = []
        for link in list(self._links):
            events.extend(self.resync(link))
        return events

    def resync(self, link: LinkId) -> Events:
        """Compare states with one linked peer again."""
        state = self._links.get(link)
        if state is None or not state.hello:
            return []
        return [self._send(link, Summary(self.keyset.fingerprint()))]

    # ------------------------------------------------------------------ links

    @property
    def links(self) -> builtins.list[LinkId]:
        return list(self._links)

    def link_opened(self, link: LinkId, *, initiator: bool) -> Events:
        """A link is up. The side that dialled is the initiator; it asks for the comparison."""
        if link in self._links:
            raise LocalProtocolError(f"link {link!r} is open already")
        self._links[link] = _Link()
        events: Events = [self._send(link, Hello(self.topic))]
        if initiator:
            events.append(self._send(link, Summary(self.keyset.fingerprint())))
        return events

    def link_closed(self, link: LinkId) -> None:
        """Forget everything held for a link."""
        self._links.pop(link, None)

    def receive(self, link: LinkId, data: bytes | memoryview) -> Events:
        """Handle one frame from ``link``. Bad input closes that link, nothing else."""
        state = self._links.get(link)
        if state is None:
            raise LocalProtocolError(f"frame received on unknown link {link!r}")
        try:
            message = decode_message(data)
            return self._handle(link, state, message)
        except RemoteProtocolError as exc:
            self._links.pop(link, None)
            return [CloseLink(link, str(exc))]

    # ------------------------------------------------------------------ message handling

    def _handle(self, link: LinkId, state: _Link, message: GossipMessage) -> Events:
        if not state.hello:
            if not isinstance(message, Hello):
                raise RemoteProtocolError("the first message on a link must be Hello")
            if message.topic != self.topic:
                raise RemoteProtocolError(
                    f"the peer gossips topic {message.topic!r}, not {self.topic!r}"
                )
            state.hello = True
            return []
        match message:
            case Hello(topic=topic):
                if topic != self.topic:
                    raise RemoteProtocolError("the peer changed topic on an open link")
                return []  # a repeated Hello says nothing new
            case Summary(fingerprint=fingerprint, reply=reply):
                return self._on_summary(link, state, fingerprint, reply)
            case Vector(entries=entries, final=final):
                for entry in entries:
                    state.vector_parts[entry.author] = entry
                if len(state.vector_parts) > limits.MAX_AUTHORS:
                    raise RemoteProtocolError("vector names more authors than allowed")
                if not final:
                    return []
                whole, state.vector_parts = list(state.vector_parts.values()), {}
                return self._on_vector(link, state, whole)
            case Delta(batches=batches, wants=wants):
                return self._on_delta(link, state, batches, wants)
        raise AssertionError(f"unhandled message {message!r}")  # pragma: no cover

    def _on_summary(self, link: LinkId, state: _Link, fingerprint: bytes, reply: bool) -> Events:
        if fingerprint == self.keyset.fingerprint():
            # Same state: the peer holds everything we cover.
            for entry in self.keyset.vector():
                _believe(state, entry.author, entry.covered)
            return [] if reply else [self._send(link, Summary(fingerprint, reply=True))]
        return self._send_vector(link)

    def _on_vector(self, link: LinkId, state: _Link, entries: builtins.list[VectorEntry]) -> Events:
        theirs = {entry.author: entry for entry in entries}
        batches: builtins.list[AuthorBatch] = []
        wants: builtins.list[VectorEntry] = []
        for entry in entries:
            _believe(state, entry.author, entry.covered)
        for author in self.keyset.authors():
            batch = self._batch_for(author, theirs.get(author))
            if batch is not None:
                batches.append(batch)
        for entry in entries:
            mine = self.keyset.entry(entry.author)
            if _lags(mine, entry):
                wants.append(mine)
        for batch in batches:
            _record_sent(state, batch.author, batch.covered)
        return self._send_delta(link, batches, wants)

    def _on_delta(
        self,
        link: LinkId,
        state: _Link,
        batches: tuple[AuthorBatch, ...],
        wants: tuple[VectorEntry, ...],
    ) -> Events:
        events: Events = []
        learned: builtins.list[tuple[bytes, builtins.list[Interval]]] = []
        changed = False
        refused: RemoteProtocolError | None = None
        for batch in batches:
            try:
                result = self.keyset.ingest(batch.author, batch.covered, batch.ops)
            except RemoteProtocolError as exc:
                # Batches taken before this one stay taken: report them, then close.
                refused = exc
                break
            _believe(state, batch.author, batch.covered)
            if result.new_ops or result.gained:
                events.append(
                    OperationsLearned(batch.author, tuple(result.new_ops), tuple(result.gained))
                )
                learned.append(
                    (batch.author, result.gained + [(o.seq, o.seq) for o in result.new_ops])
                )
            for equivocation in result.equivocations:
                events.append(
                    AuthorFlagged(
                        batch.author,
                        f"signed two different operations numbered {equivocation.second.seq}",
                        equivocation,
                    )
                )
            changed = changed or result.list_changed
        if changed:
            events.append(KeysChanged(tuple(self.keyset.list())))
        if learned:
            events.extend(self._push(learned, exclude=link))
        if refused is not None:
            self._links.pop(link, None)
            events.append(CloseLink(link, str(refused)))
            return events
        answer: builtins.list[AuthorBatch] = []
        for entry in wants:
            wanted = self._batch_for(entry.author, entry)
            if wanted is not None:
                answer.append(wanted)
                _record_sent(state, wanted.author, wanted.covered)
        if answer:
            events.extend(self._send_delta(link, answer, []))
        return events

    # ------------------------------------------------------------------ building messages

    def _author_op(self, kind: OpKind, key: bytes) -> Events:
        own = self.keyset.author(self.author)
        seq = (own.max_seq if own is not None else 0) + 1
        if seq > limits.MAX_OPS_PER_AUTHOR:
            raise UsageError(
                f"This identity has made the most changes one identity may make "
                f"({limits.MAX_OPS_PER_AUTHOR}); create a new identity to keep sharing."
            )
        payload = signing_payload(self.topic, self.author, seq, kind, key)
        op = Operation(self.author, seq, kind, key, self._sign(payload))
        result = self.keyset.ingest(self.author, [(seq, seq)], [op], trusted=True)
        events: Events = [OperationsLearned(self.author, (op,), ((seq, seq),))]
        if result.list_changed:
            events.append(KeysChanged(tuple(self.keyset.list())))
        events.extend(self._push([(self.author, [(seq, seq)])], exclude=None))
        return events

    def _batch_for(self, author: bytes, entry: VectorEntry | None) -> AuthorBatch | None:
        """The operations of ``author`` that a peer described by ``entry`` lacks."""
        state = self.keyset.author(author)
        if state is None:
            return None
        theirs = IntervalSet(entry.covered if entry is not None else ())
        missing = state.covered.minus(theirs)
        mine = self.keyset.entry(author)
        if not missing and entry is not None and _same_cover_other_digest(mine, entry):
            missing = list(state.covered)  # same numbers, different content: send it all
        if not missing:
            return None
        return AuthorBatch(author, tuple(missing), tuple(self.keyset.live_ops_in(author, missing)))

    def _push(
        self, learned: builtins.list[tuple[bytes, builtins.list[Interval]]], exclude: LinkId | None
    ) -> Events:
        """Forward newly covered numbers to every other link that is not known to hold them."""
        events: Events = []
        # Most links need exactly the same batches: encode each distinct set once.
        encoded: dict[tuple[tuple[bytes, tuple[Interval, ...]], ...], Events] = {}
        for link, state in self._links.items():
            if link == exclude or not state.hello:
                continue
            batches: builtins.list[AuthorBatch] = []
            for author, gained in learned:
                fresh = _unknown_to(state, author, gained)
                if not fresh:
                    continue
                batches.append(
                    AuthorBatch(author, tuple(fresh), tuple(self.keyset.live_ops_in(author, fresh)))
                )
                _record_sent(state, author, fresh)
            if batches:
                signature = tuple((b.author, b.covered) for b in batches)
                frames = encoded.get(signature)
                if frames is None:
                    frames = encoded[signature] = self._send_delta(link, batches, [])
                events.extend(SendTo(link, e.data) if isinstance(e, SendTo) else e for e in frames)
        return events

    def _send(self, link: LinkId, message: GossipMessage) -> SendTo:
        return SendTo(link, encode_message(message))

    def _send_vector(self, link: LinkId) -> Events:
        entries = self.keyset.vector()
        events: Events = []
        part: builtins.list[VectorEntry] = []
        size = 0
        for entry in entries:
            entry_size = 48 + 20 * len(entry.covered)
            if part and size + entry_size > _SPLIT_BYTES:
                events.append(self._send(link, Vector(tuple(part), final=False)))
                part, size = [], 0
            part.append(entry)
            size += entry_size
        events.append(self._send(link, Vector(tuple(part), final=True)))
        return events

    def _send_delta(
        self, link: LinkId, batches: Iterable[AuthorBatch], wants: builtins.list[VectorEntry]
    ) -> Events:
        """Send batches, then wants, split into messages that respect every limit.

        Wants ride on the last message, so the peer answers once it has everything.
        """
        messages: builtins.list[tuple[builtins.list[AuthorBatch], builtins.list[VectorEntry]]] = [
            ([], [])
        ]
        ops_in_message = 0
        size = 0
        for batch in batches:
            for n, piece in enumerate(_split_batch(batch)):
                piece_size = 48 + 20 * len(piece.covered) + sum(map(_op_size, piece.ops))
                # A message names each author once: the next piece of a cut batch always
                # starts a message of its own.
                if messages[-1][0] and (
                    n > 0
                    or ops_in_message + len(piece.ops) > limits.MAX_OPS_PER_MESSAGE
                    or size + piece_size > _SPLIT_BYTES
                ):
                    messages.append(([], []))
                    ops_in_message, size = 0, 0
                messages[-1][0].append(piece)
                ops_in_message += len(piece.ops)
                size += piece_size
        for entry in wants:
            entry_size = 48 + 20 * len(entry.covered)
            if size + entry_size > _SPLIT_BYTES:
                messages.append(([], []))
                size = 0
            messages[-1][1].append(entry)
            size += entry_size
        return [self._send(link, Delta(tuple(b), tuple(w))) for b, w in messages if b or w]


# ------------------------------------------------------------------------------ helpers


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray):
        raise UsageError("A key must be a byte string.")
    if not key:
        raise UsageError("A key cannot be empty.")
    if len(key) > limits.MAX_KEY_BYTES:
        raise KeyTooLargeError(
            f"This key is {len(key)} bytes long; keys can be at most {limits.MAX_KEY_BYTES} "
            "bytes. Share a file instead, and its key will be short."
        )


def _believe(state: _Link, author: bytes, covered: Iterable[Interval]) -> None:
    """Record that the peer holds ``covered`` of ``author`` (it said so, or sent it)."""
    known = state.remote.get(author)
    if known is None:
        known = state.remote[author] = IntervalSet()
    known.update(covered)


def _record_sent(state: _Link, author: bytes, covered: Iterable[Interval]) -> None:
    sent = state.sent.get(author)
    if sent is None:
        sent = state.sent[author] = IntervalSet()
    sent.update(covered)


def _unknown_to(state: _Link, author: bytes, intervals: Iterable[Interval]) -> list[Interval]:
    """The part of ``intervals`` the peer neither told us about nor received from us."""
    rest = IntervalSet(intervals)
    for known in (state.remote.get(author), state.sent.get(author)):
        if known is not None and rest:
            rest = IntervalSet(rest.minus(known))
    return list(rest)


def _same_cover_other_digest(a: VectorEntry, b: VectorEntry) -> bool:
    return a.covered == b.covered and a.digest != b.digest and a.digest != 0 and b.digest != 0


def _lags(mine: VectorEntry, theirs: VectorEntry) -> bool:
    """Whether the peer described by ``theirs`` holds something we lack of this author."""
    if IntervalSet(theirs.covered).minus(IntervalSet(mine.covered)):
        return True
    return _same_cover_other_digest(mine, theirs)


def _op_size(op: Operation) -> int:
    return _OP_OVERHEAD + len(op.key)


def _split_batch(batch: AuthorBatch) -> list[AuthorBatch]:
    """Cut a batch so that no piece breaks a limit; each piece vouches for its own numbers."""
    pieces: list[AuthorBatch] = []
    claims: list[Interval] = []
    ops: list[Operation] = []
    size = 0

    def flush() -> None:
        nonlocal claims, ops, size
        pieces.append(AuthorBatch(batch.author, tuple(claims), tuple(ops)))
        claims, ops, size = [], [], 0

    pending = list(batch.ops)
    k = 0
    for start, end in batch.covered:
        segment_start = start
        while k < len(pending) and pending[k].seq <= end:
            op = pending[k]
            if ops and (
                len(ops) >= limits.MAX_OPS_PER_MESSAGE or size + _op_size(op) > _SPLIT_BYTES // 2
            ):
                if segment_start < op.seq:
                    claims.append((segment_start, op.seq - 1))
                flush()
                segment_start = op.seq
            ops.append(op)
            size += _op_size(op)
            k += 1
        claims.append((segment_start, end))
        if len(claims) >= limits.MAX_INTERVALS_PER_AUTHOR:
            flush()
    if claims or ops:
        flush()
    return pieces
