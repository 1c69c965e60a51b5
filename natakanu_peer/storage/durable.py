"""Small helpers for writes that must survive a crash or a power cut.

This module must never decide what is written, only how it reaches the disk.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast


def fsync_directory(path: Path) -> None:
    """Flush a folder, so that a file created or renamed in it stays after a power cut."""
    if os.name == "nt":
        return  # a folder cannot be opened to flush it there; NTFS journals its renames
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's ``sync_file_range`` (Linux only), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int
    return cast("Callable[[int, int, int, int], int]", function)


_SYNC_FILE_RANGE = _load_sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2  # start writing the dirty pages of the range; do not wait for them


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the system to start writing a range to the disk now, without waiting for it.

    Only a head start for a later ``fsync``, which alone makes the bytes durable: where the
    system has no such call, or refuses it, nothing happens.
    """
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, offset, length, _SYNC_FILE_RANGE_WRITE)
