"""Small builders shared by the gossip tests."""

from __future__ import annotations

from natakanu_peer.identity import Identity, verify_signature
from natakanu_peer.protocol.gossip import Gossip
from natakanu_peer.protocol.gossip_messages import Operation, OpKind, signing_payload
from natakanu_peer.protocol.keyset import KeySet

TOPIC = "natakanu-gossip@1"


def peer(identity: Identity | None = None, topic: str = TOPIC) -> Gossip:
    identity = identity or Identity.generate()
    return Gossip(
        author=identity.public_key, sign=identity.sign, verify=verify_signature, topic=topic
    )


def keyset() -> KeySet:
    return KeySet(TOPIC, verify_signature)


def op(identity: Identity, seq: int, kind: OpKind, key: bytes, topic: str = TOPIC) -> Operation:
    payload = signing_payload(topic, identity.public_key, seq, kind, key)
    return Operation(identity.public_key, seq, kind, key, identity.sign(payload))
