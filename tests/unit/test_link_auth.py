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


def start(circle: CircleKeys = CIRCLE, cert_fp: bytes = CERT_FP):
    challenge = link_auth.Challenge(os.urandom(32))
    proof = link_auth.initiator_proof(
        circle, ALICE.sign, ALICE.public_key, cert_fp, os.urandom(32), challenge, "Alice", 4700
    )
    return challenge, proof


def over_the_wire(message):
    return link_auth.decode(link_auth.encode(message))


def test_two_members_prove_themselves_to_each_other() -> None:
    challenge, proof = start()
    proof = over_the_wire(proof)
    found = link_auth.check_initiator(
        proof, [OTHER, CIRCLE], verify_signature, CERT_FP, challenge.nonce
    )
    assert found == CIRCLE
    answer = link_auth.responder_proof(
        found, BOB.sign, BOB.public_key, CERT_FP, challenge, proof, "Bob", None
    )
    answer = over_the_wire(answer)
    link_auth.check_responder(
        answer, CIRCLE, verify_signature, CERT_FP, challenge, proof, BOB.public_key
    )
    assert (proof.display_name, proof.listen_port) == ("Alice", 4700)
    assert (answer.display_name, answer.listen_port) == ("Bob", None)


def test_a_stranger_proves_nothing() -> None:
    challenge, proof = start(circle=OTHER)
    with pytest.raises(RemoteProtocolError, match="no circle"):
        link_auth.check_initiator(proof, [CIRCLE], verify_signature, CERT_FP, challenge.nonce)


def test_a_recorded_proof_replayed_against_a_new_challenge_is_refused() -> None:
    _, proof = start()
    fresh = link_auth.Challenge(os.urandom(32))
    with pytest.raises(RemoteProtocolError, match="no circle"):
        link_auth.check_initiator(proof, [CIRCLE], verify_signature, CERT_FP, fresh.nonce)


def test_a_relay_with_another_certificate_is_found_out_on_both_sides() -> None:
    # The relay shows Alice its own certificate; Alice's proof names that one.
    challenge, proof = start(cert_fp=os.urandom(32))
    with pytest.raises(RemoteProtocolError, match="no circle"):
        link_auth.check_initiator(proof, [CIRCLE], verify_signature, CERT_FP, challenge.nonce)
    # And Bob's answer, made for his own certificate, fails on Alice's side of the relay.
    challenge, proof = start()
    answer = link_auth.responder_proof(
        CIRCLE, BOB.sign, BOB.public_key, CERT_FP, challenge, proof, "Bob", None
    )
    with pytest.raises(RemoteProtocolError, match="belongs to the circle"):
        link_auth.check_responder(
            answer, CIRCLE, verify_signature, os.urandom(32), challenge, proof, BOB.public_key
        )


def test_a_proof_sent_back_to_its_maker_is_refused() -> None:
    challenge, proof = start()
    reflected = link_auth.Proof(
        b"", proof.peer_id, proof.mac, proof.signature, proof.display_name, None
    )
    with pytest.raises(RemoteProtocolError):
        link_auth.check_responder(
            reflected, CIRCLE, verify_signature, CERT_FP, challenge, proof, ALICE.public_key
        )


def test_a_member_cannot_borrow_someone_elses_identity() -> None:
    challenge = link_auth.Challenge(os.urandom(32))
    # Mallory knows the circle but signs with her own key while claiming Alice's id.
    mallory = Identity.generate()
    proof = link_auth.initiator_proof(
        CIRCLE, mallory.sign, ALICE.public_key, CERT_FP, os.urandom(32), challenge, "A", None
    )
    with pytest.raises(RemoteProtocolError, match="identity"):
        link_auth.check_initiator(proof, [CIRCLE], verify_signature, CERT_FP, challenge.nonce)
    # And a listener whose certificate is not its identity is refused by the dialler.
    challenge, proof = start()
    answer = link_auth.responder_proof(
        CIRCLE, BOB.sign, BOB.public_key, CERT_FP, challenge, proof, "Bob", None
    )
    with pytest.raises(RemoteProtocolError, match="certificate"):
        link_auth.check_responder(
            answer, CIRCLE, verify_signature, CERT_FP, challenge, proof, mallory.public_key
        )


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_decode_to_a_message_or_the_declared_error(data: bytes) -> None:
    challenge, proof = start()
    assert over_the_wire(proof) == proof  # the harness works
    assert over_the_wire(challenge) == challenge
    with contextlib.suppress(RemoteProtocolError):
        link_auth.decode(data)


@settings(max_examples=3000, deadline=None)
@given(st.data())
def test_mutated_proofs_decode_or_fail_as_declared_and_never_pass(data) -> None:
    challenge, proof = start()
    wire = bytearray(link_auth.encode(proof))
    position = data.draw(st.integers(0, len(wire) - 1))
    wire[position] ^= data.draw(st.integers(1, 255))
    try:
        mutated = link_auth.decode(bytes(wire))
    except RemoteProtocolError:
        return
    assert isinstance(mutated, link_auth.Proof)
    assert mutated != proof
    with pytest.raises(RemoteProtocolError):
        link_auth.check_initiator(mutated, [CIRCLE], verify_signature, CERT_FP, challenge.nonce)
