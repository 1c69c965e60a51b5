"""What a linked peer may cost us: rates per link, handshake slots, and refusals after strikes.

The protocol engines bound each message; this module bounds a peer over time. A link that
brings more new operations (by weight) than its rate is read more slowly; one that goes over
another rate is closed with the reason; every such closing, and every message that broke
a rule, is a strike against the peer id; ``STRIKES_BEFORE_REFUSAL`` strikes within
``STRIKE_WINDOW_SECONDS`` get the peer refused at the handshake for ``REFUSAL_SECONDS``, with
the reason kept where ``peers`` shows it. Strikes and refusals are stored, so a restart does
not forgive them.

This module must never decide what is a strike (the node does) and never block the loop.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import RemoteProtocolError
from ..net.admission import Places
from ..protocol import limits


class TokenBucket:
    """``rate`` per second, up to ``burst`` at once."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self._rate, self._burst = rate, burst
        self._tokens = burst
        self._last = time.monotonic()

    def take(self, count: float = 1.0) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if count > self._tokens:
            return False
        self._tokens -= count
        return True

    def owe(self, count: float) -> float:
        """Take ``count`` even past what is left; the seconds to wait until the debt is paid."""
        self.take(0.0)  # refill up to now
        self._tokens -= count
        return max(0.0, -self._tokens / self._rate)


@dataclass
class LinkRates:
    """The rates of one link; ``charge_*`` raise ``RemoteProtocolError`` when one is exceeded."""

    gossip: TokenBucket
    operations: TokenBucket
    exchange: TokenBucket
    operation_bytes: TokenBucket

    @classmethod
    def standard(cls) -> LinkRates:
        return cls(
            TokenBucket(limits.GOSSIP_MESSAGES_PER_SECOND, limits.GOSSIP_MESSAGES_BURST),
            TokenBucket(limits.OPERATIONS_PER_SECOND, limits.OPERATIONS_BURST),
            TokenBucket(limits.EXCHANGE_MESSAGES_PER_SECOND, limits.EXCHANGE_MESSAGES_BURST),
            TokenBucket(limits.OPERATION_BYTES_PER_SECOND, limits.OPERATION_BYTES_BURST),
        )

    def charge_gossip(self) -> None:
        if not self.gossip.take():
            raise RemoteProtocolError(
                f"more than {limits.GOSSIP_MESSAGES_PER_SECOND} gossip messages a second"
            )

    def charge_operations(self, count: int) -> None:
        if count and not self.operations.take(count):
            raise RemoteProtocolError(
                f"more than {limits.OPERATIONS_PER_SECOND} new operations a second"
            )

    def operations_weigh(self, keys: Iterable[bytes]) -> float:
        """New operations on these keys were kept: seconds to wait before reading on."""
        weight = sum(len(key) + limits.OPERATION_OVERHEAD_BYTES for key in keys)
        return self.operation_bytes.owe(weight) if weight else 0.0

    def charge_exchange(self) -> None:
        if not self.exchange.take():
            raise RemoteProtocolError(
                f"more than {limits.EXCHANGE_MESSAGES_PER_SECOND} exchange messages a second"
            )


class HandshakeSlots(Places):
    """Links still proving themselves, per remote address and in all."""

    def __init__(self) -> None:
        super().__init__(limits.HANDSHAKES_PER_ADDRESS, limits.HANDSHAKES_AT_ONCE)


# ---------------------------------------------------------------------- stored, in the DB thread


def record_strike(conn: sqlite3.Connection, peer_id: str, reason: str, now: float) -> float | None:
    """Count a strike; returns the time the peer is refused until, if this one refuses it."""
    with conn:
        conn.execute(
            "INSERT INTO peer_strikes (peer_id, at, reason) VALUES (?, ?, ?)",
            (peer_id, now, reason[:300]),
        )
        since = now - limits.STRIKE_WINDOW_SECONDS
        conn.execute("DELETE FROM peer_strikes WHERE at < ?", (since,))
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM peer_strikes WHERE peer_id = ? AND at >= ?", (peer_id, since)
        ).fetchone()
        if count < limits.STRIKES_BEFORE_REFUSAL:
            return None
        until = now + limits.REFUSAL_SECONDS
        conn.execute(
            "INSERT OR REPLACE INTO peer_refusals (peer_id, until, reason) VALUES (?, ?, ?)",
            (
                peer_id,
                until,
                f"{count} broken rules in {limits.STRIKE_WINDOW_SECONDS // 60} "
                f"minutes, the last: {reason[:200]}",
            ),
        )
        conn.execute("DELETE FROM peer_strikes WHERE peer_id = ?", (peer_id,))
        return until


def refusals(conn: sqlite3.Connection, now: float) -> dict[str, tuple[float, str]]:
    """Peers refused now: peer id -> (until, reason)."""
    rows = conn.execute(
        "SELECT peer_id, until, reason FROM peer_refusals WHERE until > ?", (now,)
    ).fetchall()
    return {str(p): (float(u), str(r)) for p, u, r in rows}
