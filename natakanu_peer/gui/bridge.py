"""The one door between the window and the node: signals in, async jobs out.

The node runs on the same event loop as the window (qasync). The bridge starts and stops
it, turns what it reports into Qt signals carrying plain snapshots (lists of dicts), and
runs what the window asks as async jobs: a job that fails for an expected reason (a
``UsageError``) becomes a ``failed`` signal with its sentence, anything else is logged and
becomes a ``crashed`` signal. Widgets never call the node themselves.

Snapshots are cheap to make and to apply: keys are synchronised by difference (only new,
removed and changed keys are described, in batches), peers, transfers and the status are
polled once a second.

This module must never draw anything, and never block: everything slow is awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from ..errors import CannotListenError, NatakanuError, UsageError

if TYPE_CHECKING:
    from ..app.node import Node
    from ..app.settings import Settings

log = logging.getLogger(__name__)

POLL_MS = 1000
KEYS_SETTLE_MS = 150  # many changes in a burst are shown in one go
DESCRIBE_BATCH = 500
FREEZE_AFTER_ROWS = 1000


class NodeBridge(QObject):
    """Runs a node for the window and speaks for it."""

    started = Signal(dict)  # status
    stopped = Signal()
    # ``object``, not ``list``: a list signal is converted to Qt's types and back, which
    # copies every row (100 MB for 100,000 keys) and spends time doing it.
    keys_updated = Signal(object)  # rows (dicts) to add or replace
    keys_removed = Signal(object)  # keys (bytes) gone from the list
    keys_reset = Signal()  # the circle changed: start from an empty list
    peers_changed = Signal(list)
    transfers_changed = Signal(list)  # downloads and shares under way
    status_changed = Signal(dict)
    circles_changed = Signal(list)
    settings_changed = Signal(object)  # Settings
    failed = Signal(str)  # an expected failure: a sentence for the person
    crashed = Signal(str)  # a bug: shown in a dialog, written to the log
    download_done = Signal(str, str)  # name, path
    new_items = Signal(list)  # names of items that just arrived from others
    job_done = Signal(str, object)  # a job's label and its result

    def __init__(
        self,
        data_dir: Path,
        parent: QObject | None = None,
        *,
        discovery: bool | None = None,
        discovery_interfaces: list[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self._discovery = discovery  # None: as the settings say
        self._discovery_interfaces = discovery_interfaces
        self.node: Node | None = None
        self.settings: Settings | None = None
        self.ready = False  # the node runs and the window has its first full picture
        self._shown: set[bytes] = set()
        self._dirty_keys: set[bytes] = set()
        self._announce_new = False  # after the first full list, new items are news
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.timeout.connect(self._sync_soon)
        self._poll_timer = QTimer(self)
        self._poll_timer.timeout.connect(self._poll_soon)
        self._syncing: asyncio.Task[None] | None = None
        self._resync = False
        self._shares: dict[int, dict[str, Any]] = {}  # shares being prepared (hashing)
        self._share_ids = 0
        self._speeds: dict[str, tuple[float, int, float]] = {}  # hash -> (time, bytes, rate)
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.listen_note = ""
        self._downloads: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ life

    async def run(self, listen_override: tuple[str, int] | None = None) -> None:
        """Run the node until ``stop``; called once, from the window's start."""
        from ..app.runtime import keep_large_buffers, running_node
        from ..app.settings import load_settings, read_settings_file

        keep_large_buffers()
        settings = await asyncio.to_thread(read_settings_file, self.data_dir)
        discovery = settings.discovery if self._discovery is None else self._discovery

        async def open_node(listen: tuple[str, int]) -> tuple[Any, Node]:
            context = running_node(
                self.data_dir,
                listen=listen,
                display_name=settings.display_name,
                discovery=discovery,
                discovery_interfaces=self._discovery_interfaces,
            )
            return context, await context.__aenter__()

        listen = listen_override or ("0.0.0.0", settings.listen_port)
        try:
            context, node = await open_node(listen)
        except CannotListenError as exc:
            if listen_override or listen[1] == 0:
                raise
            # The chosen port is taken (another program): any free port still lets this
            # peer reach others and be reached by those it dials.
            self.listen_note = str(exc)
            log.warning("%s; listening on any free port instead", exc)
            context, node = await open_node(("0.0.0.0", 0))
        try:
            self.node = node
            self.settings = await load_settings(node.db)
            node.downloads_dir = (
                Path(self.settings.downloads_dir) if self.settings.downloads_dir else None
            )
            node.keep_everything = self.settings.keep_everything
            node.subscribe(self._on_node_event)
            self.settings_changed.emit(self.settings)
            self.started.emit(await node.status())
            gc.freeze()  # what start-up made lives as long as the window
            await self._sync_keys()
            self._announce_new = True
            await self._poll()
            await self._refresh_circles()
            self._poll_timer.start(POLL_MS)
            self.ready = True
            await self._stop.wait()
        finally:
            self.ready = False
            self._poll_timer.stop()
            self._sync_timer.stop()
            for task in list(self._tasks):
                task.cancel()
            self.node = None
            await context.__aexit__(None, None, None)
            self.stopped.emit()

    def stop(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------------ jobs

    def submit(
        self,
        label: str,
        job: Callable[[Node], Awaitable[Any]],
        done: Callable[[Any], None] | None = None,
    ) -> asyncio.Task[Any] | None:
        """Run ``job(node)`` beside the window; its result goes to ``done`` and ``job_done``."""
        node = self.node
        if node is None:
            self.failed.emit(self.tr("The peer is still starting; try again in a moment."))
            return None

        async def run() -> None:
            try:
                result = await job(node)
            except asyncio.CancelledError:
                raise
            except UsageError as exc:
                self.failed.emit(str(exc))
                return
            except NatakanuError as exc:
                self.failed.emit(str(exc))
                return
            except Exception as exc:
                log.exception("the job %r failed", label)
                self.crashed.emit(f"{type(exc).__name__}: {exc}")
                return
            # Out of the task: ``done`` may open a dialog, whose own event loop must not
            # run inside an asyncio task.
            if done is not None:
                QTimer.singleShot(0, lambda: done(result))
            self.job_done.emit(label, result)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def share(self, paths: Sequence[Path]) -> None:
        """Share files or folders, one after the other, showing the hashing as a transfer."""
        for path in paths:
            self._share_ids += 1
            ident = self._share_ids
            entry = {
                "id": f"share-{ident}",
                "kind": "share",
                "name": path.name or str(path),
                "size": 0,
                "done": 0,
                "state": "preparing",
                "rate": 0.0,
                "started": time.monotonic(),
            }
            self._shares[ident] = entry

            def progress(done: int, total: int, entry: dict[str, Any] = entry) -> None:
                entry["done"], entry["size"] = done, total

            async def job(node: Node, path: Path = path, ident: int = ident) -> Any:
                try:
                    return await node.share([path], progress=progress)
                finally:
                    self._shares.pop(ident, None)
                    self._publish_transfers()

            self.submit("share", job)
        self._publish_transfers()

    # ------------------------------------------------------------------ from the node

    def _on_node_event(self, kind: str, details: dict[str, Any]) -> None:
        if kind == "keys":
            self._schedule_sync()
        elif kind == "items":
            node = self.node
            if node is None:
                return
            from ..protocol.manifest import manifest_key

            keys = list(details.get("keys", ()))
            keys += [manifest_key(bytes.fromhex(h)) for h in details.get("hashes", ())]
            self._dirty_keys.update(k for k in keys if k in self._shown)
            self._schedule_sync()
        elif kind == "circle":
            self._shown.clear()
            self._dirty_keys.clear()
            self._announce_new = False
            self.keys_reset.emit()
            self._schedule_sync()
            self._spawn(self._refresh_circles())
        elif kind == "download_done":
            self.download_done.emit(str(details.get("name") or ""), str(details.get("path") or ""))
        elif kind == "download_failed":
            self.failed.emit(str(details.get("error") or ""))

    def _schedule_sync(self) -> None:
        if not self._sync_timer.isActive():
            self._sync_timer.start(KEYS_SETTLE_MS)

    def _sync_soon(self) -> None:
        if not _loop_running():
            self._sync_timer.start(KEYS_SETTLE_MS)  # the next turn, inside the loop
            return
        if self._syncing is not None and not self._syncing.done():
            self._resync = True
            return
        self._syncing = self._spawn(self._sync_keys())

    async def _sync_keys(self) -> None:
        """Bring the window's list to the node's: describe what is new or changed."""
        node = self.node
        if node is None:
            return
        current = node.list_keys()
        current_set = set(current)
        removed = [k for k in self._shown if k not in current_set]
        added = [k for k in current if k not in self._shown]
        changed = [k for k in self._dirty_keys if k in current_set and k in self._shown]
        self._dirty_keys.clear()
        if removed:
            self._shown.difference_update(removed)
            self.keys_removed.emit(removed)
        fresh = set(added) if self._announce_new else set()
        fresh_names: list[str] = []
        todo = changed + added
        for start in range(0, len(todo), DESCRIBE_BATCH):
            rows = await node.describe_keys(todo[start : start + DESCRIBE_BATCH])
            if self.node is not node:
                return
            rows = [r for r in rows if r["key"] in current_set]
            fresh_names += [
                str(r.get("name") or r.get("text") or "")
                for r in rows
                if r["key"] in fresh and not r["mine"] and not r["hidden"]
            ]
            self._shown.update(r["key"] for r in rows)
            self.keys_updated.emit(rows)
            await asyncio.sleep(0)  # let the window breathe between batches
        if len(todo) >= FREEZE_AFTER_ROWS:
            # The rows just made live as long as the list: moved out of the collector's
            # reach, a full collection does not walk 100,000 of them (a 30-100 ms pause of
            # the window) to find nothing. Freed by reference counting all the same.
            gc.freeze()
            give_back_free_memory()
        if fresh_names:
            self.new_items.emit(fresh_names)
        if self._resync:
            self._resync = False
            self._schedule_sync()

    def _poll_soon(self) -> None:
        if _loop_running():  # else the next tick polls
            self._spawn(self._poll())

    async def _poll(self) -> None:
        node = self.node
        if node is None:
            return
        try:
            peers = await node.peers()
            transfers = await node.transfers()
            status = await node.status()
        except Exception:
            log.exception("reading the node's state failed")
            return
        self.peers_changed.emit(peers)
        self._downloads = transfers
        self._publish_transfers()
        status["listen_note"] = self.listen_note
        self.status_changed.emit(status)

    def _publish_transfers(self) -> None:
        now = time.monotonic()
        rows: list[dict[str, Any]] = []
        under_way = {row["hash"] for row in self._downloads}
        for gone in [h for h in self._speeds if h not in under_way]:
            del self._speeds[gone]
        for row in self._downloads:
            row = dict(row, kind="download", id=row["hash"])
            row["rate"] = self._rate(row["hash"], int(row["done"]), now)
            rows.append(row)
        for entry in self._shares.values():
            elapsed = max(now - float(entry["started"]), 1e-3)
            rows.append(dict(entry, rate=entry["done"] / elapsed))
        self.transfers_changed.emit(rows)

    def _rate(self, hash_: str, done: int, now: float) -> float:
        """Bytes per second, smoothed, from the progress seen at each poll."""
        last = self._speeds.get(hash_)
        rate = 0.0
        if last is not None and now > last[0]:
            instant = max(done - last[1], 0) / (now - last[0])
            rate = instant if last[2] == 0 else 0.5 * instant + 0.5 * last[2]
        self._speeds[hash_] = (now, done, rate)
        return rate

    async def _refresh_circles(self) -> None:
        node = self.node
        if node is not None:
            self.circles_changed.emit(await node.circles())

    def refresh(self) -> None:
        """Read the node again now (after a job that changed something)."""
        self._spawn(self._poll())
        self._spawn(self._refresh_circles())
        self._schedule_sync()

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)
        return task


def give_back_free_memory() -> None:
    """After a large list was built, hand the C heap's free pages back to the system.

    Describing keys in batches leaves free blocks scattered through the heap, which glibc
    keeps (see ``runtime.keep_large_buffers``); ``malloc_trim`` returns the whole free pages
    among them. Elsewhere than glibc, nothing happens.
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def _log_failure(task: asyncio.Task[Any]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        exc = task.exception()
        if exc is not None:
            log.error("a window task failed", exc_info=exc)


def _loop_running() -> bool:
    """Whether these timers fire inside the asyncio loop. Qt may also deliver them while
    something processes Qt events with the loop stopped (a test harness between phases);
    the node's coroutines cannot run then."""
    return asyncio._get_running_loop() is not None
