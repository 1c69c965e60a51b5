"""The replicated key set: every author's latest operation per key, and what is covered.

A key is listed while at least one author's latest operation on it is an advertise. The
state only grows by "latest number wins" per (author, key), so replicas that have seen the
same operations hold the same list whatever the order they saw them in (a CRDT), and an old
advertise can never undo a newer delete.

For each author the set also keeps the intervals of operation numbers it has *covered* (it
holds every live operation numbered there) and a 64-bit digest of its live operations, so
two replicas can tell in a few bytes where they differ.

This module must never do I/O or hold anything about links; it verifies signatures only
through the function it is given.
"""

from __future__ import annotations

import builtins
import hashlib
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..errors import RemoteProtocolError
from . import limits
from .gossip_messages import FINGERPRINT_BYTES, Operation, OpKind, VectorEntry, signing_payload
from .intervals import Interval, IntervalSet

#: ``verify(public_key, message, signature) -> bool``: the signature check handed in.
Verify = Callable[[bytes, bytes, bytes], bool]

_MASK64 = (1 << 64) - 1


def key_as_text(key: bytes) -> str | None:
    """A key as people read it when it is printable UTF-8 text (an address such as
    ``hyper://...``); None when it is binary (then it is shown in hex)."""
    try:
        text = key.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


@dataclass(eq=False)
class AuthorState:
    """What this replica knows of one author."""

    covered: IntervalSet = field(default_factory=IntervalSet)
    live: dict[bytes, Operation] = field(default_factory=dict)  # key -> latest operation
    live_seqs: list[int] = field(default_factory=list)  # sorted numbers of live operations
    by_seq: dict[int, Operation] = field(default_factory=dict)  # live operations by number
    seen: dict[int, int] = field(default_factory=dict)  # every number seen -> content hash
    digest: int = 0
    flagged: str | None = None  # why the author is distrusted (equivocation), if it is

    @property
    def max_seq(self) -> int:
        """The author's highest number known here (its operation is always live)."""
        return self.live_seqs[-1] if self.live_seqs else 0


@dataclass(frozen=True, slots=True)
class Equivocation:
    """Two different signed operations with the same author and number: proof of misbehaviour.

    ``first`` is the one kept, when it is still live here (a superseded one is not kept).
    """

    second: Operation
    first: Operation | None


@dataclass
class Ingest:
    """What one call to :meth:`KeySet.ingest` changed."""

    new_ops: list[Operation] = field(default_factory=list)
    gained: list[Interval] = field(default_factory=list)
    list_changed: bool = False
    equivocations: list[Equivocation] = field(default_factory=list)


class KeySet:
    """The set of known keys for one topic, built from signed operations."""

    def __init__(self, topic: str, verify: Verify) -> None:
        self.topic = topic
        self._verify = verify
        self._authors: dict[bytes, AuthorState] = {}
        self._advertisers: dict[bytes, int] = {}  # key -> authors whose latest op advertises it
        self._sorted_keys: builtins.list[bytes] | None = None
        self._fingerprint: bytes | None = None

    # ------------------------------------------------------------------ reading

    def list(self) -> builtins.list[bytes]:
        """Every listed key, sorted bytewise (a new list each call)."""
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self._advertisers)
        return list(self._sorted_keys)

    def __contains__(self, key: object) -> bool:
        return key in self._advertisers

    def __len__(self) -> int:
        return len(self._advertisers)

    def authors(self) -> Iterable[bytes]:
        return self._authors.keys()

    def author(self, author: bytes) -> AuthorState | None:
        return self._authors.get(author)

    def advertisers(self, key: bytes) -> builtins.list[bytes]:
        """Authors whose latest operation on ``key`` is an advertise."""
        return [
            author
            for author, state in self._authors.items()
            if (op := state.live.get(key)) is not None and op.kind is OpKind.ADVERTISE
        ]

    def flagged_authors(self) -> dict[bytes, str]:
        return {a: s.flagged for a, s in self._authors.items() if s.flagged is not None}

    def entry(self, author: bytes) -> VectorEntry:
        state = self._authors.get(author)
        if state is None:
            return VectorEntry(author, (), 0)
        # A flagged author's replicas may legitimately disagree for ever: leave it out of
        # the digest so that disagreement does not trigger endless resending.
        digest = 0 if state.flagged else state.digest
        # Describing less than we cover is always safe (the peer sends a little more), so a
        # very fragmented cover is cut to what one message may carry.
        covered = state.covered.intervals[: limits.MAX_INTERVALS_PER_AUTHOR]
        return VectorEntry(author, covered, digest)

    def vector(self) -> builtins.list[VectorEntry]:
        return [self.entry(author) for author in sorted(self._authors)]

    def fingerprint(self) -> bytes:
        """A short hash of :meth:`vector`: equal fingerprints mean equal replicated state."""
        if self._fingerprint is None:
            h = hashlib.blake2b(digest_size=FINGERPRINT_BYTES, person=b"natakanu-fp")
            for entry in self.vector():
                h.update(entry.author)
                for start, end in entry.covered:
                    h.update(start.to_bytes(4, "big") + end.to_bytes(4, "big"))
                h.update(b"|" + entry.digest.to_bytes(8, "big"))
            self._fingerprint = h.digest()
        return self._fingerprint

    def live_ops_in(self, author: bytes, intervals: Iterable[Interval]) -> builtins.list[Operation]:
        """Live operations of ``author`` numbered inside ``intervals``, ascending."""
        state = self._authors.get(author)
        if state is None:
            return []
        out: builtins.list[Operation] = []
        seqs = state.live_seqs
        for start, end in intervals:
            lo = bisect_left(seqs, start)
            hi = bisect_right(seqs, end)
            out.extend(state.by_seq[s] for s in seqs[lo:hi])
        return out

    def all_ops(self) -> builtins.list[Operation]:
        """Every live operation, grouped by author, ascending numbers (for storage)."""
        ops: builtins.list[Operation] = []
        for author in sorted(self._authors):
            state = self._authors[author]
            ops.extend(state.by_seq[seq] for seq in state.live_seqs)
        return ops

    # ------------------------------------------------------------------ writing

    def ingest(
        self,
        author: bytes,
        covered: Iterable[Interval],
        ops: Iterable[Operation],
        *,
        trusted: bool = False,
    ) -> Ingest:
        """Take operations of one author, and the intervals the sender vouches for.

        Signatures are checked first unless ``trusted`` (operations reloaded from our own
        storage, which were checked when they arrived); one bad signature refuses the whole
        batch with ``RemoteProtocolError`` and changes nothing.
        """
        ops = list(ops)
        hashes = [op.content_hash() for op in ops]
        state = self._authors.get(author)
        if not trusted:
            for op, content in zip(ops, hashes, strict=True):
                if op.author != author:
                    raise RemoteProtocolError("an operation is filed under another author")
                known = state.seen.get(op.seq) if state is not None else None
                if known is not None and known == content:
                    continue  # an exact duplicate of one already verified
                payload = signing_payload(self.topic, op.author, op.seq, op.kind, op.key)
                if not self._verify(op.author, payload, op.signature):
                    raise RemoteProtocolError(
                        f"operation {op.seq} of author {author.hex()[:16]} has an invalid signature"
                    )
        if state is None:
            state = self._authors[author] = AuthorState()
        result = Ingest()
        for op, content in zip(ops, hashes, strict=True):
            self._take(state, op, content, result)
        # A sender may only vouch for numbers up to the author's highest operation that we
        # hold (that one is always live, so an honest sender has sent it or knows we have
        # it). Without this, one dishonest peer could claim a future number as covered and
        # every replica would stop forwarding that author's next operations.
        ceiling = state.live_seqs[-1] if state.live_seqs else 0
        for start, end in covered:
            end = min(end, ceiling)
            if start > end:
                continue
            result.gained.extend(IntervalSet([(start, end)]).minus(state.covered))
            state.covered.add(start, end)
        for op in result.new_ops:
            # A single operation created here or received alone covers its own number.
            if op.seq not in state.covered:
                state.covered.add(op.seq, op.seq)
                result.gained.append((op.seq, op.seq))
        if result.new_ops or result.gained:
            self._fingerprint = None
        return result

    def _take(self, state: AuthorState, op: Operation, content: int, result: Ingest) -> None:
        known = state.seen.get(op.seq)
        if known is not None:
            if known != content and state.flagged is None:
                state.flagged = f"signed two different operations numbered {op.seq}"
                result.equivocations.append(Equivocation(op, state.by_seq.get(op.seq)))
                self._fingerprint = None
            return
        state.seen[op.seq] = content
        result.new_ops.append(op)
        current = state.live.get(op.key)
        if current is not None and current.seq > op.seq:
            return  # superseded already: an old advertise never undoes a newer delete
        was_listed = op.key in self._advertisers
        if current is not None:
            self._drop_live(state, current)
        state.live[op.key] = op
        state.by_seq[op.seq] = op
        insort(state.live_seqs, op.seq)
        state.digest = (state.digest + content) & _MASK64
        if op.kind is OpKind.ADVERTISE:
            self._advertisers[op.key] = self._advertisers.get(op.key, 0) + 1
        if (op.key in self._advertisers) != was_listed:
            result.list_changed = True
            self._sorted_keys = None

    def _drop_live(self, state: AuthorState, op: Operation) -> None:
        del state.by_seq[op.seq]
        state.live_seqs.pop(bisect_left(state.live_seqs, op.seq))
        state.digest = (state.digest - op.content_hash()) & _MASK64
        if op.kind is OpKind.ADVERTISE:
            remaining = self._advertisers[op.key] - 1
            if remaining:
                self._advertisers[op.key] = remaining
            else:
                del self._advertisers[op.key]
