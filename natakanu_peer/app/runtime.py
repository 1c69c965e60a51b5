"""Building a node for a data directory, running it, and stopping it cleanly.

Shared by the daemon and (later) the window: take the directory's lock so two nodes never
share one state, load or create the identity, open the state file, start the node; on stop,
close the links and flush the state. This module must never import Qt.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from ..errors import UsageError
from ..storage.content import ContentStore
from ..storage.database import Database
from ..storage.identity_store import load_or_create_identity
from ..storage.paths import DataPaths
from .node import Node

log = logging.getLogger(__name__)


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
