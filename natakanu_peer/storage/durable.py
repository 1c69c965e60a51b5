"""Small helpers for writes that must survive a crash or a power cut.

This module must never decide what is written, only how it reaches the disk.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_directory(path: Path) -> None:
    """Flush a folder, so that a file created or renamed in it stays after a power cut."""
    if os.name == "nt":
        return  # a folder cannot be opened to flush it there; NTFS journals its renames
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
