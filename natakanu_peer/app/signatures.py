"""Signatures of incoming gossip checked beside the event loop, before the engine sees them.

Checking an Ed25519 signature takes about 0.1 ms; a batch of thousands of operations from a
peer would hold the event loop (and the window on it) for a good part of a second. The node
decodes such a message in a worker thread and checks its signatures there; the gossip
engine's own check (``verify``) then finds each one already done. The engine still checks
everything it is given: what the worker did not confirm is checked again, normally.

This module must never decide what to do with a message: it only remembers good signatures.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..errors import RemoteProtocolError
from ..identity import verify_signature
from ..protocol.gossip_messages import Delta, decode_message, signing_payload

#: Remembered good signatures, at most (each is taken once, by the engine's check).
REMEMBERED = 50_000
#: Below this many operations a message is checked on the loop as usual.
WORTH_A_THREAD = 32

_Key = tuple[bytes, bytes, bytes]


class CheckedSignatures:
    """Good signatures found in advance; ``verify`` is a drop-in for ``verify_signature``."""

    def __init__(self) -> None:
        self._good: OrderedDict[_Key, None] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        with self._lock:
            if self._good.pop((public_key, message, signature), 1) is None:
                return True
        return verify_signature(public_key, message, signature)

    def check_in_advance(self, topic: str, payload: bytes | memoryview) -> int:
        """Check the signatures of a large gossip message (in a worker thread); how many."""
        try:
            message = decode_message(payload)
        except RemoteProtocolError:
            return 0  # the engine will say what is wrong with it, and close the link
        if not isinstance(message, Delta):
            return 0
        count = sum(len(batch.ops) for batch in message.batches)
        if count < WORTH_A_THREAD:
            return 0
        good: list[_Key] = []
        for batch in message.batches:
            for op in batch.ops:
                signed = signing_payload(topic, op.author, op.seq, op.kind, op.key)
                if verify_signature(op.author, signed, op.signature):
                    good.append((op.author, signed, op.signature))
        with self._lock:
            for key in good:
                self._good[key] = None
            while len(self._good) > REMEMBERED:
                self._good.popitem(last=False)
        return len(good)
