"""Bounds over time: rates per link, handshake slots, strikes that lead to a refusal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from natakanu_peer.app.peer_guard import (
    HandshakeSlots,
    LinkRates,
    TokenBucket,
    record_strike,
    refusals,
)
from natakanu_peer.errors import RemoteProtocolError
from natakanu_peer.protocol import limits
from natakanu_peer.storage.database import Database


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    bucket = TokenBucket(rate=1000, burst=10)
    assert all(bucket.take() for _ in range(10))
    assert not bucket.take()
    time.sleep(0.02)  # about 20 more
    assert bucket.take(10)


def test_a_flooding_link_is_told_which_rate_it_broke() -> None:
    rates = LinkRates.standard()
    for _ in range(limits.GOSSIP_MESSAGES_BURST):
        rates.charge_gossip()
    with pytest.raises(RemoteProtocolError, match="gossip messages a second"):
        rates.charge_gossip()
    rates.charge_operations(limits.OPERATIONS_BURST)  # a first sync of a big set is fine
    with pytest.raises(RemoteProtocolError, match="operations a second"):
        rates.charge_operations(limits.OPERATIONS_PER_SECOND)


def test_heavy_operations_slow_a_link_down_after_the_burst_without_closing_it() -> None:
    rates = LinkRates.standard()
    weight = limits.OPERATION_OVERHEAD_BYTES + 32
    first_sync = 100_000 * weight  # a first sync of 100,000 keys of 32 bytes
    assert first_sync < limits.OPERATION_BYTES_BURST
    assert rates.operations_weigh([bytes(32)] * 100_000) == 0.0
    # Keys of 1 KiB past the burst: the link waits as long as their weight takes at the rate.
    rates = LinkRates.standard()
    heavy = [bytes(1024)] * (limits.OPERATION_BYTES_BURST // (1024 + 128) + 1000)
    pause = rates.operations_weigh(heavy)
    expected = (
        len(heavy) * (1024 + limits.OPERATION_OVERHEAD_BYTES) - limits.OPERATION_BYTES_BURST
    ) / limits.OPERATION_BYTES_PER_SECOND
    assert pause == pytest.approx(expected, abs=0.05)
    assert 1.0 < pause < 1.2
    # What comes next waits for the debt too: a flood cannot outrun the rate.
    assert rates.operations_weigh([bytes(1024)]) > pause - 0.05
    assert rates.operations_weigh([]) == 0.0


def test_handshake_slots_are_bounded_per_address_and_in_all() -> None:
    slots = HandshakeSlots()
    taken = [slots.acquire("10.0.0.9") for _ in range(limits.HANDSHAKES_PER_ADDRESS + 1)]
    assert taken.count(True) == limits.HANDSHAKES_PER_ADDRESS and not taken[-1]
    assert slots.acquire("10.0.0.10")
    slots.release("10.0.0.9")
    assert slots.acquire("10.0.0.9")
    others = [slots.acquire(f"10.1.0.{i}") for i in range(limits.HANDSHAKES_AT_ONCE)]
    assert not all(others)  # the total is bounded too


def test_three_strikes_within_the_window_refuse_a_peer_and_survive_a_restart(
    tmp_path: Path,
) -> None:
    db = Database.open(tmp_path / "state.db")
    now = 1_000_000.0
    old = now - limits.STRIKE_WINDOW_SECONDS - 1
    assert db.call_sync(record_strike, "bad", "content does not match", old) is None
    assert db.call_sync(record_strike, "bad", "content does not match", now) is None
    assert db.call_sync(record_strike, "other", "oversized frame", now) is None
    assert db.call_sync(record_strike, "bad", "content does not match", now + 1) is None
    until = db.call_sync(record_strike, "bad", "content does not match", now + 2)
    assert until == now + 2 + limits.REFUSAL_SECONDS
    db.close()
    db = Database.open(tmp_path / "state.db")
    refused = db.call_sync(refusals, now + 3)
    assert set(refused) == {"bad"} and "does not match" in refused["bad"][1]
    assert db.call_sync(refusals, until + 1) == {}  # for a while, not for ever
    db.close()
