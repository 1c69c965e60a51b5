"""Reconciliation cost: bytes and round trips for two peers to agree, next to dat-gossip's.

Two real ``Gossip`` engines hold ``n`` keys of 32 random bytes from 100 authors and differ by
``d`` operations; they open a link and exchange encoded frames until quiet. Every frame both
ways is counted, ``Hello`` included (the transport's own framing, a few bytes per frame, is
not). A round trip is two one-way hops.

The reference is what dat-gossip (v1) sends for the same: on connecting, each side sends its
whole set as JSON (``{"keys":["<hex>",...]}``); we count only one such set, the least it can
send (the larger of the two sets), so every ratio here favours dat-gossip.

This module must never be imported by the application.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..identity import Identity, verify_signature
from ..protocol.gossip import CloseLink, Gossip, SendTo
from ..protocol.gossip_messages import Operation, OpKind, signing_payload
from ..protocol.keyset import KeySet

AUTHORS = 100
TOPIC = "natakanu-gossip@1"


@dataclass
class ReconcileResult:
    n: int
    d: int
    layout: str
    bytes: int
    round_trips: float
    frames: int
    dat_gossip_bytes: int
    converged: bool
    seconds: float

    @property
    def bytes_per_difference(self) -> float | None:
        return self.bytes / self.d if self.d else None

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["bytes_per_difference"] = self.bytes_per_difference
        data["ratio_to_dat_gossip"] = self.bytes / self.dat_gossip_bytes
        return data


def make_operations(n: int, rng: random.Random) -> tuple[list[Identity], list[list[Operation]]]:
    """``n`` signed advertises of random 32-byte keys, spread evenly over 100 authors."""
    authors = [Identity.generate() for _ in range(AUTHORS)]
    logs: list[list[Operation]] = []
    for index, author in enumerate(authors):
        count = n // AUTHORS + (1 if index < n % AUTHORS else 0)
        ops = []
        for seq in range(1, count + 1):
            key = rng.randbytes(32)
            payload = signing_payload(TOPIC, author.public_key, seq, OpKind.ADVERTISE, key)
            ops.append(
                Operation(author.public_key, seq, OpKind.ADVERTISE, key, author.sign(payload))
            )
        logs.append(ops)
    return authors, logs


def _keyset(logs: list[list[Operation]], drop: set[tuple[int, int]]) -> KeySet:
    """A replica holding every operation but those in ``drop`` (author index, seq).

    Dropped numbers inside an author's log leave holes in what the replica covers, as after
    frames lost on the way; dropped numbers at the end are simply not known yet.
    """
    ks = KeySet(TOPIC, verify_signature)
    for a, ops in enumerate(logs):
        if not ops:
            continue
        kept = [op for op in ops if (a, op.seq) not in drop]
        covered: list[tuple[int, int]] = []
        start = None
        last_kept = max((op.seq for op in kept), default=0)
        for seq in range(1, last_kept + 1):
            if (a, seq) in drop:
                if start is not None:
                    covered.append((start, seq - 1))
                    start = None
            elif start is None:
                start = seq
        if start is not None:
            covered.append((start, last_kept))
        ks.ingest(ops[0].author, covered, kept, trusted=True)
    return ks


def _newest(logs: list[list[Operation]], d: int, rng: random.Random) -> list[tuple[int, int]]:
    """``d`` operations taken from the ends of random authors' histories, newest first."""
    taken = [0] * len(logs)
    open_authors = [a for a, ops in enumerate(logs) if ops]
    chosen: list[tuple[int, int]] = []
    while len(chosen) < d and open_authors:
        a = rng.choice(open_authors)
        chosen.append((a, len(logs[a]) - taken[a]))
        taken[a] += 1
        if taken[a] == len(logs[a]):
            open_authors.remove(a)
    return chosen


def choose_difference(
    logs: list[list[Operation]], d: int, layout: str, rng: random.Random
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Which operations each side lacks, ``d`` in all: (lacked by B, lacked by A)."""
    lacked_by_b: set[tuple[int, int]] = set()
    lacked_by_a: set[tuple[int, int]] = set()
    if layout == "newest":
        # B was away while authors kept advertising: it lacks the newest operations.
        lacked_by_b.update(_newest(logs, d, rng))
    elif layout == "both-ways":
        # Each side learned different new operations (of different authors): each lacks
        # about half of the difference.
        for a, seq in _newest(logs, d, rng):
            (lacked_by_b if a % 2 == 0 else lacked_by_a).add((a, seq))
    elif layout == "scattered":
        # B lost operations anywhere in the authors' histories (holes, not tails).
        everything = [(a, op.seq) for a, ops in enumerate(logs) for op in ops]
        lacked_by_b.update(rng.sample(everything, d))
    else:
        raise ValueError(layout)
    return lacked_by_b, lacked_by_a


_made: dict[tuple[int, int], list[list[Operation]]] = {}


def reconcile(n: int, d: int, layout: str = "newest", seed: int = 1) -> ReconcileResult:
    rng = random.Random(seed)
    if (n, seed) not in _made:  # signing 100,000 operations takes seconds: do it once
        _made.clear()
        _made[(n, seed)] = make_operations(n, rng)[1]
    logs = _made[(n, seed)]
    rng = random.Random(seed * 7919 + d)
    lacked_by_b, lacked_by_a = choose_difference(logs, d, layout, rng)
    ids = [Identity.generate(), Identity.generate()]
    peers = [
        Gossip(
            author=ids[i].public_key,
            sign=ids[i].sign,
            verify=verify_signature,
            topic=TOPIC,
            keyset=_keyset(logs, drop),
        )
        for i, drop in enumerate((lacked_by_a, lacked_by_b))
    ]
    reference = max(
        len(json.dumps({"keys": [k.hex() for k in peer.list()]}).encode()) for peer in peers
    )
    started = time.perf_counter()
    total = frames = hops = 0
    queue: list[tuple[int, int, bytes]] = []

    def take(node: int, events: Sequence[object]) -> None:
        for event in events:
            if isinstance(event, SendTo):
                queue.append((node, 1 - node, event.data))
            elif isinstance(event, CloseLink):
                raise AssertionError(f"link closed: {event.reason}")

    take(1, peers[1].link_opened(0, initiator=True))  # B comes back and dials A
    take(0, peers[0].link_opened(1, initiator=False))
    while queue:
        hops += 1
        batch, queue = queue, []
        for sender, receiver, data in batch:
            total += len(data)
            frames += 1
            take(receiver, peers[receiver].receive(sender, data))
    seconds = time.perf_counter() - started
    return ReconcileResult(
        n=n,
        d=d,
        layout=layout,
        bytes=total,
        round_trips=hops / 2,
        frames=frames,
        dat_gossip_bytes=reference,
        converged=peers[0].list() == peers[1].list()
        and peers[0].keyset.fingerprint() == peers[1].keyset.fingerprint(),
        seconds=seconds,
    )
