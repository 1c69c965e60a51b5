"""End to end: the window (offscreen) and a real daemon process, in one circle, on 127.0.0.1.

A key the daemon advertises appears in the window's list; a file dropped on the window is
fetched by the daemon, byte for byte; the command line works against the window as it does
against a daemon.
"""

from __future__ import annotations

import asyncio
import os

from tests.integration.daemons import Daemon, cli

from .conftest import until
from .test_window import drop, row_named


async def test_window_and_daemon_share_keys_and_files(windows, tmp_path):
    daemon = Daemon(tmp_path / "daemon", name="Daemon").start()
    try:
        me = await windows("me")
        await me.node.join(await asyncio.to_thread(daemon.invitation))
        await until(lambda: any(p["online"] for p in me.window.peers.rows()))

        await asyncio.to_thread(daemon.cli, "advertise", "--text", "hyper://from-the-daemon")
        await until(lambda: row_named(me, "hyper://from-the-daemon"))
        assert row_named(me, "hyper://from-the-daemon")["sharers"] == ("Daemon",)

        film = tmp_path / "Court métrage.mp4"
        film.write_bytes(os.urandom(9 << 20))
        drop(me.window, [film])
        await until(lambda: (r := row_named(me, "Court métrage.mp4")) and r["state"] == "shared")
        key = row_named(me, "Court métrage.mp4")["key"].hex()
        inbox = tmp_path / "inbox"
        saved = await asyncio.to_thread(daemon.cli, "fetch", key, "--to", str(inbox))
        assert (inbox / "Court métrage.mp4").read_bytes() == film.read_bytes()
        assert saved.strip().endswith("Court métrage.mp4")

        # The command line of the daemon works against the window.
        data_dir = me.node.paths.root
        listed = await asyncio.to_thread(cli, data_dir, "keys")
        assert "hyper://from-the-daemon" in listed and key in listed
        await asyncio.to_thread(cli, data_dir, "advertise", "--text", "typed at the prompt")
        await until(lambda: row_named(me, "typed at the prompt"))
    finally:
        await asyncio.to_thread(daemon.stop)
