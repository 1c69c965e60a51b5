"""Propagation in large meshes: how many rounds a new key needs to reach every peer.

Each trial builds on a random graph where every peer links to at most 8 others; a random peer
advertises a new key and the mesh delivers frames in synchronous rounds (a frame sent in
round r arrives in round r + 1). Measured: the round at which the last peer listed the key,
how many peers it reached, and whether any link carried the key's operation twice in one
direction. Each graph gets ten origins: ten graphs make a hundred trials (the benchmark
command uses five graphs, fifty trials, for 10,000 peers).

The faulty variant loses 5% of frames and has 10% of the peers leave at a random round and
come back a few rounds later; peers run anti-entropy (compare with one random neighbour)
every ``ANTI_ENTROPY_EVERY`` rounds, as the node does periodically.

This module must never be imported by the application.
"""

from __future__ import annotations

import math
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from ..identity import Identity
from .mesh import Faults, Mesh

DEGREE = 8
ORIGINS_PER_GRAPH = 10
ANTI_ENTROPY_EVERY = 4
MAX_ROUNDS = 200


@dataclass
class Trial:
    peers: int
    rounds: int  # round at which the last peer listed the key (-1 if never)
    reached: int
    repeated_on_a_link: int  # times a link carried the operation again in the same direction
    frames: int
    last_return: int = 0  # round at which the last departed peer came back (faulty runs)


def _graph_trials(args: tuple[int, int, bool, int]) -> list[Trial]:
    n, graph_seed, faulty, origins = args
    rng = random.Random(graph_seed)
    identities = [Identity.generate() for _ in range(n)]
    faults = Faults(loss=0.05) if faulty else None
    mesh = Mesh(n, seed=graph_seed, identities=identities, faults=faults)
    mesh.random_graph(DEGREE)
    mesh.run()  # every link says Hello and finds the (empty) states equal
    trials = []
    for t in range(origins):
        mesh.stats.changed_at.clear()
        mesh.stats.delta_frames.clear()
        frames_before = mesh.stats.frames
        origin = rng.randrange(n)
        leaving: dict[int, list[int]] = {}
        returning: dict[int, list[int]] = {}
        if faulty:
            for peer in rng.sample([p for p in range(n) if p != origin], n // 10):
                away = rng.randint(0, 6)
                leaving.setdefault(away, []).append(peer)
                returning.setdefault(away + rng.randint(2, 8), []).append(peer)
        mesh.handle(origin, mesh.peers[origin].advertise(b"trial-%d-%d" % (graph_seed, t)))
        start = mesh.round
        while mesh.round - start < MAX_ROUNDS:
            step = mesh.round - start
            for peer in leaving.get(step, []):
                mesh.leave(peer)
            for peer in returning.get(step, []):
                mesh.rejoin(peer)
            if faulty and step % ANTI_ENTROPY_EVERY == ANTI_ENTROPY_EVERY - 1:
                mesh.anti_entropy()
            mesh.step()
            everyone = len(mesh.stats.changed_at) == n
            all_back = step >= max(returning, default=0)
            if everyone and all_back and (faulty or not mesh.pending):
                break
        mesh.run()  # let the last frames land before the next trial
        reached = len(mesh.stats.changed_at)
        last = max(mesh.stats.changed_at.values(), default=start) - start
        trials.append(
            Trial(
                peers=n,
                rounds=last if reached == n else -1,
                reached=reached,
                repeated_on_a_link=sum(c - 1 for c in mesh.stats.delta_frames.values() if c > 1),
                frames=mesh.stats.frames - frames_before,
                last_return=max(returning, default=0),
            )
        )
    return trials


def run_many(
    runs: list[tuple[int, bool, int]], workers: int = 2
) -> dict[tuple[int, bool], list[Trial]]:
    """Every (peers, faulty, graphs) run in one pool, the biggest graphs first, so that no
    worker waits idle while another finishes a long run alone."""
    jobs = [
        (n, 1000 + g, faulty, ORIGINS_PER_GRAPH)
        for n, faulty, graphs in runs
        for g in range(graphs)
    ]
    order = sorted(range(len(jobs)), key=lambda i: (-jobs[i][0], not jobs[i][2]))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(_graph_trials, jobs[i]) for i in order}
        batches = [futures[i].result() for i in range(len(jobs))]
    found: dict[tuple[int, bool], list[Trial]] = {(n, faulty): [] for n, faulty, _ in runs}
    for (n, _, faulty, _), batch in zip(jobs, batches, strict=True):
        found[(n, faulty)].extend(batch)
    return found


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return float(ordered[index])


def target_rounds(n: int) -> float:
    return math.log2(n) + 2
