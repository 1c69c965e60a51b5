"""The node and the window on one qasync loop survive 50,000+ callbacks during a transfer.

PySide6 6.12.0 under Python < 3.12 crashes a busy qasync loop (see the dependency pin); this
is the scenario that showed it, with a real transfer running meanwhile.
"""

from __future__ import annotations

import asyncio
import os

from .conftest import until
from .test_window import row_named


async def test_fifty_thousand_callbacks_while_a_file_transfers(windows, tmp_path):
    marie = await windows("marie")
    me = await windows("me")
    await me.node.join((await marie.node.invite())["invitation"])
    film = tmp_path / "film.mp4"
    film.write_bytes(os.urandom(96 << 20))
    [shared] = await marie.node.share([film])
    ticks = 0

    async def busy() -> None:
        nonlocal ticks
        for _ in range(60_000):
            await asyncio.sleep(0)
            ticks += 1

    await until(lambda: row_named(me, "film.mp4"))
    spinner = asyncio.ensure_future(busy())
    saved = await me.node.fetch(bytes.fromhex(shared["key"]))
    await spinner
    assert ticks == 60_000
    assert saved.read_bytes() == film.read_bytes()
    await until(lambda: row_named(me, "film.mp4")["state"] == "saved")
