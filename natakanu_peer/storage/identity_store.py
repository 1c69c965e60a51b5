"""The peer's long-lived identity on disk: a 32-byte Ed25519 seed, readable by the owner only.

Created once, atomically (temporary file, fsync, rename); never rewritten. This module must
never log or print the seed.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import UsageError
from ..identity import PRIVATE_KEY_BYTES, Identity
from .durable import fsync_directory


def load_or_create_identity(path: Path) -> Identity:
    """The identity stored at ``path``, created on first use."""
    if path.exists():
        seed = path.read_bytes()
        if len(seed) != PRIVATE_KEY_BYTES:
            raise UsageError(
                f"The identity file {path} is damaged ({len(seed)} bytes instead of "
                f"{PRIVATE_KEY_BYTES}). Restore it from a backup, or move it away to start "
                "with a new identity."
            )
        return Identity.from_seed(seed)
    identity = Identity.generate()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, identity.seed())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    fsync_directory(path.parent)
    return identity
