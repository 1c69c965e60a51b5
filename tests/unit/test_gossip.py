"""The key gossip engine, peer to peer, through its public API and real encoded frames."""

import pytest

from natakanu_peer.errors import KeyTooLargeError, UsageError
from natakanu_peer.identity import Identity
from natakanu_peer.protocol import limits
from natakanu_peer.protocol.gossip import AuthorFlagged, CloseLink, KeysChanged, SendTo
from natakanu_peer.protocol.gossip_messages import (
    AuthorBatch,
    Delta,
    Hello,
    Operation,
    OpKind,
    encode_message,
)
from tests.gossip_helpers import op, peer


class Wire:
    """Peers joined in memory; frames are delivered in order by ``flush``."""

    def __init__(self, *peers):
        self.peers = list(peers)
        self.queue = []
        self.events = {i: [] for i in range(len(peers))}
        self.sent_bytes = 0

    def take(self, node, events):
        for event in events:
            self.events[node].append(event)
            if isinstance(event, SendTo):
                self.queue.append((node, event.link, event.data))
                self.sent_bytes += len(event.data)
            if isinstance(event, CloseLink):
                self.peers[event.link].link_closed(node)

    def link(self, a, b):
        self.take(a, self.peers[a].link_opened(b, initiator=True))
        self.take(b, self.peers[b].link_opened(a, initiator=False))

    def unlink(self, a, b):
        self.peers[a].link_closed(b)
        self.peers[b].link_closed(a)
        self.queue = [f for f in self.queue if {f[0], f[1]} != {a, b}]

    def flush(self, drop=lambda sender, receiver, data: False):
        rounds = 0
        while self.queue:
            rounds += 1
            frames, self.queue = self.queue, []
            for sender, receiver, data in frames:
                if sender in self.peers[receiver].links and not drop(sender, receiver, data):
                    self.take(receiver, self.peers[receiver].receive(sender, data))
        return rounds

    def changes(self, node):
        return [e.keys for e in self.events[node] if isinstance(e, KeysChanged)]

    def closes(self, node):
        return [e for e in self.events[node] if isinstance(e, CloseLink)]


def test_two_peers_each_learn_the_others_key_once_and_list_both_sorted():
    # The seed's upstream scenario: peer 1 advertises One, peer 2 advertises Two.
    wire = Wire(peer(), peer())
    wire.take(0, wire.peers[0].advertise(b"One"))
    wire.take(1, wire.peers[1].advertise(b"Two"))
    wire.link(0, 1)
    wire.flush()
    assert wire.peers[0].list() == wire.peers[1].list() == [b"One", b"Two"]
    assert wire.changes(0) == [(b"One",), (b"One", b"Two")]
    assert wire.changes(1) == [(b"Two",), (b"One", b"Two")]


def test_the_list_is_sorted_bytewise():
    g = peer()
    for key in [b"zeta", b"Alpha", b"\x00raw", b"beta"]:
        g.advertise(key)
    assert g.list() == [b"\x00raw", b"Alpha", b"beta", b"zeta"]


def test_advertising_a_key_twice_changes_nothing_the_second_time():
    g = peer()
    first = g.advertise(b"k")
    assert any(isinstance(e, KeysChanged) for e in first)
    assert g.advertise(b"k") == []


def test_a_key_of_one_kibibyte_is_accepted_and_a_larger_one_refused_with_advice():
    g = peer()
    g.advertise(b"x" * limits.MAX_KEY_BYTES)
    with pytest.raises(KeyTooLargeError, match="at most 1024 bytes"):
        g.advertise(b"x" * (limits.MAX_KEY_BYTES + 1))
    with pytest.raises(UsageError, match="empty"):
        g.advertise(b"")


def test_deleting_a_key_advertised_by_someone_else_is_refused_with_a_sentence():
    wire = Wire(peer(), peer())
    wire.take(0, wire.peers[0].advertise(b"theirs"))
    wire.link(0, 1)
    wire.flush()
    with pytest.raises(UsageError, match="only the person who shared"):
        wire.peers[1].delete(b"theirs")


def test_keys_travel_through_a_peer_in_between_even_after_the_author_left():
    a, b, c = peer(), peer(), peer()
    wire = Wire(a, b, c)
    wire.link(0, 1)
    wire.take(0, a.advertise(b"from-a"))
    wire.flush()
    wire.unlink(0, 1)  # A goes offline before C ever appears
    wire.link(1, 2)
    wire.flush()
    assert c.list() == [b"from-a"]


def test_a_delete_sticks_when_a_peer_with_the_old_state_comes_back():
    a, b = peer(), peer()
    wire = Wire(a, b)
    wire.take(0, a.advertise(b"film"))
    wire.link(0, 1)
    wire.flush()
    wire.unlink(0, 1)
    wire.take(0, a.delete(b"film"))  # B is away and still lists the film
    assert b.list() == [b"film"]
    wire.link(1, 0)  # B comes back and dials A
    wire.flush()
    assert a.list() == b.list() == []
    wire.take(1, b.broadcast())
    wire.flush()
    assert a.list() == [], "no resurrection from the peer that held the old state"
    wire.take(0, a.advertise(b"film"))
    wire.flush()
    assert b.list() == [b"film"], "advertising again brings it back"


def synced_pair_apart(keys: int):
    """Two peers that agreed on ``keys`` keys of the first, then parted."""
    a, b = peer(), peer()
    wire = Wire(a, b)
    for i in range(keys):
        wire.take(0, a.advertise(f"key-{i}".encode()))
    wire.link(0, 1)
    wire.flush()
    wire.unlink(0, 1)
    return wire, a, b


def test_peers_in_sync_reconnect_with_a_few_bytes():
    wire, _a, _b = synced_pair_apart(500)
    wire.sent_bytes = 0
    wire.link(1, 0)
    wire.flush()
    assert wire.sent_bytes < 200


def test_one_missing_operation_costs_far_less_than_the_set():
    wire, a, b = synced_pair_apart(500)
    wire.take(0, a.advertise(b"one more"))
    wire.sent_bytes = 0
    wire.link(1, 0)
    rounds = wire.flush()
    assert b.list() == a.list()
    assert wire.sent_bytes < 400
    assert rounds <= 4


def test_broadcast_repairs_what_a_lost_frame_carried():
    a, b = peer(), peer()
    wire = Wire(a, b)
    wire.link(0, 1)
    wire.flush()
    wire.take(0, a.advertise(b"lost once"))
    wire.flush(drop=lambda s, r, data: data[0] == 4)  # the Delta never arrives
    assert b.list() == []
    wire.take(1, b.broadcast())
    wire.flush()
    assert b.list() == [b"lost once"]


def test_a_peer_on_another_topic_is_disconnected_with_the_reason():
    wire = Wire(peer(topic="circle-a"), peer(topic="circle-b"))
    wire.link(0, 1)
    wire.flush()
    assert "topic" in wire.closes(1)[0].reason
    assert wire.peers[0].links == [] and wire.peers[1].links == []


def test_garbage_closes_only_that_link_and_the_others_keep_working():
    a, b, c = peer(), peer(), peer()
    wire = Wire(a, b, c)
    wire.link(0, 1)
    wire.link(0, 2)
    wire.flush()
    events = a.receive(1, b"\xff\x00garbage")
    assert [type(e) for e in events] == [CloseLink]
    assert a.links == [2]
    wire.take(2, c.advertise(b"still fine"))
    wire.flush()
    assert a.list() == [b"still fine"]


def test_anything_before_hello_is_a_protocol_error():
    a = peer()
    a.link_opened("x", initiator=False)
    events = a.receive("x", encode_message(Delta(())))
    assert isinstance(events[0], CloseLink) and "Hello" in events[0].reason


def test_a_forged_operation_closes_the_link_and_is_not_listed():
    a = peer()
    a.link_opened("x", initiator=False)
    a.receive("x", encode_message(Hello("natakanu-gossip@1")))
    victim = Identity.generate().public_key
    forged = Operation(victim, 1, OpKind.ADVERTISE, b"lie", bytes(64))
    events = a.receive("x", encode_message(Delta((AuthorBatch(victim, ((1, 1),), (forged,)),))))
    assert isinstance(events[0], CloseLink) and "signature" in events[0].reason
    assert a.list() == []


def test_an_author_signing_two_versions_of_one_operation_is_flagged():
    mallory = Identity.generate()
    twin_a, twin_b, honest = peer(mallory), peer(mallory), peer()
    wire = Wire(twin_a, twin_b, honest)
    wire.take(0, twin_a.advertise(b"version one"))
    wire.take(1, twin_b.advertise(b"version two"))  # same author, same number 1
    wire.link(0, 2)
    wire.flush()
    wire.link(1, 2)
    wire.flush()
    flagged = [e for e in wire.events[2] if isinstance(e, AuthorFlagged)]
    assert flagged and flagged[0].author == mallory.public_key
    assert honest.list() == [b"version one"]
    assert mallory.public_key in honest.keyset.flagged_authors()


def test_a_peer_cannot_vouch_for_numbers_an_author_has_not_reached():
    # A dishonest member claims it covers the author's future operations, hoping relays
    # will then never forward them.
    author, relay, victim = peer(), peer(), peer()
    wire = Wire(author, relay, victim)
    wire.take(0, author.advertise(b"first"))
    wire.link(0, 1)
    wire.link(1, 2)
    wire.flush()
    liar = "liar"
    victim.link_opened(liar, initiator=False)
    victim.receive(liar, encode_message(Hello("natakanu-gossip@1")))
    claim = AuthorBatch(author.author, ((1, limits.MAX_OPS_PER_AUTHOR),), ())
    assert not any(
        isinstance(e, CloseLink) for e in victim.receive(liar, encode_message(Delta((claim,))))
    )
    assert victim.keyset.entry(author.author).covered == ((1, 1),)
    wire.take(0, author.advertise(b"second"))
    wire.flush()
    assert victim.list() == [b"first", b"second"]


def test_a_relay_withholding_an_operation_is_repaired_by_an_honest_peer():
    author, honest, victim = peer(), peer(), peer()
    wire = Wire(author, honest, victim)
    for key in (b"a", b"b", b"c"):
        wire.take(0, author.advertise(key))
    wire.link(0, 1)
    wire.flush()
    # A dishonest relay hands the victim operation 3 only, vouching for 1..3.
    third = author.keyset.live_ops_in(author.author, [(3, 3)])
    victim.link_opened("relay", initiator=False)
    victim.receive("relay", encode_message(Hello("natakanu-gossip@1")))
    victim.receive(
        "relay", encode_message(Delta((AuthorBatch(author.author, ((1, 3),), tuple(third)),)))
    )
    assert victim.list() == [b"c"]
    wire.link(2, 1)  # the victim meets an honest peer: same numbers, different digest
    wire.flush()
    assert victim.list() == [b"a", b"b", b"c"]


def test_batches_taken_before_a_forged_one_are_reported_before_the_link_closes():
    a, alice = peer(), Identity.generate()
    a.link_opened("x", initiator=False)
    a.receive("x", encode_message(Hello("natakanu-gossip@1")))
    good = op(alice, 1, OpKind.ADVERTISE, b"genuine")
    victim = Identity.generate().public_key
    forged = Operation(victim, 1, OpKind.ADVERTISE, b"lie", bytes(64))
    message = Delta(
        (
            AuthorBatch(alice.public_key, ((1, 1),), (good,)),
            AuthorBatch(victim, ((1, 1),), (forged,)),
        )
    )
    events = a.receive("x", encode_message(message))
    assert [type(e).__name__ for e in events] == ["OperationsLearned", "KeysChanged", "CloseLink"]
    assert a.list() == [b"genuine"] and a.links == []


@pytest.mark.parametrize("keys", [1_500, 2_000, 3_000, 5_000])
def test_an_author_with_thousands_of_keys_is_sent_in_messages_that_name_it_once(keys):
    # One author's batch cut in pieces: two pieces in one message would name the author
    # twice, which a receiver refuses (and closes the link).
    a, b = peer(), peer()
    wire = Wire(a, b)
    for i in range(keys):
        wire.take(0, a.advertise(f"archive {i:06}".encode()))
    wire.link(0, 1)
    wire.flush()
    assert wire.closes(0) == wire.closes(1) == []
    assert len(b.list()) == keys
