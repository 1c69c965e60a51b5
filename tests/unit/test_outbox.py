"""A link's outbox: content takes the bulk path while it works, the link when it fails."""

from __future__ import annotations

import asyncio

from natakanu_peer.app.node import OUTBOX_HARD_LIMIT_BYTES, _Outbox


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


class StuckLink:
    """A peer that never reads: a send waits until the link is aborted."""

    def __init__(self) -> None:
        self.aborted = asyncio.Event()

    async def send(self, channel: int, *parts: bytes) -> None:
        await self.aborted.wait()
        raise ConnectionError("aborted")


async def test_answers_piled_up_for_a_peer_that_does_not_read_are_let_go_at_once() -> None:
    link = StuckLink()
    outbox = _Outbox(link)  # type: ignore[arg-type]
    cut: list[bool] = []
    outbox.on_overflow = lambda: cut.append(True)
    answer = bytes(1024 * 1024)
    for _ in range(OUTBOX_HARD_LIMIT_BYTES // len(answer) + 1):
        outbox.put(3, answer)
        await asyncio.sleep(0)  # the writer takes the first one and waits on the link
    assert cut == [True]
    # Only the frame the writer holds is left; the rest is not kept for a link being cut.
    assert outbox.waiting_bytes == len(answer)
    outbox.put(3, answer)  # nothing more is taken once cut
    assert outbox.waiting_bytes == len(answer)
    link.aborted.set()
    await asyncio.wait_for(outbox.task, 5)
    assert outbox.waiting_bytes == 0
