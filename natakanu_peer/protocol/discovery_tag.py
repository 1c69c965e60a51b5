"""The tag a peer announces on the local network: members recognise it, nobody else can.

A tag is a fresh random nonce and an HMAC, under the circle's ``discovery_key``, of that nonce
and the announced port, written in lower-case base32. A member of the circle recomputes the
HMAC and knows the announcer is worth dialling; anyone else sees random letters: the tag
names no circle, and two tags of one circle (two peers, or one peer announcing again) share
nothing an outsider could link. Membership itself is proven only by the link handshake: a
copied tag gets a stranger no further than a nonce.

This module must never do I/O and never raise on a malformed tag: ``recognise`` answers
False for anything that is not a tag of the circle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from .circle import CircleKeys

NONCE_BYTES = 8
MAC_BYTES = 12
TAG_CHARS = 32  # base32 of 20 bytes
_LABEL = b"natakanu discovery/1\x00"


def _mac(circle: CircleKeys, nonce: bytes, port: int) -> bytes:
    message = _LABEL + nonce + port.to_bytes(2, "big")
    return hmac.new(circle.discovery_key, message, hashlib.sha256).digest()[:MAC_BYTES]


def make_tag(circle: CircleKeys, port: int, nonce: bytes | None = None) -> str:
    nonce = secrets.token_bytes(NONCE_BYTES) if nonce is None else nonce
    raw = nonce + _mac(circle, nonce, port)
    return base64.b32encode(raw).decode("ascii").lower()


def recognise(circle: CircleKeys, tag: object, port: object) -> bool:
    """Whether ``tag`` was made for ``port`` by a member of ``circle``."""
    if not isinstance(tag, str) or len(tag) != TAG_CHARS:
        return False
    if not isinstance(port, int) or not 0 < port < 65536:
        return False
    try:
        raw = base64.b32decode(tag.upper())
    except (binascii.Error, ValueError):
        return False
    nonce, mac = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
    return hmac.compare_digest(_mac(circle, nonce, port), mac)
