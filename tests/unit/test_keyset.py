"""The replicated key set: latest operation wins per author and key, whatever the order."""

import itertools

import pytest

from natakanu_peer.errors import RemoteProtocolError
from natakanu_peer.identity import Identity
from natakanu_peer.protocol.gossip_messages import Operation, OpKind
from tests.gossip_helpers import TOPIC, keyset, op

ADV, DEL = OpKind.ADVERTISE, OpKind.DELETE


def feed(ks, ops):
    for o in ops:
        ks.ingest(o.author, [], [o])
    return ks


def test_a_key_is_listed_while_some_authors_latest_operation_advertises_it():
    alice, bob = Identity.generate(), Identity.generate()
    ks = feed(keyset(), [op(alice, 1, ADV, b"film"), op(bob, 1, ADV, b"film")])
    assert ks.list() == [b"film"]
    feed(ks, [op(alice, 2, DEL, b"film")])
    assert ks.list() == [b"film"], "bob still advertises it"
    feed(ks, [op(bob, 2, DEL, b"film")])
    assert ks.list() == []


def test_an_old_advertise_arriving_after_the_delete_does_not_resurrect_the_key():
    alice = Identity.generate()
    ks = feed(keyset(), [op(alice, 2, DEL, b"k")])
    result = ks.ingest(alice.public_key, [], [op(alice, 1, ADV, b"k")])
    assert ks.list() == []
    assert not result.list_changed


def test_every_delivery_order_gives_the_same_list_and_fingerprint():
    alice, bob = Identity.generate(), Identity.generate()
    ops = [
        op(alice, 1, ADV, b"a"),
        op(alice, 2, ADV, b"b"),
        op(alice, 3, DEL, b"a"),
        op(bob, 1, ADV, b"a"),
        op(bob, 2, DEL, b"a"),
        op(alice, 4, ADV, b"a"),
    ]
    outcomes = set()
    for order in itertools.permutations(ops):
        ks = feed(keyset(), order)
        outcomes.add((tuple(ks.list()), ks.fingerprint()))
    assert outcomes == {((b"a", b"b"), next(iter(outcomes))[1])}


def test_a_batch_with_one_forged_signature_is_refused_whole():
    alice = Identity.generate()
    good = op(alice, 1, ADV, b"good")
    forged = Operation(alice.public_key, 2, ADV, b"evil", bytes(64))
    ks = keyset()
    with pytest.raises(RemoteProtocolError, match="invalid signature"):
        ks.ingest(alice.public_key, [(1, 2)], [good, forged])
    assert ks.list() == []
    assert ks.author(alice.public_key) is None


def test_an_operation_signed_for_another_topic_is_refused():
    alice = Identity.generate()
    elsewhere = op(alice, 1, ADV, b"k", topic="another-topic")
    with pytest.raises(RemoteProtocolError):
        keyset().ingest(alice.public_key, [], [elsewhere])


def test_two_different_operations_with_one_number_flag_the_author_and_keep_the_first():
    mallory = Identity.generate()
    ks = feed(keyset(), [op(mallory, 1, ADV, b"one")])
    result = ks.ingest(mallory.public_key, [], [op(mallory, 1, ADV, b"other")])
    assert ks.list() == [b"one"]
    assert result.equivocations and result.equivocations[0].second.key == b"other"
    assert mallory.public_key in ks.flagged_authors()
    assert ks.entry(mallory.public_key).digest == 0, "a flagged author leaves the digest"


def test_a_duplicate_is_accepted_quietly_without_change():
    alice = Identity.generate()
    o = op(alice, 1, ADV, b"k")
    ks = feed(keyset(), [o])
    result = ks.ingest(alice.public_key, [], [o])
    assert not result.new_ops and not result.list_changed and not result.equivocations


def test_covered_numbers_and_live_operations_are_reported():
    alice = Identity.generate()
    ks = keyset()
    ops = [op(alice, 1, ADV, b"a"), op(alice, 2, DEL, b"a"), op(alice, 3, ADV, b"b")]
    result = ks.ingest(alice.public_key, [(1, 3)], [ops[1], ops[2]])
    assert result.gained == [(1, 3)]
    assert ks.entry(alice.public_key).covered == ((1, 3),)
    assert [o.seq for o in ks.live_ops_in(alice.public_key, [(1, 3)])] == [2, 3]
    assert ks.advertisers(b"b") == [alice.public_key]
    assert ks.topic == TOPIC
