"""Building a node for a data directory, running it, and stopping it cleanly.

Shared by the daemon and (later) the window: take the directory's lock so two nodes never
share one state, load or create the identity, open the state file, start the node; on stop,
close the links and flush the state. This module must never import Qt.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from ..errors import UsageError
from ..storage.content import ContentStore
from ..storage.database import Database
from ..storage.identity_store import load_or_create_identity
from ..storage.paths import DataPaths
from .node import Node

log = logging.getLogger(__name__)

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8


def keep_large_buffers() -> bool:
    """Let the C allocator reuse the few MiB buffers every chunk passes through.

    By default glibc gives such buffers back to the system when freed and takes them again
    for the next chunk, page by page: over TLS, that cost the sending peer 0.6 s of kernel
    time per GiB. Blocks up to 32 MiB now come from the heap, up to 32 MiB of free heap is
    kept for reuse, and worker threads share two heaps (with one heap each, each kept its own
    free blocks: the sending daemon grew by 60 MiB instead of 20 during a 1 GiB fetch).
    Elsewhere than glibc, nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        and mallopt(_M_TRIM_THRESHOLD, 32 * 1024 * 1024)
        and mallopt(_M_ARENA_MAX, 2)
    )


@contextlib.contextmanager
def _directory_lock(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        raise UsageError(
            f"A peer is already running for {path.parent}; use the command line against it, "
            "or stop it first."
        ) from exc
    try:
        yield
    finally:
        os.close(fd)


@contextlib.asynccontextmanager
async def running_node(
    data_dir: Path,
    *,
    listen: tuple[str, int] = ("0.0.0.0", 0),
    peers: list[str] | None = None,
    display_name: str = "",
    discovery: bool = False,
    discovery_interfaces: list[str] | None = None,
) -> AsyncIterator[Node]:
    """A started node for ``data_dir``; stopped cleanly when the block ends.

    ``discovery``: announce and look for members with mDNS (on ``discovery_interfaces``, or
    every interface); off unless asked, so that nothing multicasts by surprise.
    """
    paths = DataPaths(data_dir)
    paths.ensure()
    with _directory_lock(paths.lock):
        identity = await asyncio.to_thread(load_or_create_identity, paths.identity_key)
        db = await asyncio.to_thread(Database.open, paths.database)
        if db.notice:
            log.warning("%s", db.notice)
        node = Node(
            paths,
            identity,
            db,
            ContentStore(db, paths),
            display_name=display_name,
            listen=listen,
            peers=peers,
            discovery=discovery,
            discovery_interfaces=discovery_interfaces,
        )
        try:
            await node.start()
            yield node
        finally:
            await node.stop()
            await asyncio.to_thread(db.close)


async def run_daemon(
    data_dir: Path,
    listen: tuple[str, int],
    peers: list[str],
    display_name: str = "",
    discovery: bool = True,
    discovery_interfaces: list[str] | None = None,
) -> int:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    keep_large_buffers()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running_node(
        data_dir,
        listen=listen,
        peers=peers,
        display_name=display_name,
        discovery=discovery,
        discovery_interfaces=discovery_interfaces,
    ) as node:
        print(
            f"natakanu-peer {node.identity.peer_id} listening on {node.listen_address}", flush=True
        )
        await stop.wait()
        log.info("stopping")
    return 0
