"""The link handshake: after TLS, each side proves circle membership and identity.

TLS 1.3 encrypts the link; the responder's certificate carries its Ed25519 identity key, and
its SHA-256 fingerprint (``cert_fp``) is bound into every proof. The exchange, on the link's
handshake channel:

1. responder -> initiator: ``Challenge`` (a fresh 32-byte nonce; reveals nothing);
2. initiator -> responder: ``Proof`` with its own fresh nonce, its peer id, an HMAC under the
   circle's ``auth_key`` and an Ed25519 signature, both over the transcript (the initiator
   label, ``cert_fp``, both nonces, its peer id, and the name and port it gives). The
   responder finds the circle whose key produced the HMAC among its own; if none did, it
   closes the link without a word;
3. responder -> initiator: ``Proof`` over the responder transcript (its own label, the same
   values and both peer ids).

Fresh nonces on both sides defeat replay; ``cert_fp`` in the proofs defeats a man in the
middle (a relay terminates TLS with another certificate, so the proof it forwards names the
wrong one); the distinct labels stop a proof being reflected back; and nobody answers a
stranger with anything but a nonce.

This module must never do I/O and never accept a proof it has not checked in full; every
decode error is ``RemoteProtocolError``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..errors import RemoteProtocolError
from .circle import CircleKeys
from .wire import Reader, Writer

NONCE_BYTES = 32
PEER_ID_BYTES = 32
MAC_BYTES = 32
SIGNATURE_BYTES = 64
MAX_DISPLAY_NAME_BYTES = 480
_CHALLENGE = 1
_PROOF = 2
_INITIATOR = b"natakanu link/1 initiator\x00"
_RESPONDER = b"natakanu link/1 responder\x00"

Verify = Callable[[bytes, bytes, bytes], bool]
Sign = Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True)
class Challenge:
    nonce: bytes


@dataclass(frozen=True, slots=True)
class Proof:
    """A side's proof. ``nonce`` is the initiator's fresh nonce (empty from the responder)."""

    nonce: bytes
    peer_id: bytes
    mac: bytes
    signature: bytes
    display_name: str
    listen_port: int | None


def encode(message: Challenge | Proof) -> bytes:
    if isinstance(message, Challenge):
        return Writer().byte(_CHALLENGE).raw(message.nonce).getvalue()
    name = _name_bytes(message.display_name)
    w = Writer().byte(_PROOF).blob(message.nonce).raw(message.peer_id).raw(message.mac)
    w.raw(message.signature).blob(name).varint(message.listen_port or 0)
    return w.getvalue()


def decode(data: bytes | memoryview) -> Challenge | Proof:
    r = Reader(data)
    kind = r.byte("handshake message type")
    if kind == _CHALLENGE:
        challenge = Challenge(r.fixed(NONCE_BYTES, "nonce"))
        r.done()
        return challenge
    if kind != _PROOF:
        raise RemoteProtocolError(f"unknown handshake message type {kind}")
    nonce = r.blob(NONCE_BYTES, "nonce")
    if len(nonce) not in (0, NONCE_BYTES):
        raise RemoteProtocolError("a handshake nonce has 32 bytes")
    peer_id = r.fixed(PEER_ID_BYTES, "peer id")
    mac = r.fixed(MAC_BYTES, "membership proof")
    signature = r.fixed(SIGNATURE_BYTES, "signature")
    try:
        name = r.blob(MAX_DISPLAY_NAME_BYTES, "display name").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError("a display name that is not UTF-8") from exc
    port = r.varint(65535, "port")
    r.done()
    return Proof(nonce, peer_id, mac, signature, name, port or None)


def _about(name: str, port: int | None) -> bytes:
    """What a side says of itself, so that the proof covers it too."""
    return Writer().blob(_name_bytes(name)).varint(port or 0).getvalue()


def _name_bytes(name: str) -> bytes:
    raw = name.encode("utf-8")[:MAX_DISPLAY_NAME_BYTES]
    return raw.decode("utf-8", "ignore").encode("utf-8")  # never cut a character in two


def _initiator_transcript(
    cert_fp: bytes, initiator_nonce: bytes, responder_nonce: bytes, initiator: bytes, about: bytes
) -> bytes:
    return _INITIATOR + cert_fp + initiator_nonce + responder_nonce + initiator + about


def _responder_transcript(
    cert_fp: bytes,
    initiator_nonce: bytes,
    responder_nonce: bytes,
    initiator: bytes,
    responder: bytes,
    about: bytes,
) -> bytes:
    return _RESPONDER + cert_fp + initiator_nonce + responder_nonce + initiator + responder + about


def _mac(key: bytes, transcript: bytes) -> bytes:
    return hmac.new(key, transcript, hashlib.sha256).digest()


def initiator_proof(
    circle: CircleKeys,
    sign: Sign,
    peer_id: bytes,
    cert_fp: bytes,
    nonce: bytes,
    challenge: Challenge,
    display_name: str,
    listen_port: int | None,
) -> Proof:
    about = _about(display_name, listen_port)
    transcript = _initiator_transcript(cert_fp, nonce, challenge.nonce, peer_id, about)
    mac = _mac(circle.auth_key, transcript)
    return Proof(nonce, peer_id, mac, sign(transcript + mac), display_name, listen_port)


def check_initiator(
    proof: Proof, circles: Iterable[CircleKeys], verify: Verify, cert_fp: bytes, nonce: bytes
) -> CircleKeys:
    """The circle ``proof`` proves membership of, its identity checked; or an error."""
    if len(proof.nonce) != NONCE_BYTES:
        raise RemoteProtocolError("the initiator's proof has no nonce")
    about = _about(proof.display_name, proof.listen_port)
    transcript = _initiator_transcript(cert_fp, proof.nonce, nonce, proof.peer_id, about)
    found = None
    for circle in circles:  # every circle is tried, so the time taken reveals none of them
        if hmac.compare_digest(_mac(circle.auth_key, transcript), proof.mac):
            found = circle
    if found is None:
        raise RemoteProtocolError("the peer proved membership of no circle of ours")
    if not verify(proof.peer_id, transcript + proof.mac, proof.signature):
        raise RemoteProtocolError("the peer could not prove its identity")
    return found


def responder_proof(
    circle: CircleKeys,
    sign: Sign,
    peer_id: bytes,
    cert_fp: bytes,
    challenge: Challenge,
    initiator: Proof,
    display_name: str,
    listen_port: int | None,
) -> Proof:
    about = _about(display_name, listen_port)
    transcript = _responder_transcript(
        cert_fp, initiator.nonce, challenge.nonce, initiator.peer_id, peer_id, about
    )
    mac = _mac(circle.auth_key, transcript)
    return Proof(b"", peer_id, mac, sign(transcript + mac), display_name, listen_port)


def check_responder(
    proof: Proof,
    circle: CircleKeys,
    verify: Verify,
    cert_fp: bytes,
    challenge: Challenge,
    sent: Proof,
    cert_key: bytes,
) -> None:
    """Raise unless ``proof`` is the responder's, for ``circle``, by the certificate's key."""
    if proof.nonce:
        raise RemoteProtocolError("the responder's proof carries a nonce")
    if not hmac.compare_digest(proof.peer_id, cert_key):
        raise RemoteProtocolError("the peer's identity is not the one in its certificate")
    about = _about(proof.display_name, proof.listen_port)
    transcript = _responder_transcript(
        cert_fp, sent.nonce, challenge.nonce, sent.peer_id, proof.peer_id, about
    )
    if not hmac.compare_digest(_mac(circle.auth_key, transcript), proof.mac):
        raise RemoteProtocolError("the peer could not prove it belongs to the circle")
    if not verify(proof.peer_id, transcript + proof.mac, proof.signature):
        raise RemoteProtocolError("the peer could not prove its identity")
