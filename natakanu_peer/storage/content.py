"""The content store: shared files read in place, verified chunk reads, downloads made durable.

Sharing hashes a file or folder in 4 MiB chunks (BLAKE3, in worker threads) and records, in
one transaction, its manifest, where every chunk lives (the user's own files: nothing is
copied) and the new hashes at the end of the provide log. Reading a chunk re-reads the range
and checks its hash every time; a source that no longer matches is forgotten.

A download lives under ``partial/<manifest hash>/<name>``: sparse files at their final sizes,
written chunk by chunk once each chunk matches its hash. Progress is committed in batches,
each after the files are flushed, so the database never claims a chunk the disk may not have;
after a crash, chunks written but not yet committed are found again by hashing. Once complete,
the files are flushed and moved into the download folder under a free name, never replacing
anything.

This module must never serve or keep a byte that does not match its hash, never write outside
the partial folder and the download folder it was given, never follow a symbolic link while
walking a shared folder, and never block the event loop: file work and hashing run in worker
threads, SQLite through ``Database.call``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import re
import shutil
import sqlite3
import stat
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from ..errors import DiskFullError, NotEnoughSpaceError, RemoteProtocolError, UsageError
from ..hashing import BLAKE3
from ..protocol import limits
from ..protocol.manifest import (
    CHUNK_SIZE,
    ChunkPlace,
    Manifest,
    ManifestFile,
    PortablePaths,
    check_manifest,
    chunk_count_for,
    decode_manifest,
    encode_manifest,
    manifest_key,
    media_type_for,
    name_problem,
    path_problem,
)
from .database import Database
from .durable import fsync_directory, start_writeback
from .paths import DataPaths

log = logging.getLogger(__name__)

#: Bytes hashed per worker-thread call while sharing: handing work to the thread then costs
#: nothing next to the hashing, and progress and cancelling still come several times a second.
HASH_PIECE_BYTES = 16 * CHUNK_SIZE
#: Pieces hashed at the same time: reads and BLAKE3 release the GIL, so a second core helps
#: (b3sum, the reference, uses every core too).
HASH_WORKERS = 2
#: Download progress is committed after this many chunks or seconds, whichever comes first.
#: Each commit flushes the partial files first; a crash loses at most the uncommitted records,
#: and the chunks behind them are found again by hashing at resume.
RECORD_BATCH_CHUNKS = 32
RECORD_BATCH_SECONDS = 1.0

ACTIVE = "active"
PAUSED = "paused"
#: Being moved into the download folder; ``final_path`` says where to, for crash recovery.
FINISHING = "finishing"
COMPLETE = "complete"
FAILED = "failed"

_DISK_FULL = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
# The file is not there (any more) as a plain file: every chunk of it is gone.
_GONE = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP})
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# O_NOFOLLOW: a file swapped for a symbolic link is refused, not followed. O_NONBLOCK: one
# swapped for a pipe does not block the thread forever at open (no effect on plain files).
_READ = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
)
_WRITE = os.O_RDWR | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
_CREATING = ".creating"
_COMPOUND_SUFFIXES = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")


@dataclass(frozen=True, slots=True)
class Skipped:
    """An entry of a shared folder that was left out, and why (for showing as plain text)."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Shared:
    """What ``share`` made available."""

    #: The gossip key that advertises the manifest.
    key: bytes
    manifest_hash: str
    name: str
    total_size: int
    file_count: int
    skipped: tuple[Skipped, ...]
    manifest: Manifest


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


class ContentStore:
    """Shared files, manifests, the provide log and downloads of one data directory."""

    def __init__(
        self,
        db: Database,
        paths: DataPaths,
        *,
        free_space: Callable[[Path], int] = _free_bytes,
    ) -> None:
        self._db = db
        self._paths = paths
        self._free_space = free_space
        #: The circle shares and finished downloads are offered to, and whose provide log
        #: ``provided_since`` reads. The node sets it; a store on its own uses "".
        self.circle_id = ""
        # Downloads open in this process, so each manifest has one writer; opening one is
        # done under a lock so two callers never make two writers for one manifest.
        self._open: dict[str, Download] = {}
        self._opening = asyncio.Lock()

    # ------------------------------------------------------------------ sharing

    async def share(self, path: Path, progress: Callable[[int, int], None] | None = None) -> Shared:
        """Share a file or a folder in place; ``progress(bytes_hashed, total)`` as it goes.

        Symbolic links and special files inside a folder are skipped and reported, never
        followed. Sharing the same content again gives the same key, and its new location.
        """
        path = Path(os.path.abspath(path))
        _require_utf8(path)
        name, folder, found, skipped = await asyncio.to_thread(_survey, path)
        _check_share_size(path, found)
        total = sum(f.size for f in found)
        hashed: list[_Hashed] = []
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(min(done, total), total)

        for entry in found:
            result = await _hash_file(entry, advance)
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                hashed.append(result)
        if progress is not None:
            progress(total, total)
        if not hashed:
            raise UsageError(_nothing_to_share(path, skipped))
        manifest = Manifest(
            name=name,
            folder=folder,
            files=tuple(
                ManifestFile("/".join(h.parts), h.size, media_type_for(h.parts[-1]), h.chunks)
                for h in hashed
            ),
        )
        body, digest = await asyncio.to_thread(_encode_own, path, manifest)
        manifest_hash = digest.hex()
        await self._db.call(
            _record_share,
            self.circle_id,
            manifest_hash,
            body,
            str(path),
            [(str(h.source), h.size, h.mtime_ns) for h in hashed],
            manifest.chunk_places(),
            time.time(),
        )
        log.info("shared %s as %s (%d files)", path, manifest_hash, len(hashed))
        return Shared(
            key=manifest_key(digest),
            manifest_hash=manifest_hash,
            name=name,
            total_size=manifest.total_size,
            file_count=len(hashed),
            skipped=tuple(skipped),
            manifest=manifest,
        )

    # ------------------------------------------------------------------ serving

    async def read_chunk(self, hash_hex: str) -> bytes | None:
        """The chunk named ``hash_hex``, verified; None when no source still holds it."""
        if not _HEX_DIGEST.fullmatch(hash_hex):
            return None
        sources = await self._db.call(_chunk_sources, hash_hex)
        for source in sources:
            outcome = await asyncio.to_thread(_read_source, source, hash_hex)
            if isinstance(outcome, bytes):
                return outcome
            log.info("chunk %s no longer at %s (%s)", hash_hex, source.path, outcome.name)
            await self._db.call(_drop_source, hash_hex, source, outcome)
        return None

    async def has_chunk(self, hash_hex: str) -> bool:
        """Whether some source is recorded for the chunk (``read_chunk`` still verifies it)."""
        return await self._db.call(_has_chunk, hash_hex)

    async def manifest_body(self, hash_hex: str) -> bytes | None:
        """The stored bytes of the manifest named ``hash_hex``, if we have it."""
        return await self._db.call(_manifest_body, hash_hex)

    async def manifest(self, hash_hex: str) -> Manifest | None:
        """The stored manifest named ``hash_hex``, decoded, if we have it."""
        body = await self.manifest_body(hash_hex)
        if body is None:
            return None
        return await asyncio.to_thread(decode_manifest, body)

    async def add_manifest(self, body: bytes) -> Manifest:
        """Validate and store a manifest fetched from a peer; ``RemoteProtocolError`` if bad.

        That ``body`` hashes to a hash we asked for is the caller's check.
        """
        manifest = await asyncio.to_thread(decode_manifest, body)
        digest = await asyncio.to_thread(BLAKE3.digest, body)
        await self._db.call(_store_manifest, digest.hex(), body, time.time())
        return manifest

    async def provided_since(self, seq: int, limit: int | None = None) -> list[tuple[int, str]]:
        """Entries ``(seq, hash)`` of the provide log after ``seq``, oldest first."""
        return await self._db.call(
            _provided_since, self.circle_id, seq, -1 if limit is None else limit
        )

    async def is_provided(self, hash_hex: str) -> bool:
        """Whether ``hash_hex`` is offered to the active circle (and may be served in it)."""
        return await self._db.call(_is_provided, self.circle_id, hash_hex)

    async def adopt_unowned(self, circle_id: str) -> int:
        """Give what was offered before circles existed to ``circle_id`` (the first one)."""
        return await self._db.call(_adopt_unowned, circle_id)

    # ------------------------------------------------------------------ downloading

    async def begin_download(self, manifest_hash_hex: str, target_dir: Path) -> Download:
        """Start downloading a stored manifest into ``target_dir`` (or return the download
        already under way). ``NotEnoughSpaceError`` when it would not fit."""
        _require_digest(manifest_hash_hex)
        async with self._opening:
            return await self._begin(manifest_hash_hex, target_dir)

    async def _begin(self, manifest_hash_hex: str, target_dir: Path) -> Download:
        if manifest_hash_hex in self._open:
            return self._open[manifest_hash_hex]
        row = await self._db.call(_download_row, manifest_hash_hex)
        if row is not None and row.state in (ACTIVE, PAUSED, FINISHING):
            download = await self._reopen(row, scan=row.state != PAUSED)
            if download is not None:
                return download
        manifest = await self.manifest(manifest_hash_hex)
        if manifest is None:
            raise UsageError(
                f"The manifest {manifest_hash_hex} is not known here yet: fetch it from a peer "
                "before downloading its files."
            )
        target_dir = Path(os.path.abspath(target_dir))
        _require_utf8(target_dir)
        root = self._paths.partial / manifest_hash_hex
        await asyncio.to_thread(self._prepare_folders, target_dir)
        await asyncio.to_thread(self._check_space, manifest, target_dir)
        try:
            await asyncio.to_thread(_create_partial, root, manifest)
        except OSError as exc:
            await asyncio.to_thread(_remove_tree, root.with_name(root.name + _CREATING))
            raise UsageError(
                f"Could not prepare the download of {manifest.name!r} in {root.parent}: "
                f"{_reason(exc)}."
            ) from exc
        await self._db.call(_insert_download, manifest_hash_hex, str(target_dir), time.time())
        download = Download(self, manifest_hash_hex, manifest, target_dir, set())
        self._open[manifest_hash_hex] = download
        log.info("download %s started into %s", manifest_hash_hex, target_dir)
        return download

    async def local_copy(self, manifest_hash_hex: str) -> Path | None:
        """Where this content already is here, whole: our own share, or a finished download."""
        _require_digest(manifest_hash_hex)
        path = await self._db.call(_local_copy, manifest_hash_hex)
        return path if path is not None and path.exists() else None

    async def open_download(self, manifest_hash_hex: str) -> Download | None:
        """An unfinished download (active or paused), resumed; None if there is none."""
        _require_digest(manifest_hash_hex)
        async with self._opening:
            if manifest_hash_hex in self._open:
                return self._open[manifest_hash_hex]
            row = await self._db.call(_download_row, manifest_hash_hex)
            if row is None or row.state not in (ACTIVE, PAUSED, FINISHING):
                return None
            return await self._reopen(row, scan=row.state != PAUSED)

    async def resume_downloads(self) -> list[Download]:
        """Every download that was active when the last run ended, ready to continue.

        After a clean stop the chunks the database recorded are trusted (they were flushed
        at the stop); after a crash every chunk is checked by hashing its range (holes of the
        sparse files are skipped), so at most the chunks being written at the crash are
        fetched again. Paused downloads stay paused (``open_download`` resumes one).
        Meant for start-up: it also clears what crashes left in the partial folder.
        """
        async with self._opening:
            rows = await self._db.call(_unfinished_downloads)
            known = {r.manifest_hash for r in rows}
            await asyncio.to_thread(_sweep_partial, self._paths.partial, known)
            resumed: list[Download] = []
            for row in rows:
                if row.state == PAUSED:
                    continue
                download = self._open.get(row.manifest_hash)
                if download is None:
                    download = await self._reopen(row, scan=True)
                if download is not None:
                    resumed.append(download)
            return resumed

    async def _reopen(self, row: _DownloadRow, *, scan: bool) -> Download | None:
        manifest = await self.manifest(row.manifest_hash)
        if manifest is None:
            await self._db.call(
                _set_state, row.manifest_hash, FAILED, "its manifest is no longer stored", None
            )
            return None
        root = self._paths.partial / row.manifest_hash
        target_dir = Path(row.target_dir)
        if row.state == FINISHING:
            outcome = await asyncio.to_thread(_recover_finish, root, manifest, row)
            if outcome is _Recovered.DONE:
                assert row.final_path is not None
                await self._complete(row.manifest_hash, manifest, Path(row.final_path))
                return None
            if outcome is _Recovered.LOST:
                await self._db.call(
                    _set_state,
                    row.manifest_hash,
                    FAILED,
                    "the downloaded files disappeared before they were moved into place",
                    None,
                )
                return None
        recorded = await self._db.call(_recorded_chunks, row.manifest_hash)
        lost = await asyncio.to_thread(_repair_partial, root, manifest)
        places = manifest.chunk_places()
        done = {i for i in recorded if i < len(places) and places[i].file_index not in lost}
        if not self._db.previous_clean:
            # Chunks are recorded before their bytes are flushed: after a crash or a power
            # cut, trust only what hashes right now (the scan below finds those again).
            done = set()
            scan = True
        if set(recorded) - done:
            await self._db.call(_forget_chunks, row.manifest_hash, sorted(set(recorded) - done))
        if scan:
            found = await _scan_partial(root, manifest, places, done)
            if found:
                log.info("download %s: %d chunks found on disk", row.manifest_hash, len(found))
                await self._db.call(_record_chunks, row.manifest_hash, found, time.time())
                done.update(found)
        await self._db.call(_set_state, row.manifest_hash, ACTIVE, None, None)
        download = Download(self, row.manifest_hash, manifest, target_dir, done)
        self._open[row.manifest_hash] = download
        return download

    def _prepare_folders(self, target_dir: Path) -> None:
        self._paths.partial.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            target_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"The download folder {target_dir} cannot be created ({_reason(exc)}); "
                "choose another folder."
            ) from exc

    def _check_space(self, manifest: Manifest, target_dir: Path) -> None:
        need = manifest.total_size
        partial = self._paths.partial
        folders = [partial]
        # On another disk, the files are copied there at the end, so both disks need room.
        if os.stat(target_dir).st_dev != os.stat(partial).st_dev:
            folders.append(target_dir)
        for folder in folders:
            free = self._free_space(folder)
            if free < need:
                raise NotEnoughSpaceError(
                    f"Not enough free space to download {manifest.name!r}: it needs "
                    f"{_size_text(need)} on the disk of {folder}, where {_size_text(free)} is "
                    "free. Free some space, or choose a download folder on another disk."
                )

    async def _complete(self, manifest_hash: str, manifest: Manifest, final: Path) -> None:
        try:
            files = await asyncio.to_thread(_final_files, manifest, final)
        except OSError as exc:  # moved or deleted already: complete, but not served
            log.info("not serving %s: %s", final, exc)
            files = []
        await self._db.call(
            _record_complete,
            self.circle_id,
            manifest_hash,
            str(final),
            files,
            manifest.chunk_places(),
            time.time(),
        )
        await asyncio.to_thread(_remove_tree, self._paths.partial / manifest_hash)

    def _forget(self, download: Download) -> None:
        if self._open.get(download.manifest_hash) is download:
            del self._open[download.manifest_hash]


class Download:
    """One download: which chunks are still missing, writing verified chunks, finishing.

    Made by ``ContentStore.begin_download``, ``open_download`` or ``resume_downloads``.
    """

    def __init__(
        self,
        store: ContentStore,
        manifest_hash: str,
        manifest: Manifest,
        target_dir: Path,
        done: set[int],
    ) -> None:
        self._store = store
        self.manifest_hash = manifest_hash
        self.manifest = manifest
        self.target_dir = target_dir
        self._root = store._paths.partial / manifest_hash
        self._places = manifest.chunk_places()
        self._done = done
        self._pending: list[int] = []  # written, not yet committed
        self._touched: set[int] = set()  # files written since the last flush
        self._last_flush = time.monotonic()
        self._flush_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[None] | None = None
        self._fds: dict[int, int] = {}
        self._fd_lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------------ progress

    @property
    def chunk_count(self) -> int:
        return len(self._places)

    def missing(self) -> list[int]:
        """Indices of the chunks still to fetch, across all files, in order."""
        return [i for i in range(len(self._places)) if i not in self._done]

    def chunk_hash(self, index: int) -> str:
        return self._places[index].hash

    def indices_of(self, hash_hex: str) -> list[int]:
        """Every index whose chunk is ``hash_hex`` (identical chunks appear more than once)."""
        return [p.index for p in self._places if p.hash == hash_hex]

    @property
    def verified_bytes(self) -> int:
        return sum(self._places[i].length for i in self._done)

    # ------------------------------------------------------------------ writing

    async def write_chunk(self, index: int, data: bytes, *, checked_as: str | None = None) -> None:
        """Write chunk ``index`` if ``data`` matches its hash; ``RemoteProtocolError`` if not.

        ``checked_as``: the hash the caller has already checked ``data`` against (the
        hash-exchange engine checks every delivery). When it is this chunk's hash the check is
        not repeated; any other value is ignored and the data is hashed here.
        ``DiskFullError`` when the disk is full; what was verified before is kept.
        """
        self._check_usable()
        if not 0 <= index < len(self._places):
            raise ValueError(f"chunk index {index} out of range 0..{len(self._places) - 1}")
        if index in self._done:
            return
        place = self._places[index]
        if len(data) != place.length:
            raise RemoteProtocolError(
                f"chunk {index} has {len(data):,} bytes where {place.length:,} were expected"
            )
        try:
            await asyncio.to_thread(self._verify_and_write, place, data, checked_as == place.hash)
        except OSError as exc:
            raise await self._write_failure(exc) from exc
        self._done.add(index)
        self._pending.append(index)
        self._touched.add(place.file_index)
        self._raise_flush_failure()
        if (
            len(self._pending) >= RECORD_BATCH_CHUNKS
            or time.monotonic() - self._last_flush >= RECORD_BATCH_SECONDS
        ) and (self._flush_task is None or self._flush_task.done()):
            # Flushing waits for the disk: do it beside the transfer, not in its way. The
            # chunks of a batch are recorded only once their bytes are on the disk.
            self._flush_task = asyncio.create_task(self.flush())

    def _raise_flush_failure(self) -> None:
        """A background flush that failed (disk full) stops the download at the next write."""
        task = self._flush_task
        if task is not None and task.done() and not task.cancelled():
            error = task.exception()
            if error is not None:
                self._flush_task = None
                raise error

    def _verify_and_write(self, place: ChunkPlace, data: bytes, checked: bool) -> None:
        if not checked and BLAKE3.hash_of(data) != place.hash:
            raise RemoteProtocolError(f"chunk {place.index} does not match its hash")
        fd = self._fd(place.file_index)
        _pwrite_all(fd, data, place.offset, self._fd_lock)
        # Send the bytes on to the disk now, beside the transfer, so that the flush before
        # the move into place has little left to wait for.
        start_writeback(fd, place.offset, len(data))

    def _fd(self, file_index: int) -> int:
        with self._fd_lock:
            fd = self._fds.get(file_index)
            if fd is None:
                fd = os.open(self._file_path(file_index), _WRITE)
                self._fds[file_index] = fd
            return fd

    def _file_path(self, file_index: int) -> Path:
        return self._root.joinpath(*self.manifest.destination_parts(file_index))

    async def _write_failure(self, exc: OSError) -> UsageError:
        """The error to raise for a failed write, after saving what can be saved."""
        if exc.errno not in _DISK_FULL:
            return UsageError(
                f"Could not write the download {self.manifest.name!r} in {self._root}: "
                f"{_reason(exc)}."
            )
        with contextlib.suppress(UsageError):
            await self.flush()  # keep what was verified before, if the disk still allows
        message = (
            f"The disk holding {self._root.parent} is full. {len(self._done):,} of "
            f"{len(self._places):,} chunks of {self.manifest.name!r} are saved and kept; "
            "free some space, then resume the download."
        )
        await self._store._db.call(_set_state, self.manifest_hash, ACTIVE, message, None)
        return DiskFullError(message)

    async def flush(self, *, sync: bool = False) -> None:
        """Record the chunks written since last time as done; with ``sync``, first flush every
        file of the download to the disk.

        While the transfer runs, chunks are recorded without flushing: after a crash of the
        process their bytes are still in the system's cache, and after an unclean shutdown
        the recorded chunks are checked again before they are trusted (``_reopen``). Before
        the move into place and at a clean stop, everything is flushed.
        """
        self._raise_flush_failure()
        async with self._flush_lock:
            if not self._pending and not sync:
                return
            batch, self._pending = self._pending, []
            self._touched = set()
            fds = list(self._fds.values()) if sync else []
            try:
                if fds:
                    await asyncio.to_thread(_sync_all, fds)
            except OSError as exc:
                # After a failed flush the kernel may have dropped those pages: the chunks
                # are fetched again rather than trusted.
                self._done.difference_update(batch)
                if exc.errno in _DISK_FULL:
                    raise DiskFullError(
                        f"The disk holding {self._root.parent} is full; free some space, then "
                        "resume the download."
                    ) from exc
                raise UsageError(f"Could not save the download: {_reason(exc)}.") from exc
            if batch:
                await self._store._db.call(_record_chunks, self.manifest_hash, batch, time.time())
            self._last_flush = time.monotonic()

    # ------------------------------------------------------------------ ending

    async def finish(self, *, provide: bool = True) -> Path:
        """Move the complete download into the download folder under a free name.

        Returns the final path, always inside ``target_dir``. With ``provide`` the finished
        copy is served to peers like a share, and its hashes join the provide log.
        """
        self._check_usable()
        missing = self.missing()
        if missing:
            raise UsageError(
                f"{len(missing):,} chunks of {self.manifest.name!r} are still missing."
            )
        await self.flush(sync=True)
        self._closed = True  # no more writes while the files move
        store = self._store
        try:
            final = await self._move_into_place()
        except BaseException:
            self._closed = False
            await store._db.call(_set_state, self.manifest_hash, ACTIVE, None, None)
            raise
        try:
            await asyncio.to_thread(fsync_directory, self.target_dir)
        except OSError as exc:  # moved already: the rename is in the file system's journal
            log.warning("could not flush %s: %s", self.target_dir, exc)
        if provide:
            await store._complete(self.manifest_hash, self.manifest, final)
        else:
            await store._db.call(
                _record_complete, "", self.manifest_hash, str(final), [], [], time.time()
            )
            await asyncio.to_thread(_remove_tree, self._root)
        store._forget(self)
        log.info("download %s complete: %s", self.manifest_hash, final)
        return final

    async def _move_into_place(self) -> Path:
        source = self._root / self.manifest.name
        scratch = _scratch_path(self.target_dir, self.manifest_hash)
        try:
            await asyncio.to_thread(self._close_files, True)
            # The files were flushed as they were closed (or when their chunks were recorded).
            await asyncio.to_thread(_sync_tree, self._root, False)
            await asyncio.to_thread(self.target_dir.mkdir, parents=True, exist_ok=True)
            for candidate in _free_names(self.manifest.name, self.manifest.folder):
                destination = self.target_dir / candidate
                if os.path.lexists(destination):
                    continue
                _check_inside(destination, self.target_dir)
                # Recorded first, so a crash during the move is finished at the next start.
                await self._store._db.call(
                    _set_state, self.manifest_hash, FINISHING, None, str(destination)
                )
                try:
                    await asyncio.to_thread(
                        _move_no_replace, source, destination, self.manifest.folder, scratch
                    )
                except FileExistsError:
                    continue  # taken meanwhile by someone else: try the next name
                return destination
        except OSError as exc:
            if exc.errno in _DISK_FULL:
                raise DiskFullError(
                    f"The disk holding {self.target_dir} is full; free some space, then "
                    "finish the download."
                ) from exc
            raise UsageError(
                f"Could not move {self.manifest.name!r} into {self.target_dir}: {_reason(exc)}."
            ) from exc
        raise UsageError(
            f"No free name for {self.manifest.name!r} in {self.target_dir}; "
            "tidy the folder or choose another one."
        )

    async def close(self) -> None:
        """Save progress and let go of the files, leaving the download active (at shutdown)."""
        if self._closed:
            return
        try:
            await self.flush(sync=True)
        finally:
            self._closed = True
            self._store._forget(self)
            await asyncio.to_thread(self._close_files, False)

    async def pause(self) -> None:
        """Save progress and stop; ``ContentStore.open_download`` resumes it."""
        await self.close()
        await self._store._db.call(_set_state, self.manifest_hash, PAUSED, None, None)

    async def cancel(self) -> None:
        """Stop for good: forget the download and delete its partial files."""
        if not self._closed:
            await asyncio.to_thread(self._close_files, False)
        self._closed = True
        self._store._forget(self)
        # The row goes first: leftover files without a row are swept at the next start.
        await self._store._db.call(_delete_download, self.manifest_hash)
        await asyncio.to_thread(_remove_tree, self._root)

    def _check_usable(self) -> None:
        if self._closed:
            raise UsageError(f"The download of {self.manifest.name!r} was closed; open it again.")

    def _close_files(self, sync: bool) -> None:
        with self._fd_lock:
            fds, self._fds = self._fds, {}
        try:
            if sync:
                _sync_all(list(fds.values()))
        finally:
            for fd in fds.values():
                os.close(fd)


# ---------------------------------------------------------------------- sharing, blocking


@dataclass(frozen=True, slots=True)
class _Found:
    source: Path
    parts: tuple[str, ...]
    size: int


@dataclass(frozen=True, slots=True)
class _Hashed:
    source: Path
    parts: tuple[str, ...]
    size: int
    mtime_ns: int
    chunks: tuple[str, ...]


class _ShortRead(Exception):
    """A file ended before the bytes it was expected to hold."""


def _survey(path: Path) -> tuple[str, bool, list[_Found], list[Skipped]]:
    """Name, whether a folder, the files to share (in path order), and what was left out."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        raise UsageError(f"{path} cannot be shared: {_reason(exc)}.") from exc
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{path} is a symbolic link: share the file or folder it points to.")
    name = unicodedata.normalize("NFC", path.name)
    problem = name_problem(name) if name else "it has no name"
    if problem is not None:
        raise UsageError(f"{path} cannot be shared: {problem}. Rename it, then share it again.")
    if stat.S_ISREG(info.st_mode):
        return name, False, [_Found(path, (name,), info.st_size)], []
    if not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{path} is neither a file nor a folder, so it cannot be shared.")
    found: list[_Found] = []
    skipped: list[Skipped] = []
    _walk(path, (), found, skipped, PortablePaths())
    return name, True, found, skipped


def _walk(
    folder: Path,
    prefix: tuple[str, ...],
    found: list[_Found],
    skipped: list[Skipped],
    taken: PortablePaths,
) -> None:
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError as exc:
        skipped.append(Skipped(_shown(prefix), f"the folder cannot be read: {_reason(exc)}"))
        return
    # Sorted by normalised name, so the manifest lists files in path order on every system.
    named = sorted(((unicodedata.normalize("NFC", e.name), e) for e in entries), key=_first)
    for name, entry in named:
        parts = (*prefix, name)
        try:
            if _is_link(entry):
                skipped.append(Skipped(_shown(parts), "a symbolic link (never followed)"))
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file(follow_symlinks=False)
            size = entry.stat(follow_symlinks=False).st_size if is_file else 0
        except OSError as exc:
            skipped.append(Skipped(_shown(parts), f"cannot be read: {_reason(exc)}"))
            continue
        if not (is_dir or is_file):
            skipped.append(Skipped(_shown(parts), "not a regular file (device, pipe or socket)"))
            continue
        problem = path_problem("/".join(parts))
        if problem is not None:
            skipped.append(Skipped(_shown(parts), problem))
            continue
        if is_dir:
            _walk(Path(entry.path), parts, found, skipped, taken)
            continue
        clash = taken.add(parts)
        if clash is not None:
            skipped.append(Skipped(_shown(parts), clash))
            continue
        found.append(_Found(Path(entry.path), parts, size))


def _is_link(entry: os.DirEntry[str]) -> bool:
    if entry.is_symlink():
        return True
    # Windows junctions and other reparse points lead elsewhere too, though not "symlinks".
    attributes = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_REPARSE_POINT", 0))


def _first(item: tuple[str, os.DirEntry[str]]) -> str:
    return item[0]


def _check_share_size(path: Path, found: list[_Found]) -> None:
    # Checked before hashing, so nobody waits an hour to learn the folder is too big.
    if len(found) > limits.MAX_FILES_PER_MANIFEST:
        raise UsageError(
            f"{path} has {len(found):,} files; at most {limits.MAX_FILES_PER_MANIFEST:,} can be "
            "shared together. Share its folders one by one."
        )
    chunks = sum(chunk_count_for(f.size) for f in found)
    if chunks > limits.MAX_CHUNKS_PER_MANIFEST:
        largest = limits.MAX_CHUNKS_PER_MANIFEST * CHUNK_SIZE
        raise UsageError(
            f"{path} is too large to share in one piece (at most {_size_text(largest)}); "
            "share its parts one by one."
        )


async def _hash_file(entry: _Found, advance: Callable[[int], None]) -> _Hashed | Skipped:
    shown = _shown(entry.parts)
    try:
        identity = await asyncio.to_thread(_identity_of, entry.source)
    except OSError as exc:
        return Skipped(shown, f"cannot be read: {_reason(exc)}")
    if identity is None:
        return Skipped(shown, "was replaced by something that is not a file")
    size = identity[2]
    pieces = [
        (start, min(size, start + HASH_PIECE_BYTES)) for start in range(0, size, HASH_PIECE_BYTES)
    ]
    digests: list[str] = []
    # Up to HASH_WORKERS pieces in flight, taken back in order. Each piece opens the file
    # for itself, so threads share nothing and one left running after an error is harmless.
    in_flight: deque[tuple[int, asyncio.Task[list[str]]]] = deque()
    try:
        for start, end in pieces:
            work = asyncio.to_thread(_hash_range, entry.source, identity, start, end)
            in_flight.append((end - start, asyncio.ensure_future(work)))
            if len(in_flight) >= HASH_WORKERS:
                length, task = in_flight.popleft()
                digests += await task
                advance(length)
        while in_flight:
            length, task = in_flight.popleft()
            digests += await task
            advance(length)
    except _Changed:
        return Skipped(shown, "changed while it was being read; share it again once it is done")
    except OSError as exc:
        return Skipped(shown, f"could not be read to the end: {_reason(exc)}")
    finally:
        for _, task in in_flight:
            task.cancel()
        await asyncio.gather(*(task for _, task in in_flight), return_exceptions=True)
    return _Hashed(entry.source, entry.parts, size, identity[3], tuple(digests))


#: What says a file is still the one we began hashing: device, inode, size, modification time.
_Identity = tuple[int, int, int, int]


class _Changed(Exception):
    """The file changed (or ended early) while it was being read."""


def _identity_of(path: Path) -> _Identity | None:
    fd = os.open(path, _READ)
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _hash_range(path: Path, identity: _Identity, offset: int, end: int) -> list[str]:
    fd = os.open(path, _READ)
    try:
        _require_identity(fd, identity)
        digests = []
        while offset < end:
            length = min(CHUNK_SIZE, end - offset)
            try:
                data = _pread_exact(fd, length, offset)
            except _ShortRead:
                raise _Changed from None
            digests.append(BLAKE3.hash_of(data))
            offset += length
        _require_identity(fd, identity)
        return digests
    finally:
        os.close(fd)


def _require_identity(fd: int, identity: _Identity) -> None:
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns) != identity:
        raise _Changed


def _encode_own(path: Path, manifest: Manifest) -> tuple[bytes, bytes]:
    """The bytes and digest of a manifest we made; ``UsageError`` if peers would refuse it."""
    try:
        check_manifest(manifest)
    except RemoteProtocolError as exc:
        raise UsageError(f"{path} cannot be shared as it is: {exc}.") from exc
    body = encode_manifest(manifest)
    if len(body) > limits.MAX_MANIFEST_BYTES:
        raise UsageError(
            f"{path} has too many files or too long names to be described in one manifest; "
            "share its folders one by one."
        )
    return body, BLAKE3.digest(body)


def _nothing_to_share(path: Path, skipped: list[Skipped]) -> str:
    if not skipped:
        return f"{path} is an empty folder: there is nothing to share."
    first = skipped[0]
    more = f" (and {len(skipped) - 1} more left out)" if len(skipped) > 1 else ""
    subject = f"{first.path}: " if first.path else ""
    return f"Nothing in {path} can be shared. {subject}{first.reason}{more}."


# ---------------------------------------------------------------------- serving, blocking


@dataclass(frozen=True, slots=True)
class _Source:
    manifest_hash: str
    file_index: int
    offset: int
    length: int
    path: str
    size: int
    mtime_ns: int


class _Drop(Enum):
    """How much of what was recorded is wrong: this one chunk, or the whole file."""

    CHUNK = "the bytes no longer match"
    FILE = "the file is gone"


def _read_source(source: _Source, hash_hex: str) -> bytes | _Drop:
    try:
        fd = os.open(source.path, _READ)
    except OSError as exc:
        return _Drop.FILE if exc.errno in _GONE else _Drop.CHUNK
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return _Drop.FILE
        if info.st_size < source.offset + source.length:
            return _Drop.CHUNK
        # A changed size or time is no verdict: the hash below decides, every time.
        data = _pread_exact(fd, source.length, source.offset)
    except (OSError, _ShortRead):
        return _Drop.CHUNK
    finally:
        os.close(fd)
    if BLAKE3.hash_of(data) != hash_hex:
        return _Drop.CHUNK
    return data


# ---------------------------------------------------------------------- downloads, blocking


class _Recovered(Enum):
    DONE = "moved into place"
    REDO = "still in the partial folder"
    LOST = "nowhere"


def _create_partial(root: Path, manifest: Manifest) -> None:
    """Sparse files at their final sizes under ``root``, appearing all at once."""
    staging = root.with_name(root.name + _CREATING)
    _remove_tree(staging)
    staging.mkdir(mode=0o700)
    inside = staging.resolve()
    for index, entry in enumerate(manifest.files):
        target = staging.joinpath(*manifest.destination_parts(index))
        target.parent.mkdir(parents=True, exist_ok=True)
        # The names were validated; this makes sure of it once more before anything is made.
        if not target.parent.resolve().is_relative_to(inside):
            raise RemoteProtocolError(f"the path {entry.path!r} leads outside the download")
        _make_sparse(target, entry.size)
    # Not flushed file by file: empty sparse files hold nothing to lose, and after a crash
    # ``_repair_partial`` remakes any that did not reach the disk.
    _remove_tree(root)  # left by a crash before its row was written
    os.rename(staging, root)
    fsync_directory(root.parent)


def _make_sparse(path: Path, size: int) -> None:
    flags = os.O_CREAT | os.O_EXCL | _WRITE
    fd = os.open(path, flags, 0o600)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def _repair_partial(root: Path, manifest: Manifest) -> set[int]:
    """Make every partial file exist at its size again; the indices of files remade."""
    lost: set[int] = set()
    if not root.is_dir():
        _create_partial(root, manifest)
        return set(range(len(manifest.files)))
    for index, entry in enumerate(manifest.files):
        path = root.joinpath(*manifest.destination_parts(index))
        try:
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode) and info.st_size == entry.size:
                continue
            _remove_tree(path)
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        _make_sparse(path, entry.size)
        lost.add(index)
    return lost


async def _scan_partial(
    root: Path, manifest: Manifest, places: list[ChunkPlace], done: set[int]
) -> list[int]:
    """Chunks not recorded whose range in the partial file already holds the right bytes."""
    found: list[int] = []
    by_file: dict[int, list[ChunkPlace]] = {}
    for place in places:
        if place.index not in done:
            by_file.setdefault(place.file_index, []).append(place)
    for file_index, todo in by_file.items():
        path = root.joinpath(*manifest.destination_parts(file_index))
        for start in range(0, len(todo), 16):
            found += await asyncio.to_thread(_verified_ranges, path, todo[start : start + 16])
    return found


def _verified_ranges(path: Path, places: list[ChunkPlace]) -> list[int]:
    good = []
    fd = os.open(path, _WRITE)  # for writing only so that it can be flushed on every system
    try:
        for place in places:
            if not _has_data(fd, place.offset, place.length):
                continue  # a hole of the sparse file: never written
            try:
                data = _pread_exact(fd, place.length, place.offset)
            except _ShortRead:
                continue
            if BLAKE3.hash_of(data) == place.hash:
                good.append(place.index)
        if good:
            # Found in the page cache after a crash of the process: on disk before recorded.
            os.fsync(fd)
    finally:
        os.close(fd)
    return good


def _has_data(fd: int, offset: int, length: int) -> bool:
    seek_data = getattr(os, "SEEK_DATA", None)
    if seek_data is None:
        return True
    try:
        return os.lseek(fd, offset, seek_data) < offset + length
    except OSError as exc:
        # ENXIO: nothing but holes from here on; anything else: no hole support, read it.
        return exc.errno != errno.ENXIO


def _recover_finish(root: Path, manifest: Manifest, row: _DownloadRow) -> _Recovered:
    """After a crash while moving a download into place: where are the files now?"""
    source = root / manifest.name
    final = Path(row.final_path) if row.final_path else None
    _remove_tree(_scratch_path(Path(row.target_dir), row.manifest_hash))
    there = final is not None and os.path.lexists(final)
    if not os.path.lexists(source):
        return _Recovered.DONE if there else _Recovered.LOST
    if final is not None and there:
        if not manifest.folder and os.path.samefile(source, final):
            os.unlink(source)  # the link was made, the unlink not yet
            fsync_directory(source.parent)
            return _Recovered.DONE
        if manifest.folder and final.is_dir() and not any(final.iterdir()):
            os.rmdir(final)  # the name was reserved, the folder not yet moved
    return _Recovered.REDO


def _sweep_partial(partial: Path, known: set[str]) -> None:
    """Delete what the partial folder holds for no recorded download (left by crashes)."""
    if not partial.is_dir():
        return
    for entry in partial.iterdir():
        name = entry.name
        ours = _HEX_DIGEST.fullmatch(name.removesuffix(_CREATING))
        if ours and (name.endswith(_CREATING) or name not in known):
            log.info("removing leftover partial download %s", entry)
            _remove_tree(entry)


def _scratch_path(target_dir: Path, manifest_hash: str) -> Path:
    return target_dir / f".natakanu-{manifest_hash[:16]}.part"


def _free_names(name: str, folder: bool) -> Iterator[str]:
    """``name``, then "name (2)", "name (3)"... ("film (2).mp4" for a file)."""
    yield name
    suffix = ""
    if not folder:
        lower = name.lower()
        compound = [s for s in _COMPOUND_SUFFIXES if lower.endswith(s) and len(name) > len(s)]
        suffix = name[-len(compound[0]) :] if compound else Path(name).suffix
    stem = name[: len(name) - len(suffix)]
    for n in range(2, 10_000):
        tail = f" ({n}){suffix}"
        room = limits.MAX_NAME_BYTES - len(tail.encode("utf-8"))
        while len(stem.encode("utf-8")) > room:
            stem = stem[:-1]
        yield stem + tail


def _check_inside(destination: Path, target_dir: Path) -> None:
    # The name comes from a validated manifest; this makes sure of it once more.
    problem = name_problem(destination.name)
    if problem is not None or destination.parent.resolve() != target_dir.resolve():
        raise RemoteProtocolError(f"{destination.name!r} would land outside {target_dir}")


def _move_no_replace(source: Path, destination: Path, folder: bool, scratch: Path) -> None:
    """Move ``source`` to ``destination``, which must not exist; ``FileExistsError`` if it does."""
    try:
        _rename_no_replace(source, destination, folder)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        # Another disk: copy next to the destination, flush, then move it there in one step.
        _remove_tree(scratch)
        try:
            if folder:
                shutil.copytree(source, scratch, symlinks=True)
            else:
                shutil.copyfile(source, scratch, follow_symlinks=False)
            _sync_tree(scratch)
        except OSError:
            # A half copy (the disk filled up, say) would hold the very space the person is
            # asked to free; the download stays whole in the partial folder.
            _remove_tree(scratch)
            raise
        _rename_no_replace(scratch, destination, folder)


def _rename_no_replace(source: Path, destination: Path, folder: bool) -> None:
    if folder:
        os.mkdir(destination)  # reserves the name, or FileExistsError
        try:
            if os.name == "nt":
                os.rmdir(destination)  # Windows will not rename onto a folder
            os.rename(source, destination)  # POSIX: replaces our empty folder in one step
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(destination)
            raise
        return
    try:
        os.link(source, destination)  # never replaces: FileExistsError if taken
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            raise
        # No hard links here (FAT, some network shares): check, then rename.
        if os.path.lexists(destination):
            raise FileExistsError(errno.EEXIST, "already exists", str(destination)) from exc
        os.rename(source, destination)
    else:
        with contextlib.suppress(OSError):
            os.unlink(source)  # the partial folder is removed afterwards anyway


def _final_files(manifest: Manifest, final: Path) -> list[tuple[str, int, int]]:
    files = []
    for index in range(len(manifest.files)):
        path = final.joinpath(*manifest.destination_parts(index)[1:])
        info = os.lstat(path)
        files.append((str(path), info.st_size, info.st_mtime_ns))
    return files


# ---------------------------------------------------------------------- files, low level


def _pread_exact(fd: int, length: int, offset: int) -> bytes:
    data = _pread(fd, length, offset)
    if len(data) == length:
        return data
    pieces = [data]
    got = len(data)
    while got < length:
        more = _pread(fd, length - got, offset + got)
        if not more:
            raise _ShortRead
        pieces.append(more)
        got += len(more)
    return b"".join(pieces)


def _pread(fd: int, length: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, length, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows; every reader here has a descriptor of its own
    return os.read(fd, length)


#: Chunks are written in pieces of this size. Linux caches a large write in large pages,
#: which must be whole free blocks of memory; on a virtual machine that hands free blocks back
#: to its host, each one is fetched back on first use. A 1 GiB fetch there took 4.5 s of
#: kernel time in 4 MiB writes, and about 0.8 s in 64 KiB pieces. Elsewhere the size of the
#: pieces makes no measurable difference.
WRITE_PIECE_BYTES = 64 * 1024


def _pwrite_all(fd: int, data: bytes, offset: int, lock: threading.Lock) -> None:
    view = memoryview(data)
    while view:
        piece = view[:WRITE_PIECE_BYTES]
        if hasattr(os, "pwrite"):
            written = os.pwrite(fd, piece, offset)
        else:
            with lock:  # Windows: seek and write must not interleave between threads
                os.lseek(fd, offset, os.SEEK_SET)
                written = os.write(fd, piece)
        view = view[written:]
        offset += written


def _sync_all(fds: list[int]) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    for fd in fds:
        sync(fd)


def _sync_tree(root: Path, files: bool = True) -> None:
    """Flush the folders under ``root`` bottom up, and with ``files`` every file first."""
    if not root.is_dir():
        if files:
            _fsync_file(root)
        fsync_directory(root.parent)
        return
    for folder, _, names in os.walk(root, topdown=False):
        if files:
            for name in names:
                _fsync_file(Path(folder, name))
        fsync_directory(Path(folder))
    fsync_directory(root.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, _WRITE)  # Windows flushes only what is open for writing
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


# ---------------------------------------------------------------------- words


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _shown(parts: tuple[str, ...]) -> str:
    # For showing: a name that is not valid Unicode gets replacement marks, not a crash.
    return "/".join(parts).encode("utf-8", "replace").decode("utf-8")


def _size_text(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{count:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _require_utf8(path: Path) -> None:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"The path {_shown((str(path),))} has a name that is not valid text; rename it."
        ) from None


def _require_digest(hash_hex: str) -> None:
    if not _HEX_DIGEST.fullmatch(hash_hex):
        raise UsageError(f"{hash_hex!r} is not a manifest hash (64 lowercase hex digits).")


# ---------------------------------------------------------------------- SQL (database thread)


@dataclass(frozen=True, slots=True)
class _DownloadRow:
    manifest_hash: str
    target_dir: str
    state: str
    final_path: str | None


def _record_share(
    conn: sqlite3.Connection,
    circle_id: str,
    manifest_hash: str,
    body: bytes,
    source: str,
    files: list[tuple[str, int, int]],
    places: list[ChunkPlace],
    now: float,
) -> None:
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO manifests (hash, body, added_at) VALUES (?, ?, ?)",
            (manifest_hash, body, now),
        )
        # Shared again from elsewhere: the newest location replaces the old one.
        conn.execute(
            "INSERT OR REPLACE INTO shares (manifest_hash, source, shared_at) VALUES (?, ?, ?)",
            (manifest_hash, source, now),
        )
        _record_sources(conn, manifest_hash, files, places)
        _provide(conn, circle_id, manifest_hash, places)


def _record_sources(
    conn: sqlite3.Connection,
    manifest_hash: str,
    files: list[tuple[str, int, int]],
    places: list[ChunkPlace],
) -> None:
    conn.execute("DELETE FROM share_files WHERE manifest_hash = ?", (manifest_hash,))
    conn.executemany(
        "INSERT INTO share_files (manifest_hash, file_index, path, size, mtime_ns) "
        "VALUES (?, ?, ?, ?, ?)",
        [(manifest_hash, i, path, size, mtime) for i, (path, size, mtime) in enumerate(files)],
    )
    conn.execute("DELETE FROM chunk_sources WHERE manifest_hash = ?", (manifest_hash,))
    conn.executemany(
        "INSERT INTO chunk_sources (hash, manifest_hash, file_index, offset, length) "
        "VALUES (?, ?, ?, ?, ?)",
        [(p.hash, manifest_hash, p.file_index, p.offset, p.length) for p in places],
    )


def _provide(
    conn: sqlite3.Connection, circle_id: str, manifest_hash: str, places: list[ChunkPlace]
) -> None:
    """Offer a manifest and its chunks to one circle.

    The manifest first, then its chunks; hashes already in that circle's log keep their place,
    so peers that have seen them are not told again.
    """
    conn.executemany(
        "INSERT OR IGNORE INTO provided_in (circle_id, hash) VALUES (?, ?)",
        [(circle_id, h) for h in (manifest_hash, *(p.hash for p in places))],
    )


def _chunk_sources(conn: sqlite3.Connection, hash_hex: str) -> list[_Source]:
    rows = conn.execute(
        "SELECT c.manifest_hash, c.file_index, c.offset, c.length, f.path, f.size, f.mtime_ns "
        "FROM chunk_sources AS c JOIN share_files AS f "
        "ON f.manifest_hash = c.manifest_hash AND f.file_index = c.file_index "
        "WHERE c.hash = ?",
        (hash_hex,),
    ).fetchall()
    return [_Source(*row) for row in rows]


def _drop_source(conn: sqlite3.Connection, hash_hex: str, source: _Source, drop: _Drop) -> None:
    with conn:
        if drop is _Drop.FILE:
            conn.execute(
                "DELETE FROM chunk_sources WHERE manifest_hash = ? AND file_index = ?",
                (source.manifest_hash, source.file_index),
            )
        else:
            conn.execute(
                "DELETE FROM chunk_sources "
                "WHERE hash = ? AND manifest_hash = ? AND file_index = ? AND offset = ?",
                (hash_hex, source.manifest_hash, source.file_index, source.offset),
            )


def _has_chunk(conn: sqlite3.Connection, hash_hex: str) -> bool:
    row = conn.execute("SELECT 1 FROM chunk_sources WHERE hash = ? LIMIT 1", (hash_hex,))
    return row.fetchone() is not None


def _manifest_body(conn: sqlite3.Connection, hash_hex: str) -> bytes | None:
    row = conn.execute("SELECT body FROM manifests WHERE hash = ?", (hash_hex,)).fetchone()
    return None if row is None else bytes(row[0])


def _store_manifest(conn: sqlite3.Connection, hash_hex: str, body: bytes, now: float) -> None:
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO manifests (hash, body, added_at) VALUES (?, ?, ?)",
            (hash_hex, body, now),
        )


def _provided_since(
    conn: sqlite3.Connection, circle_id: str, seq: int, limit: int
) -> list[tuple[int, str]]:
    rows = conn.execute(
        "SELECT seq, hash FROM provided_in WHERE circle_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        (circle_id, seq, limit),
    ).fetchall()
    return [(int(s), str(h)) for s, h in rows]


def _is_provided(conn: sqlite3.Connection, circle_id: str, hash_hex: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM provided_in WHERE circle_id = ? AND hash = ?", (circle_id, hash_hex)
    ).fetchone()
    return row is not None


def _adopt_unowned(conn: sqlite3.Connection, circle_id: str) -> int:
    with conn:
        return conn.execute(
            "UPDATE OR IGNORE provided_in SET circle_id = ? WHERE circle_id = ''", (circle_id,)
        ).rowcount


def _download_row(conn: sqlite3.Connection, manifest_hash: str) -> _DownloadRow | None:
    row = conn.execute(
        "SELECT manifest_hash, target_dir, state, final_path FROM downloads "
        "WHERE manifest_hash = ?",
        (manifest_hash,),
    ).fetchone()
    return None if row is None else _DownloadRow(*row)


def _unfinished_downloads(conn: sqlite3.Connection) -> list[_DownloadRow]:
    rows = conn.execute(
        "SELECT manifest_hash, target_dir, state, final_path FROM downloads "
        "WHERE state IN (?, ?, ?) ORDER BY started_at",
        (ACTIVE, PAUSED, FINISHING),
    ).fetchall()
    return [_DownloadRow(*row) for row in rows]


def _insert_download(
    conn: sqlite3.Connection, manifest_hash: str, target_dir: str, now: float
) -> None:
    with conn:
        conn.execute("DELETE FROM download_chunks WHERE manifest_hash = ?", (manifest_hash,))
        conn.execute(
            "INSERT OR REPLACE INTO downloads (manifest_hash, target_dir, state, final_path, "
            "error, started_at, updated_at) VALUES (?, ?, ?, NULL, NULL, ?, ?)",
            (manifest_hash, target_dir, ACTIVE, now, now),
        )


def _set_state(
    conn: sqlite3.Connection,
    manifest_hash: str,
    state: str,
    error: str | None,
    final_path: str | None,
) -> None:
    with conn:
        conn.execute(
            "UPDATE downloads SET state = ?, error = ?, final_path = ?, updated_at = ? "
            "WHERE manifest_hash = ?",
            (state, error, final_path, time.time(), manifest_hash),
        )


def _recorded_chunks(conn: sqlite3.Connection, manifest_hash: str) -> list[int]:
    rows = conn.execute(
        "SELECT chunk_index FROM download_chunks WHERE manifest_hash = ?", (manifest_hash,)
    ).fetchall()
    return [int(r[0]) for r in rows]


def _record_chunks(
    conn: sqlite3.Connection, manifest_hash: str, indices: list[int], now: float
) -> None:
    with conn:
        conn.executemany(
            "INSERT OR IGNORE INTO download_chunks (manifest_hash, chunk_index) VALUES (?, ?)",
            [(manifest_hash, i) for i in indices],
        )
        conn.execute(
            "UPDATE downloads SET updated_at = ? WHERE manifest_hash = ?", (now, manifest_hash)
        )


def _forget_chunks(conn: sqlite3.Connection, manifest_hash: str, indices: list[int]) -> None:
    with conn:
        conn.executemany(
            "DELETE FROM download_chunks WHERE manifest_hash = ? AND chunk_index = ?",
            [(manifest_hash, i) for i in indices],
        )


def _local_copy(conn: sqlite3.Connection, manifest_hash: str) -> Path | None:
    row = conn.execute(
        "SELECT final_path FROM downloads WHERE manifest_hash = ? AND state = ?",
        (manifest_hash, COMPLETE),
    ).fetchone()
    if row is None or row[0] is None:
        row = conn.execute(
            "SELECT source FROM shares WHERE manifest_hash = ?", (manifest_hash,)
        ).fetchone()
    return None if row is None or row[0] is None else Path(row[0])


def _record_complete(
    conn: sqlite3.Connection,
    circle_id: str,
    manifest_hash: str,
    final_path: str,
    files: list[tuple[str, int, int]],
    places: list[ChunkPlace],
    now: float,
) -> None:
    with conn:
        conn.execute(
            "UPDATE downloads SET state = ?, final_path = ?, error = NULL, updated_at = ? "
            "WHERE manifest_hash = ?",
            (COMPLETE, final_path, now, manifest_hash),
        )
        conn.execute("DELETE FROM download_chunks WHERE manifest_hash = ?", (manifest_hash,))
        if not files:
            return
        # Served from the finished copy, unless the same content is already shared from
        # somewhere the user chose.
        added = conn.execute(
            "INSERT OR IGNORE INTO shares (manifest_hash, source, shared_at) VALUES (?, ?, ?)",
            (manifest_hash, final_path, now),
        )
        if added.rowcount == 1:
            _record_sources(conn, manifest_hash, files, places)
        _provide(conn, circle_id, manifest_hash, places)


def _delete_download(conn: sqlite3.Connection, manifest_hash: str) -> None:
    with conn:
        conn.execute("DELETE FROM download_chunks WHERE manifest_hash = ?", (manifest_hash,))
        conn.execute("DELETE FROM downloads WHERE manifest_hash = ?", (manifest_hash,))
