"""The link handshake: members get in, strangers, replays, relays and reflections do not."""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natakanu_peer.errors import RemoteProtocolError
from natakanu_peer.identity import Identity, verify_signature
from natakanu_peer.protocol import link_auth
from natakanu_peer.protocol.circle import CircleKeys

CIRCLE = CircleKeys.generate()
OTHER = CircleKeys.generate()
ALICE, BOB = Identity.generate(), Identity.generate()  # Alice dials, Bob listens
CERT_FP = os.urandom(32)  # the fingerprint of Bob's TLS certificate


def over_the_wire(message):
    return link_auth.decode(link_auth.encode(message))


def knocked(circle: CircleKeys = CIRCLE, cert_fp: bytes = CERT_FP):
    challenge = link_auth.Challenge(os.urandom(32))
    return challenge, link_auth.knock(circle, cert_fp, os.urandom(32), challenge)


def bob_answers(challenge, knock, circle: CircleKeys = CIRCLE, cert_fp: bytes = CERT_FP):
    return link_auth.responder_proof(
        circle, BOB.sign, BOB.public_key, cert_fp, challenge, knock, "Bob", 4700
    )


def alice_proves(challenge, knock, answer, circle: CircleKeys = CIRCLE, who: Identity = ALICE):
    return link_auth.initiator_proof(
        circle, who.sign, ALICE.public_key, CERT_FP, challenge, knock, answer, "Alice", None
    )


def test_two_members_prove_themselves_to_each_other_and_the_dialler_names_itself_last() -> None:
    challenge, knock = knocked()
    knock = over_the_wire(knock)
    assert ALICE.public_key not in link_auth.encode(knock)  # a knock names nobody
    found = link_auth.check_knock(knock, [OTHER, CIRCLE], CERT_FP, over_the_wire(challenge))
    assert found == CIRCLE
    answer = over_the_wire(bob_answers(challenge, knock))
    link_auth.check_responder(
        answer, CIRCLE, verify_signature, CERT_FP, challenge, knock, BOB.public_key
    )
    proof = over_the_wire(alice_proves(challenge, knock, answer))
    link_auth.check_initiator(
        proof, CIRCLE, verify_signature, CERT_FP, challenge, knock, BOB.public_key
    )
    assert (proof.display_name, proof.listen_port) == ("Alice", None)
    assert (answer.display_name, answer.listen_port) == ("Bob", 4700)


def test_a_stranger_knocks_in_vain() -> None:
    challenge, knock = knocked(circle=OTHER)
    with pytest.raises(RemoteProtocolError, match="no circle"):
        link_auth.check_knock(knock, [CIRCLE], CERT_FP, challenge)


def test_a_recorded_knock_or_proof_replayed_against_a_new_challenge_is_refused() -> None:
    challenge, knock = knocked()
    answer = bob_answers(challenge, knock)
    proof = alice_proves(challenge, knock, answer)
    fresh = link_auth.Challenge(os.urandom(32))
    with pytest.raises(RemoteProtocolError, match="no circle"):
        link_auth.check_knock(knock, [CIRCLE], CERT_FP, fresh)
    with pytest.raises(RemoteProtocolError):
        link_auth.check_initiator(
            proof, CIRCLE, verify_signature, CERT_FP, fresh, knock, BOB.public_key
        )


def test_a_relay_with_another_certificate_is_found_out_on_both_sides() -> None:
    # The relay shows Alice its own certificate; her knock names that one.
    challenge, knock = knocked(cert_fp=os.urandom(32))
    with pytest.raises(RemoteProtocolError, match="no circle"):
        link_auth.check_knock(knock, [CIRCLE], CERT_FP, challenge)
    # And Bob's answer, made for his own certificate, fails on Alice's side of the relay.
    challenge, knock = knocked()
    answer = bob_answers(challenge, knock)
    with pytest.raises(RemoteProtocolError, match="belongs to the circle"):
        link_auth.check_responder(
            answer, CIRCLE, verify_signature, os.urandom(32), challenge, knock, BOB.public_key
        )


def test_a_proof_sent_back_to_its_maker_is_refused() -> None:
    challenge, knock = knocked()
    answer = bob_answers(challenge, knock)
    # Bob's own proof, reflected to Bob as if Alice had made it.
    with pytest.raises(RemoteProtocolError):
        link_auth.check_initiator(
            answer, CIRCLE, verify_signature, CERT_FP, challenge, knock, BOB.public_key
        )


def test_no_one_can_borrow_someone_elses_identity() -> None:
    challenge, knock = knocked()
    answer = bob_answers(challenge, knock)
    mallory = Identity.generate()  # knows the circle, signs with her own key as Alice
    proof = alice_proves(challenge, knock, answer, who=mallory)
    with pytest.raises(RemoteProtocolError, match="identity"):
        link_auth.check_initiator(
            proof, CIRCLE, verify_signature, CERT_FP, challenge, knock, BOB.public_key
        )
    # And a listener whose certificate is not its identity is refused by the dialler.
    with pytest.raises(RemoteProtocolError, match="certificate"):
        link_auth.check_responder(
            answer, CIRCLE, verify_signature, CERT_FP, challenge, knock, mallory.public_key
        )


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_to_a_message_or_the_declared_error(data: bytes) -> None:
    challenge, knock = knocked()
    answer = bob_answers(challenge, knock)
    for message in (challenge, knock, answer):
        assert over_the_wire(message) == message  # the harness works
    with contextlib.suppress(RemoteProtocolError):
        link_auth.decode(data)


@settings(max_examples=2000, deadline=None)
@given(st.data())
def test_mutated_knocks_and_proofs_decode_or_fail_as_declared_and_never_pass(data) -> None:
    challenge, knock = knocked()
    answer = bob_answers(challenge, knock)
    proof = alice_proves(challenge, knock, answer)
    which = data.draw(st.sampled_from(["knock", "proof"]))
    original = knock if which == "knock" else proof
    wire = bytearray(link_auth.encode(original))
    position = data.draw(st.integers(0, len(wire) - 1))
    wire[position] ^= data.draw(st.integers(1, 255))
    try:
        mutated = link_auth.decode(bytes(wire))
    except RemoteProtocolError:
        return
    assert mutated != original
    with pytest.raises(RemoteProtocolError):
        if isinstance(mutated, link_auth.Knock):
            link_auth.check_knock(mutated, [CIRCLE], CERT_FP, challenge)
        elif isinstance(mutated, link_auth.Proof):
            link_auth.check_initiator(
                mutated, CIRCLE, verify_signature, CERT_FP, challenge, knock, BOB.public_key
            )
        else:
            raise RemoteProtocolError("became another kind of message")
