"""Meshes of honest peers under a seeded, hostile scheduler: they always end up agreeing.

The scheduler reorders deliveries, duplicates frames, delays (drops then retries) them, and
cuts and restores links, while peers advertise and delete keys.
"""

from hypothesis import given, settings
from hypothesis import strategies as st

from natakanu_peer.bench.mesh import Faults, Mesh
from natakanu_peer.errors import UsageError
from natakanu_peer.identity import Identity

KEYS = [b"alpha", b"beta", b"gamma", b"delta", b"\xff" * 32]
IDENTITIES = [Identity.generate() for _ in range(8)]  # keygen is the slow part: share it

actions = st.lists(
    st.tuples(
        st.sampled_from(["advertise", "delete", "cut", "restore", "wait"]),
        st.integers(0, 7),
        st.integers(0, 7),
        st.integers(0, len(KEYS) - 1),
    ),
    max_size=30,
)


def play(n, seed, script, faults, edges_seed_degree=3):
    mesh = Mesh(n, seed=seed, faults=faults, identities=IDENTITIES, track_operations=True)
    mesh.random_graph(edges_seed_degree)
    expected: dict[tuple[int, bytes], bool] = {}
    for action, a, b, k in script:
        a, b, key = a % n, b % n, KEYS[k]
        if action == "advertise":
            mesh.handle(a, mesh.peers[a].advertise(key))
            expected[(a, key)] = True
        elif action == "delete":
            try:
                mesh.handle(a, mesh.peers[a].delete(key))
                expected[(a, key)] = False
            except UsageError:
                assert not expected.get((a, key)), "delete refused for a key we advertise"
        elif action == "cut":
            mesh.leave(a)
        elif action == "restore":
            mesh.rejoin(a)
        mesh.step()
    for node in range(n):
        mesh.rejoin(node)
    for _ in range(6):  # anti-entropy rounds, as the node runs them periodically
        mesh.run()
        mesh.anti_entropy()
    mesh.run()
    want = sorted({key for (_, key), listed in expected.items() if listed})
    return mesh, want


@settings(max_examples=40)
@given(st.integers(2, 8), st.integers(0, 2**32), actions)
def test_honest_peers_converge_on_exactly_the_keys_still_advertised(n, seed, script):
    faults = Faults(duplicate=0.2, delay=0.3)
    mesh, want = play(n, seed, script, faults)
    assert [p.list() for p in mesh.peers] == [want] * n
    assert mesh.stats.closed == [], "an honest peer was disconnected"
    assert len({p.keyset.fingerprint() for p in mesh.peers}) == 1


@settings(max_examples=25)
@given(st.integers(2, 6), st.integers(0, 2**32), actions)
def test_duplicated_and_delayed_frames_change_nothing_in_the_outcome(n, seed, script):
    clean, want = play(n, seed, script, Faults())
    noisy, _ = play(n, seed, script, Faults(duplicate=0.5, delay=0.5))
    assert [p.list() for p in clean.peers] == [p.list() for p in noisy.peers] == [want] * n


@settings(max_examples=25)
@given(st.integers(3, 8), st.integers(0, 2**32))
def test_without_faults_no_link_carries_an_operation_twice_in_one_direction(n, seed):
    mesh = Mesh(n, seed=seed, identities=IDENTITIES, track_operations=True)
    mesh.random_graph(3)
    mesh.run()
    for i in range(n):
        mesh.handle(i, mesh.peers[i].advertise(b"from %d" % i))
        mesh.step()
    mesh.run()
    assert mesh.converged() and len(mesh.peers[0].list()) == n
    assert mesh.stats.repeated_operations() == 0


def test_lost_frames_are_recovered_by_anti_entropy():
    mesh = Mesh(6, seed=7, faults=Faults(loss=0.3), identities=IDENTITIES)
    mesh.random_graph(3)
    for i in range(6):
        mesh.handle(i, mesh.peers[i].advertise(b"k%d" % i))
    for _ in range(40):
        mesh.run()
        if mesh.converged() and len(mesh.peers[0].list()) == 6:
            break
        mesh.anti_entropy()
    assert [len(p.list()) for p in mesh.peers] == [6] * 6


@settings(max_examples=20)
@given(st.integers(3, 7), st.integers(0, 2**32), st.data())
def test_keys_cross_a_chain_of_peers_even_after_their_author_went_offline(n, seed, data):
    mesh = Mesh(n, seed=seed, faults=Faults(delay=0.3), identities=IDENTITIES)
    for i in range(n - 1):
        mesh.connect(i, i + 1)  # a line: the two ends never meet
    authors = data.draw(st.sets(st.integers(0, n - 1), min_size=1))
    for author in sorted(authors):
        mesh.handle(author, mesh.peers[author].advertise(b"by %d" % author))
    mesh.run()
    gone = data.draw(st.sampled_from(sorted(authors)))
    mesh.leave(gone)
    newcomer = mesh.add_peer(IDENTITIES[7])  # joins at the far end, after the author left
    mesh.connect(newcomer, 0 if gone != 0 else n - 1)
    mesh.run()
    assert mesh.peers[newcomer].list() == sorted(b"by %d" % a for a in authors)
