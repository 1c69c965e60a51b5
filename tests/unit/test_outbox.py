"""A link's outbox: content takes the bulk path while it works, the link when it fails."""

from __future__ import annotations

import asyncio

from natakanu_peer.app.node import _Outbox


class FakeLink:
    def __init__(self) -> None:
        self.sent: list[tuple[int, bytes]] = []

    async def send(self, channel: int, *parts: bytes) -> None:
        self.sent.append((channel, b"".join(parts)))


class FakeBulk:
    def __init__(self, fail_after: int) -> None:
        self.sent: list[bytes] = []
        self.closed = False
        self._left = fail_after

    async def send(self, *parts: bytes) -> None:
        if self._left == 0:
            self.closed = True
            raise ConnectionError("bulk connection lost")
        self._left -= 1
        self.sent.append(b"".join(parts))


async def test_content_falls_back_to_the_link_in_order_when_the_bulk_path_fails() -> None:
    link, bulk = FakeLink(), FakeBulk(fail_after=2)
    outbox = _Outbox(link)  # type: ignore[arg-type]
    outbox.bulk = bulk  # type: ignore[assignment]
    outbox.put(1, b"gossip")
    for i in range(4):
        outbox.put(2, b"chunk", str(i).encode(), content=True)
    outbox.put(2, b"request")
    outbox.stop()
    await asyncio.wait_for(outbox.task, 5)
    assert bulk.sent == [b"chunk0", b"chunk1"]
    assert link.sent == [(1, b"gossip"), (2, b"chunk2"), (2, b"chunk3"), (2, b"request")]
    assert outbox.bulk is None
