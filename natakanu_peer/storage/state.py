"""Reading and writing the node's own state rows: gossip, peers, addresses, progress, settings.

Each function takes the SQLite connection first and runs on the database thread (through
``Database.call``); each change is one transaction. This module must never hold protocol
logic: it stores what the protocol objects hand out and gives it back at start.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..protocol.gossip_messages import Operation, OpKind

# ------------------------------------------------------------------ gossip


def store_operations(
    conn: sqlite3.Connection,
    topic: str,
    author: bytes,
    ops: Iterable[Operation],
    covered: Iterable[tuple[int, int]],
) -> None:
    """Keep new operations and the author's whole covered numbers (``covered`` replaces the
    stored ones: it is the replica's current, merged view); drop superseded operations."""
    with conn:
        for op in ops:
            # Only the latest operation per (author, key) is worth keeping.
            row = conn.execute(
                "SELECT seq FROM operations WHERE topic=? AND author=? AND key=? "
                "ORDER BY seq DESC LIMIT 1",
                (topic, author, op.key),
            ).fetchone()
            if row is not None and row[0] > op.seq:
                continue
            conn.execute(
                "DELETE FROM operations WHERE topic=? AND author=? AND key=?",
                (topic, author, op.key),
            )
            conn.execute(
                "INSERT OR REPLACE INTO operations VALUES (?, ?, ?, ?, ?, ?)",
                (topic, author, op.seq, int(op.kind), op.key, op.signature),
            )
        conn.execute("DELETE FROM coverage WHERE topic=? AND author=?", (topic, author))
        for start, end in covered:
            conn.execute(
                "INSERT OR REPLACE INTO coverage VALUES (?, ?, ?, ?)", (topic, author, start, end)
            )


@dataclass
class StoredAuthor:
    ops: list[Operation]
    covered: list[tuple[int, int]]


def load_operations(conn: sqlite3.Connection, topic: str) -> dict[bytes, StoredAuthor]:
    authors: dict[bytes, StoredAuthor] = {}
    for author, seq, kind, key, signature in conn.execute(
        "SELECT author, seq, kind, key, signature FROM operations WHERE topic=? "
        "ORDER BY author, seq",
        (topic,),
    ):
        stored = authors.setdefault(author, StoredAuthor([], []))
        stored.ops.append(Operation(author, seq, OpKind(kind), key, signature))
    for author, start, end in conn.execute(
        "SELECT author, start, end FROM coverage WHERE topic=? ORDER BY author, start", (topic,)
    ):
        authors.setdefault(author, StoredAuthor([], [])).covered.append((start, end))
    return authors


# ------------------------------------------------------------------ peers and addresses


@dataclass(frozen=True)
class PeerRow:
    peer_id: str
    display_name: str | None
    address: str | None
    first_seen: float
    last_seen: float


def peer_seen(
    conn: sqlite3.Connection, peer_id: str, display_name: str | None, address: str | None
) -> None:
    now = time.time()
    with conn:
        conn.execute(
            "INSERT INTO peers VALUES (?, ?, ?, ?, ?) ON CONFLICT(peer_id) DO UPDATE SET "
            "display_name=coalesce(excluded.display_name, display_name), "
            "address=coalesce(excluded.address, address), last_seen=excluded.last_seen",
            (peer_id, display_name, address, now, now),
        )


def all_peers(conn: sqlite3.Connection) -> list[PeerRow]:
    return [
        PeerRow(*row)
        for row in conn.execute(
            "SELECT peer_id, display_name, address, first_seen, last_seen FROM peers "
            "ORDER BY last_seen DESC"
        )
    ]


def remember_address(
    conn: sqlite3.Connection, address: str, source: str, peer_id: str | None = None
) -> None:
    with conn:
        conn.execute(
            "INSERT INTO addresses (address, peer_id, source) VALUES (?, ?, ?) "
            "ON CONFLICT(address) DO UPDATE SET peer_id=coalesce(excluded.peer_id, peer_id)",
            (address, peer_id, source),
        )


def address_result(conn: sqlite3.Connection, address: str, ok: bool) -> None:
    column = "last_ok" if ok else "last_failed"
    with conn:
        conn.execute(f"UPDATE addresses SET {column}=? WHERE address=?", (time.time(), address))


def known_addresses(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT address FROM addresses ORDER BY address")]


# ------------------------------------------------------------------ availability and progress


def peer_has(conn: sqlite3.Connection, peer_id: str, hashes: Iterable[str]) -> None:
    with conn:
        conn.executemany(
            "INSERT OR IGNORE INTO peer_has VALUES (?, ?)", ((peer_id, h) for h in hashes)
        )


def peer_lacks(conn: sqlite3.Connection, peer_id: str, hash_: str) -> None:
    with conn:
        conn.execute("DELETE FROM peer_has WHERE peer_id=? AND hash=?", (peer_id, hash_))


def availability(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    return list(conn.execute("SELECT peer_id, hash FROM peer_has"))


def get_progress(conn: sqlite3.Connection, peer_id: str, stream: str) -> int:
    row = conn.execute(
        "SELECT seq FROM sync_progress WHERE peer_id=? AND stream=?", (peer_id, stream)
    ).fetchone()
    return int(row[0]) if row else -1


def set_progress(conn: sqlite3.Connection, peer_id: str, stream: str, seq: int) -> None:
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO sync_progress VALUES (?, ?, ?)", (peer_id, stream, seq)
        )


# ------------------------------------------------------------------ settings


def get_setting(conn: sqlite3.Connection, name: str) -> str | None:
    row = conn.execute("SELECT value FROM settings WHERE name=?", (name,)).fetchone()
    return None if row is None else str(row[0])


def set_setting(conn: sqlite3.Connection, name: str, value: str) -> None:
    with conn:
        conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (name, value))


# ---------------------------------------------------------------------- circles


@dataclass(frozen=True)
class CircleRow:
    circle_id: str
    name: str
    epoch: int
    secret: bytes
    created_at: float
    active: bool


def load_circles(conn: sqlite3.Connection) -> list[CircleRow]:
    rows = conn.execute(
        "SELECT circle_id, name, epoch, secret, created_at, active FROM circles ORDER BY created_at"
    ).fetchall()
    return [
        CircleRow(str(c), str(n), int(e), bytes(s), float(t), bool(a)) for c, n, e, s, t, a in rows
    ]


def add_circle(
    conn: sqlite3.Connection,
    circle_id: str,
    name: str,
    epoch: int,
    secret: bytes,
    now: float,
    signed: bytes | None = None,
) -> bool:
    """Remember a circle, or a newer secret of one already known; True if the circle is new."""
    with conn:
        added = conn.execute(
            "INSERT OR IGNORE INTO circles (circle_id, name, secret, created_at, epoch) "
            "VALUES (?, ?, ?, ?, ?)",
            (circle_id, name, secret, now, epoch),
        )
        conn.execute(
            "INSERT OR IGNORE INTO circle_epochs (circle_id, epoch, secret, signed) "
            "VALUES (?, ?, ?, ?)",
            (circle_id, epoch, secret, signed),
        )
        return added.rowcount == 1


def _add_epoch(
    conn: sqlite3.Connection, circle_id: str, epoch: int, secret: bytes, signed: bytes | None
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO circle_epochs (circle_id, epoch, secret, signed) "
        "VALUES (?, ?, ?, ?)",
        (circle_id, epoch, secret, signed),
    )


def use_secret(
    conn: sqlite3.Connection,
    circle_id: str,
    epoch: int,
    secret: bytes,
    signed: bytes | None,
    removed: Iterable[str],
    now: float,
) -> None:
    """Make a secret the circle's current one, with the members it leaves out (one step)."""
    with conn:
        _add_epoch(conn, circle_id, epoch, secret, signed)
        conn.execute(
            "UPDATE circles SET epoch = ?, secret = ? WHERE circle_id = ?",
            (epoch, secret, circle_id),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO circle_removed (circle_id, peer_id, at) VALUES (?, ?, ?)",
            [(circle_id, peer, now) for peer in removed],
        )


def circle_epochs(
    conn: sqlite3.Connection, circle_id: str
) -> list[tuple[int, bytes, bytes | None]]:
    """Every secret of a circle, newest first: (epoch, secret, signed update or None)."""
    rows = conn.execute(
        "SELECT epoch, secret, signed FROM circle_epochs WHERE circle_id = ? ORDER BY epoch DESC",
        (circle_id,),
    ).fetchall()
    return [(int(e), bytes(s), None if u is None else bytes(u)) for e, s, u in rows]


def removed_members(conn: sqlite3.Connection, circle_id: str) -> set[str]:
    rows = conn.execute("SELECT peer_id FROM circle_removed WHERE circle_id = ?", (circle_id,))
    return {str(p) for (p,) in rows}


def add_member(conn: sqlite3.Connection, circle_id: str, peer_id: str, now: float) -> None:
    with conn:
        conn.execute(
            "INSERT OR IGNORE INTO circle_members (circle_id, peer_id, first_seen) "
            "VALUES (?, ?, ?)",
            (circle_id, peer_id, now),
        )


def members(conn: sqlite3.Connection, circle_id: str) -> set[str]:
    rows = conn.execute("SELECT peer_id FROM circle_members WHERE circle_id = ?", (circle_id,))
    return {str(p) for (p,) in rows}


def set_active_circle(conn: sqlite3.Connection, circle_id: str) -> None:
    with conn:
        conn.execute("UPDATE circles SET active = (circle_id = ?)", (circle_id,))
