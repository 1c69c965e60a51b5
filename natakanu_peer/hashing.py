"""Hash algorithms by name: SHA-1 and SHA-256 from the protocol package, BLAKE3 from ``blake3``.

The one place that imports the ``blake3`` package, so the sans-I/O protocol core stays on the
standard library and is handed a ``HashAlgorithm`` value. This module must never keep state
or do anything but name and compute digests.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from blake3 import blake3

from .errors import UsageError
from .protocol.hash_exchange import SHA1, SHA256, HashAlgorithm


def _blake3(content: bytes) -> bytes:
    digest: bytes = blake3(content).digest()
    return digest


BLAKE3 = HashAlgorithm("blake3", _blake3, 32)

#: Every algorithm a hash exchange can name content by, under its name.
ALGORITHMS: Mapping[str, HashAlgorithm] = MappingProxyType(
    {algorithm.name: algorithm for algorithm in (SHA1, SHA256, BLAKE3)}
)


def algorithm_named(name: str) -> HashAlgorithm:
    """The algorithm called ``name``; ``UsageError`` naming the choices when there is none."""
    try:
        return ALGORITHMS[name]
    except KeyError:
        choices = ", ".join(sorted(ALGORITHMS))
        raise UsageError(f"unknown hash algorithm {name!r}: choose one of {choices}") from None
