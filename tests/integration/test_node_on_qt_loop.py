"""The node runs on the Qt event loop (qasync), as the window will run it, under busy work."""

from __future__ import annotations

import asyncio
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import qasync
from PySide6.QtWidgets import QApplication

from natakanu_peer.app.runtime import running_node


def test_two_nodes_gossip_on_the_qt_loop_through_fifty_thousand_callbacks(tmp_path):
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    ticks = 0

    async def scenario() -> list[int]:
        nonlocal ticks
        async with (
            running_node(tmp_path / "a", listen=("127.0.0.1", 0)) as a,
            running_node(
                tmp_path / "b", listen=("127.0.0.1", 0), peers=[a.listen_address or ""]
            ) as b,
        ):
            await b.join((await a.invite())["invitation"])

            async def busy() -> None:
                nonlocal ticks
                for _ in range(50_000):
                    await asyncio.sleep(0)
                    ticks += 1

            spinner = asyncio.ensure_future(busy())
            for i in range(300):
                await a.advertise(f"key {i}".encode())
            for _ in range(600):
                if len(b.gossip.list()) == 300:
                    break
                await asyncio.sleep(0.05)
            await spinner
            return [len(a.gossip.list()), len(b.gossip.list())]

    try:
        counts = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert counts == [300, 300]
    assert ticks == 50_000
