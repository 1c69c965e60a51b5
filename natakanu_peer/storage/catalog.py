"""What this peer knows about the keys of a circle, for showing them: rows of the state file.

When each key was first seen here, which keys its owner hid here, and what the content store
holds for the shared items among them (manifest, own share, download and its state), read in
one query per batch so that a list of 100,000 keys never costs 100,000 queries.

Plain functions of a SQLite connection, run on the database thread; they must never decide
what a key means (the node does) and never touch the network.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

#: SQLite allows this many ``?`` in one statement on every build we support.
_BATCH = 500


def note_keys(conn: sqlite3.Connection, topic: str, keys: list[bytes], now: float) -> None:
    """Remember when ``keys`` were first seen here (keys seen before keep their time)."""
    with conn:
        conn.executemany(
            "INSERT OR IGNORE INTO key_notes (topic, key, first_seen) VALUES (?, ?, ?)",
            [(topic, key, now) for key in keys],
        )


def key_notes(conn: sqlite3.Connection, topic: str) -> tuple[dict[bytes, float], set[bytes]]:
    """Every noted key of ``topic`` with when it was first seen; the keys hidden here."""
    first_seen: dict[bytes, float] = {}
    hidden: set[bytes] = set()
    for key, seen_at, is_hidden in conn.execute(
        "SELECT key, first_seen, hidden FROM key_notes WHERE topic = ?", (topic,)
    ):
        first_seen[bytes(key)] = float(seen_at)
        if is_hidden:
            hidden.add(bytes(key))
    return first_seen, hidden


def set_hidden(conn: sqlite3.Connection, topic: str, key: bytes, hidden: bool, now: float) -> None:
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO key_notes (topic, key, first_seen) VALUES (?, ?, ?)",
            (topic, key, now),
        )
        conn.execute(
            "UPDATE key_notes SET hidden = ? WHERE topic = ? AND key = ?",
            (int(hidden), topic, key),
        )


@dataclass(frozen=True)
class ContentFacts:
    """What the content store holds for one manifest hash."""

    body: bytes | None  # the manifest, when it is here
    received_at: float | None  # when the manifest arrived (or was made, for our shares)
    shared_from: str | None  # our own share: where the files are
    download_state: str | None  # active, paused, finishing, complete, failed
    saved_at: str | None  # a finished download: where it is


def content_facts(conn: sqlite3.Connection, hashes: Iterable[str]) -> dict[str, ContentFacts]:
    """Facts for each of ``hashes`` that the store knows anything about."""
    wanted = list(dict.fromkeys(hashes))
    bodies: dict[str, tuple[bytes, float]] = {}
    shares: dict[str, str] = {}
    downloads: dict[str, tuple[str, str | None]] = {}
    for start in range(0, len(wanted), _BATCH):
        part = wanted[start : start + _BATCH]
        marks = ",".join("?" * len(part))
        for hash_, body, added_at in conn.execute(
            f"SELECT hash, body, added_at FROM manifests WHERE hash IN ({marks})", part
        ):
            bodies[hash_] = (bytes(body), float(added_at))
        for hash_, source in conn.execute(
            f"SELECT manifest_hash, source FROM shares WHERE manifest_hash IN ({marks})", part
        ):
            shares[hash_] = source
        for hash_, state, final_path in conn.execute(
            "SELECT manifest_hash, state, final_path FROM downloads "
            f"WHERE manifest_hash IN ({marks})",
            part,
        ):
            downloads[hash_] = (state, final_path)
    facts = {}
    for hash_ in bodies.keys() | shares.keys() | downloads.keys():
        body = bodies.get(hash_)
        state, final_path = downloads.get(hash_, (None, None))
        facts[hash_] = ContentFacts(
            body=body[0] if body else None,
            received_at=body[1] if body else None,
            shared_from=shares.get(hash_),
            download_state=state,
            saved_at=final_path,
        )
    return facts


def unfinished_downloads(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(manifest hash, target folder, state) of every download not finished nor failed."""
    return [
        (str(h), str(t), str(s))
        for h, t, s in conn.execute(
            "SELECT manifest_hash, target_dir, state FROM downloads "
            "WHERE state IN ('active', 'paused', 'finishing') ORDER BY started_at"
        )
    ]


def chunks_done(conn: sqlite3.Connection, manifest_hash: str) -> list[int]:
    return [
        int(i)
        for (i,) in conn.execute(
            "SELECT chunk_index FROM download_chunks WHERE manifest_hash = ?", (manifest_hash,)
        )
    ]


def mark_active(conn: sqlite3.Connection, manifest_hash: str) -> None:
    """A paused download goes on (and is resumed by itself at the next start)."""
    with conn:
        conn.execute(
            "UPDATE downloads SET state = 'active' WHERE manifest_hash = ? AND state = 'paused'",
            (manifest_hash,),
        )
