"""Natakanu Peer: share archive keys and files inside a community, computer to computer.

The package is layered (arrows point down only):

- ``main``: the one place that wires arguments, logging and adapters together.
- ``net``: asyncio glue around protocol objects (the hash-exchange 4 endpoint of ``hx``).
- ``identity``: Ed25519 identities, the one place that touches the signature library;
  ``hashing``: hash algorithms by name, the one place that touches BLAKE3.
- ``protocol``: the sans-I/O core (standard library only): codecs, the key gossip set and
  engine, the hash exchange state machine and the hash-exchange 4 wire format.
- ``bench``: benchmarks, never imported by the application.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("natakanu-peer")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
