"""A deterministic in-memory network of gossip peers, advanced in rounds.

Each round delivers every frame sent during the previous one. A seeded random generator
decides everything else: the graph, the order of deliveries within a round, and the faults
asked for (lost, duplicated or delayed frames, peers leaving and rejoining). Used by the
propagation benchmarks and by the protocol tests; the peers are the real ``Gossip`` engines
with real Ed25519 signatures, exchanging real encoded frames.

This module must never touch sockets, files or the clock.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..identity import Identity, verify_signature
from ..protocol.gossip import (
    DEFAULT_TOPIC,
    AuthorFlagged,
    CloseLink,
    Gossip,
    GossipEvent,
    KeysChanged,
    SendTo,
)
from ..protocol.gossip_messages import Delta, decode_message

_Frame = tuple[int, int, int, bytes]  # sender, receiver, connection number, bytes


@dataclass
class Faults:
    """What the network does wrong, each a probability per frame."""

    loss: float = 0.0  # the frame is gone for good
    duplicate: float = 0.0  # the frame arrives twice
    delay: float = 0.0  # the frame arrives 1 to 3 rounds late (so out of order)


@dataclass
class MeshStats:
    frames: int = 0
    bytes_sent: int = 0
    # (sender, receiver, author, seq) -> times the sender put that operation on that link
    carried: dict[tuple[int, int, bytes, int], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    closed: list[tuple[int, int, str]] = field(default_factory=list)
    flagged: list[tuple[int, bytes]] = field(default_factory=list)
    changes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    changed_at: dict[int, int] = field(default_factory=dict)  # peer -> round of last change
    delta_frames: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))

    def repeated_operations(self) -> int:
        """How many times an operation crossed a link again in the same direction."""
        return sum(count - 1 for count in self.carried.values() if count > 1)


class Mesh:
    """``n`` gossip peers, links between them, and a network that delivers in rounds."""

    def __init__(
        self,
        n: int,
        *,
        seed: int = 0,
        faults: Faults | None = None,
        topic: str = DEFAULT_TOPIC,
        track_operations: bool = False,
        identities: Iterable[Identity] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.faults = faults or Faults()
        self.track_operations = track_operations
        ids = (
            list(identities) if identities is not None else [Identity.generate() for _ in range(n)]
        )
        self.identities = ids[:n]
        self.peers = [
            Gossip(author=i.public_key, sign=i.sign, verify=verify_signature, topic=topic)
            for i in self.identities
        ]
        self.online = [True] * n
        self.edges: set[tuple[int, int]] = set()  # (initiator, responder)
        self._adjacent: dict[int, set[int]] = defaultdict(set)
        self.stats = MeshStats()
        self.round = 0
        self._later: dict[int, list[_Frame]] = defaultdict(list)
        self._link_ready: dict[tuple[int, int], int] = {}
        self._epoch: dict[frozenset[int], int] = {}

    # ------------------------------------------------------------------ topology

    def add_peer(self, identity: Identity | None = None) -> int:
        """A newcomer, online and linked to nobody yet; returns its number."""
        identity = identity or Identity.generate()
        self.identities.append(identity)
        self.peers.append(
            Gossip(
                author=identity.public_key,
                sign=identity.sign,
                verify=verify_signature,
                topic=self.peers[0].topic if self.peers else DEFAULT_TOPIC,
            )
        )
        self.online.append(True)
        return len(self.peers) - 1

    def neighbours(self, node: int) -> list[int]:
        return sorted(self._adjacent[node])

    def connect(self, a: int, b: int) -> None:
        """Open a link; ``a`` dials ``b``."""
        if a == b or (a, b) in self.edges or (b, a) in self.edges:
            return
        self.edges.add((a, b))
        self._adjacent[a].add(b)
        self._adjacent[b].add(a)
        if self.online[a] and self.online[b]:
            self._open(a, b)

    def _open(self, a: int, b: int) -> None:
        # A new connection: frames of an earlier one still on their way will be discarded.
        self._epoch[frozenset((a, b))] = self._epoch.get(frozenset((a, b)), 0) + 1
        self.handle(a, self.peers[a].link_opened(b, initiator=True))
        self.handle(b, self.peers[b].link_opened(a, initiator=False))

    def random_graph(self, degree: int) -> None:
        """Link every peer to about ``degree`` random others (never more), all connected."""
        n = len(self.peers)
        order = list(range(n))
        self.rng.shuffle(order)
        # A random ring first guarantees the graph is connected; random chords fill the rest.
        adjacency: dict[int, set[int]] = defaultdict(set)
        for i in range(n):
            a, b = order[i], order[(i + 1) % n]
            if a != b:
                adjacency[a].add(b)
                adjacency[b].add(a)
        open_nodes = [node for node in range(n) if len(adjacency[node]) < degree]
        where = {node: i for i, node in enumerate(open_nodes)}

        def close(node: int) -> None:
            i = where.pop(node)
            last = open_nodes.pop()
            if last != node:
                open_nodes[i] = last
                where[last] = i

        stalls = 0
        while len(open_nodes) > 1 and stalls < 1000:
            a, b = self.rng.sample(open_nodes, 2)
            if b in adjacency[a]:
                stalls += 1
                continue
            adjacency[a].add(b)
            adjacency[b].add(a)
            for node in (a, b):
                if len(adjacency[node]) >= degree:
                    close(node)
        for a in range(n):
            for b in adjacency[a]:
                if a < b:
                    self.connect(a, b)

    def leave(self, node: int) -> None:
        """The peer goes offline: its links drop, frames to it are lost."""
        if not self.online[node]:
            return
        self.online[node] = False
        for other in self.neighbours(node):
            if self.online[other]:
                self.peers[other].link_closed(node)
            self.peers[node].link_closed(other)

    def rejoin(self, node: int) -> None:
        """The peer comes back and dials its neighbours again."""
        if self.online[node]:
            return
        self.online[node] = True
        for other in self.neighbours(node):
            if self.online[other]:
                self._open(node, other)

    # ------------------------------------------------------------------ traffic

    def handle(self, node: int, events: list[GossipEvent]) -> None:
        for event in events:
            match event:
                case SendTo(link=link, data=data):
                    assert isinstance(link, int)
                    self._send(node, link, data)
                case CloseLink(link=link, reason=reason):
                    assert isinstance(link, int)
                    self.stats.closed.append((node, link, reason))
                    if self.online[link]:
                        self.peers[link].link_closed(node)
                case KeysChanged():
                    self.stats.changes[node] += 1
                    self.stats.changed_at[node] = self.round
                case AuthorFlagged(author=author):
                    self.stats.flagged.append((node, author))
                case _:
                    pass

    def _send(self, sender: int, receiver: int, frame: bytes) -> None:
        self.stats.frames += 1
        self.stats.bytes_sent += len(frame)
        if self.track_operations:
            message = decode_message(frame)
            if isinstance(message, Delta):
                for batch in message.batches:
                    for op in batch.ops:
                        self.stats.carried[(sender, receiver, op.author, op.seq)] += 1
        if frame[:1] == b"\x04":
            self.stats.delta_frames[(sender, receiver)] += 1
        f = self.faults
        # A link is set up by a reliable handshake: its Hello is never lost.
        if f.loss and frame[:1] != b"\x01" and self.rng.random() < f.loss:
            return
        copies = 2 if f.duplicate and self.rng.random() < f.duplicate else 1
        link = (sender, receiver)
        ready = self.round + 1
        if f.delay and self.rng.random() < f.delay:
            ready += self.rng.randint(1, 3)  # lost, then sent again later
        # Frames on one link arrive in the order they were sent, as on a TCP stream: a
        # delayed frame holds back the ones behind it.
        ready = max(ready, self._link_ready.get(link, 0))
        self._link_ready[link] = ready
        epoch = self._epoch.get(frozenset(link), 0)
        for _ in range(copies):
            self._later[ready].append((sender, receiver, epoch, frame))

    def step(self) -> int:
        """Deliver one round of frames; return how many were delivered."""
        self.round += 1
        batch = self._later.pop(self.round, [])
        if self.faults.delay or self.faults.duplicate:
            batch = self._interleave(batch)
        delivered = 0
        for sender, receiver, epoch, frame in batch:
            if not (self.online[sender] and self.online[receiver]):
                continue
            if epoch != self._epoch.get(frozenset((sender, receiver)), 0):
                continue  # that connection closed while the frame was on its way
            if sender not in self.peers[receiver].links:
                continue
            delivered += 1
            self.handle(receiver, self.peers[receiver].receive(sender, frame))
        return delivered

    def _interleave(self, batch: list[_Frame]) -> list[_Frame]:
        """Shuffle deliveries across links while keeping each link's own order."""
        slots = list(range(len(batch)))
        self.rng.shuffle(slots)
        by_link: dict[tuple[int, int], list[int]] = defaultdict(list)
        for position, index in enumerate(slots):
            sender, receiver, _, _ = batch[index]
            by_link[(sender, receiver)].append(position)
        result: list[_Frame | None] = [None] * len(batch)
        queues: dict[tuple[int, int], list[_Frame]] = defaultdict(list)
        for item in batch:
            queues[(item[0], item[1])].append(item)
        for link, positions in by_link.items():
            for position, item in zip(sorted(positions), queues[link], strict=True):
                result[position] = item
        return [item for item in result if item is not None]

    @property
    def pending(self) -> int:
        return sum(len(frames) for frames in self._later.values())

    def run(self, max_rounds: int = 10_000) -> int:
        """Deliver rounds until nothing is in flight; return the rounds it took."""
        start = self.round
        while self.pending and self.round - start < max_rounds:
            self.step()
        return self.round - start

    def anti_entropy(self) -> None:
        """Every online peer compares states with one random online neighbour."""
        for node, peer in enumerate(self.peers):
            if not self.online[node]:
                continue
            links = peer.links
            if links:
                self.handle(node, peer.resync(self.rng.choice(links)))

    def converged(self, nodes: Iterable[int] | None = None) -> bool:
        chosen = list(nodes) if nodes is not None else range(len(self.peers))
        lists = {tuple(self.peers[i].list()) for i in chosen}
        return len(lists) <= 1
