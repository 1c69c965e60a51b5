"""The link handshake: after TLS, each side proves circle membership and identity.

TLS 1.3 encrypts the link; the listener's certificate carries its Ed25519 identity key, and
its SHA-256 fingerprint (``cert_fp``) is bound into every proof. The exchange, on the link's
handshake channel, reveals nothing of either side to someone who is not a member:

1. listener -> dialler: ``Challenge``, a fresh 32-byte nonce (reveals nothing);
2. dialler -> listener: ``Knock``, its own fresh nonce and an HMAC under the circle's
   ``auth_key`` of the knock label, ``cert_fp`` and both nonces: membership, and nothing
   about who knocks. The listener tries every key it holds; if none matches, it closes the
   link without a word;
3. listener -> dialler: ``Proof`` of the listener: its peer id, name and port, an HMAC and an
   Ed25519 signature over the responder label, ``cert_fp``, both nonces, the knock's HMAC,
   its id and what it says of itself. The dialler checks it, and that the id is the
   certificate's key;
4. dialler -> listener: ``Proof`` of the dialler, the same over the initiator label and both
   ids. Only now does the dialler say who it is, to a listener that proved membership.

Fresh nonces on both sides defeat replay; ``cert_fp`` in every proof defeats a man in the
middle (a relay terminates TLS with another certificate, so what it forwards names the wrong
one); distinct labels stop a proof being reflected; and a stranger, even one that announces
a member's copied discovery tag and is dialled, learns neither the dialler's identity nor
anything it could check.

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
_KNOCK = 3
_KNOCK_LABEL = b"natakanu link/2 knock\x00"
_INITIATOR = b"natakanu link/2 initiator\x00"
_RESPONDER = b"natakanu link/2 responder\x00"

Verify = Callable[[bytes, bytes, bytes], bool]
Sign = Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True)
class Challenge:
    nonce: bytes


@dataclass(frozen=True, slots=True)
class Knock:
    """The dialler's proof of membership, which names nobody."""

    nonce: bytes
    mac: bytes


@dataclass(frozen=True, slots=True)
class Proof:
    """A side's proof of identity, made after membership was shown."""

    peer_id: bytes
    mac: bytes
    signature: bytes
    display_name: str
    listen_port: int | None


Message = Challenge | Knock | Proof


def encode(message: Message) -> bytes:
    if isinstance(message, Challenge):
        return Writer().byte(_CHALLENGE).raw(message.nonce).getvalue()
    if isinstance(message, Knock):
        return Writer().byte(_KNOCK).raw(message.nonce).raw(message.mac).getvalue()
    w = Writer().byte(_PROOF).raw(message.peer_id).raw(message.mac).raw(message.signature)
    w.blob(_name_bytes(message.display_name)).varint(message.listen_port or 0)
    return w.getvalue()


def decode(data: bytes | memoryview) -> Message:
    r = Reader(data)
    kind = r.byte("handshake message type")
    message: Message
    if kind == _CHALLENGE:
        message = Challenge(r.fixed(NONCE_BYTES, "nonce"))
    elif kind == _KNOCK:
        message = Knock(r.fixed(NONCE_BYTES, "nonce"), r.fixed(MAC_BYTES, "membership proof"))
    elif kind == _PROOF:
        peer_id = r.fixed(PEER_ID_BYTES, "peer id")
        mac = r.fixed(MAC_BYTES, "membership proof")
        signature = r.fixed(SIGNATURE_BYTES, "signature")
        try:
            name = r.blob(MAX_DISPLAY_NAME_BYTES, "display name").decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RemoteProtocolError("a display name that is not UTF-8") from exc
        port = r.varint(65535, "port")
        message = Proof(peer_id, mac, signature, name, port or None)
    else:
        raise RemoteProtocolError(f"unknown handshake message type {kind}")
    r.done()
    return message


def _about(name: str, port: int | None) -> bytes:
    """What a side says of itself, so that the proof covers it too."""
    return Writer().blob(_name_bytes(name)).varint(port or 0).getvalue()


def _name_bytes(name: str) -> bytes:
    raw = name.encode("utf-8")[:MAX_DISPLAY_NAME_BYTES]
    return raw.decode("utf-8", "ignore").encode("utf-8")  # never cut a character in two


def _mac(key: bytes, transcript: bytes) -> bytes:
    return hmac.new(key, transcript, hashlib.sha256).digest()


def _knock_transcript(cert_fp: bytes, knock_nonce: bytes, challenge: Challenge) -> bytes:
    return _KNOCK_LABEL + cert_fp + knock_nonce + challenge.nonce


def _responder_transcript(
    cert_fp: bytes, challenge: Challenge, knock: Knock, responder: bytes, about: bytes
) -> bytes:
    return _RESPONDER + cert_fp + knock.nonce + challenge.nonce + knock.mac + responder + about


def _initiator_transcript(
    cert_fp: bytes,
    challenge: Challenge,
    knock: Knock,
    responder: bytes,
    initiator: bytes,
    about: bytes,
) -> bytes:
    return (
        _INITIATOR
        + cert_fp
        + knock.nonce
        + challenge.nonce
        + knock.mac
        + responder
        + initiator
        + about
    )


def knock(circle: CircleKeys, cert_fp: bytes, nonce: bytes, challenge: Challenge) -> Knock:
    return Knock(nonce, _mac(circle.auth_key, _knock_transcript(cert_fp, nonce, challenge)))


def check_knock(
    knock: Knock, circles: Iterable[CircleKeys], cert_fp: bytes, challenge: Challenge
) -> CircleKeys:
    """The circle whose key made ``knock``, or ``RemoteProtocolError``."""
    transcript = _knock_transcript(cert_fp, knock.nonce, challenge)
    found = None
    for circle in circles:  # every key is tried, so the time taken reveals none of them
        if hmac.compare_digest(_mac(circle.auth_key, transcript), knock.mac):
            found = circle
    if found is None:
        raise RemoteProtocolError("the peer proved membership of no circle of ours")
    return found


def _prove(circle: CircleKeys, sign: Sign, transcript: bytes) -> tuple[bytes, bytes]:
    mac = _mac(circle.auth_key, transcript)
    return mac, sign(transcript + mac)


def _check(proof: Proof, circle: CircleKeys, verify: Verify, transcript: bytes, what: str) -> None:
    if not hmac.compare_digest(_mac(circle.auth_key, transcript), proof.mac):
        raise RemoteProtocolError(f"the {what} could not prove it belongs to the circle")
    if not verify(proof.peer_id, transcript + proof.mac, proof.signature):
        raise RemoteProtocolError(f"the {what} could not prove its identity")


def responder_proof(
    circle: CircleKeys,
    sign: Sign,
    peer_id: bytes,
    cert_fp: bytes,
    challenge: Challenge,
    knock: Knock,
    display_name: str,
    listen_port: int | None,
) -> Proof:
    about = _about(display_name, listen_port)
    transcript = _responder_transcript(cert_fp, challenge, knock, peer_id, about)
    mac, signature = _prove(circle, sign, transcript)
    return Proof(peer_id, mac, signature, display_name, listen_port)


def check_responder(
    proof: Proof,
    circle: CircleKeys,
    verify: Verify,
    cert_fp: bytes,
    challenge: Challenge,
    knock: Knock,
    cert_key: bytes,
) -> None:
    """Raise unless ``proof`` is the listener's, for ``circle``, by the certificate's key."""
    if not hmac.compare_digest(proof.peer_id, cert_key):
        raise RemoteProtocolError("the peer's identity is not the one in its certificate")
    about = _about(proof.display_name, proof.listen_port)
    transcript = _responder_transcript(cert_fp, challenge, knock, proof.peer_id, about)
    _check(proof, circle, verify, transcript, "peer")


def initiator_proof(
    circle: CircleKeys,
    sign: Sign,
    peer_id: bytes,
    cert_fp: bytes,
    challenge: Challenge,
    knock: Knock,
    responder: Proof,
    display_name: str,
    listen_port: int | None,
) -> Proof:
    about = _about(display_name, listen_port)
    transcript = _initiator_transcript(cert_fp, challenge, knock, responder.peer_id, peer_id, about)
    mac, signature = _prove(circle, sign, transcript)
    return Proof(peer_id, mac, signature, display_name, listen_port)


def check_initiator(
    proof: Proof,
    circle: CircleKeys,
    verify: Verify,
    cert_fp: bytes,
    challenge: Challenge,
    knock: Knock,
    responder_id: bytes,
) -> None:
    """Raise unless ``proof`` is the dialler's, for ``circle``, after this very knock."""
    about = _about(proof.display_name, proof.listen_port)
    transcript = _initiator_transcript(
        cert_fp, challenge, knock, responder_id, proof.peer_id, about
    )
    _check(proof, circle, verify, transcript, "peer")
