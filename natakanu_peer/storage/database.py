"""The node's SQLite state: schema, migrations, crash safety, and one thread to run it on.

One file (``state.db``) in WAL mode holds the gossip operations, peers and their addresses,
sync progress, settings, manifests and the index of shared and downloading files. Every
change is a transaction; a crash at any instant leaves the old state or the new one.

At open, the file is checked (``PRAGMA quick_check``; the full ``integrity_check`` after an
unclean shutdown). A file that cannot be read or fails the check is moved aside, never
deleted, and a fresh database is started; ``Database.notice`` then says exactly what
happened and where the old file is, for the user to be told.

All access goes through one worker thread (``call``), so SQLite never blocks the event loop
and never sees two writers. This module must never hold protocol logic.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

# Each migration takes the schema from version i to i + 1, atomically.
MIGRATIONS: list[str] = [
    # 0 -> 1
    """
    CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);

    -- Key gossip: every live operation, and the operation numbers covered, per topic.
    CREATE TABLE operations (
        topic TEXT NOT NULL, author BLOB NOT NULL, seq INTEGER NOT NULL,
        kind INTEGER NOT NULL, key BLOB NOT NULL, signature BLOB NOT NULL,
        PRIMARY KEY (topic, author, seq)
    ) WITHOUT ROWID;
    CREATE TABLE coverage (
        topic TEXT NOT NULL, author BLOB NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,
        PRIMARY KEY (topic, author, start)
    ) WITHOUT ROWID;

    -- Peers we have met, and addresses to dial again.
    CREATE TABLE peers (
        peer_id TEXT PRIMARY KEY, display_name TEXT, address TEXT,
        first_seen REAL NOT NULL, last_seen REAL NOT NULL
    );
    CREATE TABLE addresses (
        address TEXT PRIMARY KEY, peer_id TEXT, source TEXT NOT NULL,
        last_ok REAL, last_failed REAL
    );
    -- Hashes each peer said it provides (to know whom to ask), kept across restarts.
    CREATE TABLE peer_has (
        peer_id TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (peer_id, hash)
    ) WITHOUT ROWID;
    -- How far we got with each peer on each stream (hash-exchange since/seen).
    CREATE TABLE sync_progress (
        peer_id TEXT NOT NULL, stream TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (peer_id, stream)
    ) WITHOUT ROWID;

    -- Content: manifests (ours and fetched), what we provide, in the order we provide it.
    CREATE TABLE manifests (hash TEXT PRIMARY KEY, body BLOB NOT NULL, added_at REAL NOT NULL);
    CREATE TABLE provided (seq INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL UNIQUE);
    -- Shared files, referenced in place (never copied).
    CREATE TABLE shares (
        manifest_hash TEXT PRIMARY KEY, source TEXT NOT NULL, shared_at REAL NOT NULL
    );
    CREATE TABLE share_files (
        manifest_hash TEXT NOT NULL, file_index INTEGER NOT NULL, path TEXT NOT NULL,
        size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
        PRIMARY KEY (manifest_hash, file_index)
    );
    CREATE TABLE chunk_sources (
        hash TEXT NOT NULL, manifest_hash TEXT NOT NULL, file_index INTEGER NOT NULL,
        offset INTEGER NOT NULL, length INTEGER NOT NULL,
        PRIMARY KEY (hash, manifest_hash, file_index, offset)
    ) WITHOUT ROWID;
    -- Downloads and the chunks already verified and written into their partial files.
    CREATE TABLE downloads (
        manifest_hash TEXT PRIMARY KEY, target_dir TEXT NOT NULL, state TEXT NOT NULL,
        final_path TEXT, error TEXT, started_at REAL NOT NULL, updated_at REAL NOT NULL
    );
    CREATE TABLE download_chunks (
        manifest_hash TEXT NOT NULL, chunk_index INTEGER NOT NULL,
        PRIMARY KEY (manifest_hash, chunk_index)
    ) WITHOUT ROWID;
    """,
    # 1 -> 2
    """
    -- Circles this peer belongs to; one is active. The data folder is readable by its owner
    -- only, which keeps the secrets as private as the identity key.
    CREATE TABLE circles (
        circle_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret BLOB NOT NULL,
        created_at REAL NOT NULL, active INTEGER NOT NULL DEFAULT 0
    );
    -- The provide log becomes one per circle: what is offered to the members of a circle is
    -- what was shared or fetched in it, never what belongs to another. Rows from before
    -- circles existed (circle '') go to the first circle made.
    CREATE TABLE provided_in (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, circle_id TEXT NOT NULL, hash TEXT NOT NULL,
        UNIQUE (circle_id, hash)
    );
    INSERT INTO provided_in (seq, circle_id, hash) SELECT seq, '', hash FROM provided;
    DROP TABLE provided;
    """,
    # 2 -> 3
    """
    -- Rules a peer broke lately, and the peers refused for a while because of them.
    CREATE TABLE peer_strikes (peer_id TEXT NOT NULL, at REAL NOT NULL, reason TEXT NOT NULL);
    CREATE INDEX peer_strikes_by_peer ON peer_strikes (peer_id, at);
    CREATE TABLE peer_refusals (
        peer_id TEXT PRIMARY KEY, until REAL NOT NULL, reason TEXT NOT NULL
    );
    """,
    # 3 -> 4
    """
    -- A circle's secret changes when a member is removed (a new epoch). Every secret it had
    -- is kept, so a member who missed a change can prove itself once more and catch up, with
    -- the signed update that brought it (none for a circle's first secret).
    ALTER TABLE circles ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE circle_epochs (
        circle_id TEXT NOT NULL, epoch INTEGER NOT NULL, secret BLOB NOT NULL, signed BLOB,
        PRIMARY KEY (circle_id, epoch)
    ) WITHOUT ROWID;
    INSERT INTO circle_epochs (circle_id, epoch, secret) SELECT circle_id, 0, secret FROM circles;
    -- Members removed from a circle: never linked or served in it again.
    CREATE TABLE circle_removed (
        circle_id TEXT NOT NULL, peer_id TEXT NOT NULL, at REAL NOT NULL,
        PRIMARY KEY (circle_id, peer_id)
    ) WITHOUT ROWID;
    -- Peers met as members of each circle (peers are shown per circle).
    CREATE TABLE circle_members (
        circle_id TEXT NOT NULL, peer_id TEXT NOT NULL, first_seen REAL NOT NULL,
        PRIMARY KEY (circle_id, peer_id)
    ) WITHOUT ROWID;
    """,
    # 4 -> 5
    """
    -- What this peer notes about each key of a circle for its own eyes: when it first saw
    -- it, and whether its owner chose to hide it here (others still have it).
    CREATE TABLE key_notes (
        topic TEXT NOT NULL, key BLOB NOT NULL, first_seen REAL NOT NULL,
        hidden INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (topic, key)
    ) WITHOUT ROWID;
    -- Storing an operation looks up the author's latest one for the same key: without this
    -- index that was a scan of all the author's operations, for each one stored.
    CREATE INDEX operations_by_key ON operations (topic, author, key);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class DatabaseError(Exception):
    """The database could not be opened even fresh (disk full, permissions...)."""


class Database:
    """The node's state file, used from one dedicated thread."""

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection,
        notice: str | None,
        previous_clean: bool = True,
    ) -> None:
        self.path = path
        self._conn = connection
        #: Whether the last run closed this file cleanly (False after a crash or a kill):
        #: what was written beside the database may then need checking again.
        self.previous_clean = previous_clean
        #: What happened at open that the user must be told (a file moved aside), if anything.
        self.notice = notice
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path) -> Database:
        """Open (creating or migrating) the database; set a bad file aside and start anew."""
        notice = None
        try:
            connection, clean = _connect_checked(path)
        except sqlite3.DatabaseError as exc:
            kept = _set_aside(path)
            notice = (
                f"The state file {path} could not be read ({exc}). It was kept, untouched, "
                f"as {kept}, and a new one was started. Your identity and your files are "
                "safe; known keys and peers will be learned again from the network, and "
                "files you shared before must be shared again."
            )
            log.warning("%s", notice)
            try:
                connection, clean = _connect_checked(path)
                clean = False
            except sqlite3.DatabaseError as again:
                raise DatabaseError(f"cannot create {path}: {again}") from again
        return cls(path, connection, notice, clean)

    def close(self) -> None:
        """Record a clean shutdown and close."""

        def finish() -> None:
            with self._conn:
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('clean_shutdown', '1')")
            self._conn.close()

        self._executor.submit(finish).result()
        self._executor.shutdown(wait=True)

    # ------------------------------------------------------------------ running work

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` on the database thread, without blocking the loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, self._conn, *args)

    def call_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(connection, *args)`` on the database thread and wait (for start-up)."""
        return self._executor.submit(fn, self._conn, *args).result()


def _connect_checked(path: Path) -> tuple[sqlite3.Connection, bool]:
    """An open, checked, migrated connection, and whether the last run closed it cleanly."""
    existed = path.exists() and path.stat().st_size > 0
    clean = True
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a change we acknowledged survives even a power cut, not only a crash of the
        # process (NORMAL would stay consistent but could lose the last commits). Writers
        # that commit often (download progress) batch their commits instead.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.isolation_level = "DEFERRED"  # transactions through ``with conn:``
        if existed:
            clean = _was_clean(conn)
            check = "integrity_check" if not clean else "quick_check"
            rows = conn.execute(f"PRAGMA {check}").fetchall()
            if rows != [("ok",)]:
                problems = "; ".join(str(r[0]) for r in rows[:3])
                raise sqlite3.DatabaseError(f"{check} failed: {problems}")
        _migrate(conn)
        with conn:
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('clean_shutdown', '0')")
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn, clean


def _was_clean(conn: sqlite3.Connection) -> bool:
    try:
        row = conn.execute("SELECT value FROM meta WHERE name = 'clean_shutdown'").fetchone()
    except sqlite3.OperationalError:
        return False  # no meta table yet (a file from before the schema existed)
    return row is not None and row[0] == "1"


def _migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(
            f"the state file is from a newer version (schema {version}, this one knows "
            f"{SCHEMA_VERSION})"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        # executescript would commit on its own; run the statements inside one transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[target - 1]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.info("state file migrated to schema %d", target)


def _statements(script: str) -> list[str]:
    lines = [line for line in script.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _set_aside(path: Path) -> Path:
    """Rename the database (and its WAL files) out of the way; return the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.name}.unreadable-{stamp}")
    n = 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{path.name}.unreadable-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(path) + suffix)
        if source.exists():
            source.rename(Path(str(kept) + suffix))
    return kept
