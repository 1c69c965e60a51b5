"""Ed25519 identities: a peer's long-lived key pair, signing, and signature checks.

The public key (32 bytes) is the peer id and the author of every gossip operation.
This is the one module that touches the signature library; it must never store anything
(storage decides where the private key lives and who may read it).
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import UsageError

PUBLIC_KEY_BYTES = 32
PRIVATE_KEY_BYTES = 32


class Identity:
    """A private Ed25519 key and its public key."""

    __slots__ = ("_private", "public_key")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key: bytes = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @classmethod
    def generate(cls) -> Identity:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Identity:
        """Rebuild an identity from its 32-byte private seed."""
        if len(seed) != PRIVATE_KEY_BYTES:
            raise UsageError("An identity file must hold exactly 32 bytes; it looks damaged.")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def seed(self) -> bytes:
        """The 32-byte private seed, for storage readable by the owner only."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        return self._private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The key itself, for the link's TLS certificate (``net.tls``) and nothing else."""
        return self._private

    @property
    def peer_id(self) -> str:
        """The public key in lowercase hex."""
        return self.public_key.hex()


def verify_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s signature of ``message``; never raises."""
    if len(public_key) != PUBLIC_KEY_BYTES or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True
