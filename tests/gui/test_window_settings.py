"""Settings, keeping everything, the tray, hidden keys, circles and restarts, in the window."""

from __future__ import annotations

import asyncio
import os

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QInputDialog, QMessageBox, QSystemTrayIcon

from natakanu_peer.app.settings import load_settings
from natakanu_peer.gui import dialogs

from .conftest import RunningWindow, until
from .test_window import row_named, select, slow_disk


async def test_keeping_everything_asks_with_the_space_then_fetches_all(
    windows, tmp_path, monkeypatch
):
    marie = await windows("marie")
    me = await windows("me")
    await me.node.join((await marie.node.invite())["invitation"])
    for name, size in (("one.mp4", 3 << 20), ("two.wav", 5 << 20)):
        path = tmp_path / name
        path.write_bytes(os.urandom(size))
        await marie.node.share([path])
    await until(
        lambda: all(row_named(me, n) and row_named(me, n)["size"] for n in ("one.mp4", "two.wav"))
    )
    films = tmp_path / "Films"

    def chosen(self):
        self.keep.setChecked(True)
        self.downloads.setText(str(films))
        self.name.setText("ᐊᓂ Atelier")
        self._check()
        return self.result()

    asked = []

    def question(parent, title, text, *rest):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(dialogs.SettingsDialog, "exec", chosen)
    monkeypatch.setattr(QMessageBox, "question", question)
    me.window.settings_action.trigger()
    await until(lambda: asked)
    assert "8.4 MB" in asked[0], asked[0]  # 3 MiB + 5 MiB, said before anything is fetched
    await until(
        lambda: all(row_named(me, n)["state"] == "saved" for n in ("one.mp4", "two.wav")), 30
    )
    assert (films / "one.mp4").read_bytes() == (tmp_path / "one.mp4").read_bytes()
    saved = await load_settings(me.node.db)
    assert saved.keep_everything and saved.downloads_dir == str(films)
    assert saved.display_name == me.node.display_name == "ᐊᓂ Atelier"
    # What the circle shares later is kept too.
    later = tmp_path / "three.mov"
    later.write_bytes(os.urandom(1 << 20))
    await marie.node.share([later])
    await until(lambda: (r := row_named(me, "three.mov")) and r["state"] == "saved", 30)


async def test_closing_the_window_keeps_sharing_in_the_tray_and_says_so_once(windows, monkeypatch):
    me = await windows("me")
    me.window.tray = QSystemTrayIcon(QIcon(), me.window)
    told = []
    monkeypatch.setattr(me.window, "notify", lambda title, message: told.append(message))
    me.window.close()
    assert not me.window.isVisible() and not me.window.quitting
    assert me.bridge.node is not None, "still sharing"
    await until(lambda: me.window.settings.tray_explained)
    assert len(told) == 1 and "Quit" in told[0]
    me.window.bring_back()
    me.window.close()
    await asyncio.sleep(0.2)
    assert len(told) == 1, "the explanation is given once"
    assert (await load_settings(me.node.db)).tray_explained


async def test_others_keys_can_be_hidden_here_and_shown_again(windows):
    marie = await windows("marie")
    me = await windows("me")
    await me.node.join((await marie.node.invite())["invitation"])
    await marie.node.advertise(b"hyper://not-for-me")
    await until(lambda: row_named(me, "hyper://not-for-me"))
    select(me, "hyper://not-for-me")
    assert me.window.hide_action.isEnabled() and not me.window.delete_action.isEnabled()
    me.window.hide_action.trigger()
    await until(lambda: row_named(me, "hyper://not-for-me")["hidden"])
    shown = [r.get("text") for r in me.window.keys.shown_rows()]
    assert "hyper://not-for-me" not in shown
    assert b"hyper://not-for-me" in me.node.list_keys(), "hidden here only"
    me.window.show_hidden.setChecked(True)
    assert "hyper://not-for-me" in [r.get("text") for r in me.window.keys.shown_rows()]


async def test_a_circle_is_created_and_the_window_switches_between_circles(windows, monkeypatch):
    me = await windows("me")
    first = me.node.circle_name
    await until(lambda: me.window.circle_box.count() == 1)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Atelier vidéo", True))
    me.window.new_circle_action.trigger()
    await until(lambda: me.window.circle_box.count() == 2)
    await until(lambda: me.window.circle_box.currentText() == "Atelier vidéo")
    assert me.node.circle_name == "Atelier vidéo"
    await me.node.advertise(b"only in the workshop")
    await until(lambda: row_named(me, "only in the workshop"))
    index = me.window.circle_box.findText(first)
    me.window.circle_box.setCurrentIndex(index)
    me.window.circle_box.activated.emit(index)
    await until(lambda: me.node.circle_name == first)
    await until(lambda: row_named(me, "only in the workshop") is None)


async def test_a_paused_download_stays_paused_after_a_restart_and_resumes(
    windows, tmp_path, monkeypatch
):
    marie = await windows("marie")
    me = await windows("me")
    await me.node.join((await marie.node.invite())["invitation"])
    film = tmp_path / "long.mp4"
    film.write_bytes(os.urandom(32 << 20))
    [shared] = await marie.node.share([film])
    read_chunk = slow_disk(monkeypatch, marie.node, 0.2)
    await until(lambda: (r := row_named(me, "long.mp4")) and r["state"] == "available")
    job = await me.node.download(bytes.fromhex(shared["key"]))
    await until(lambda: job.download is not None)
    await me.node.pause_download(job.manifest_hash)
    data_dir = me.node.paths.root
    await me.stop()
    again = await RunningWindow(data_dir).start()
    try:
        await until(lambda: any(r["state"] == "paused" for r in again.window.transfers.rows()))
        await asyncio.sleep(1.0)
        assert again.node.transfers is not None
        assert [r["state"] for r in await again.node.transfers()] == ["paused"]
        monkeypatch.setattr(marie.node.content, "read_chunk", read_chunk)
        select(again, "long.mp4")
        await until(again.window.resume_action.isEnabled)
        again.window.resume_action.trigger()
        await until(lambda: (r := row_named(again, "long.mp4")) and r["state"] == "saved", 30)
    finally:
        await again.stop()


async def test_the_status_line_says_what_to_try_when_nobody_is_found(windows, monkeypatch):
    me = await windows("me")
    alone = {"peers_online": 0, "circle": {"name": "Wapikoni"}, "discovery": {"on": True}}
    assert "Looking" in me.window.status_sentence(alone)
    me.window._started_at -= 3600  # an hour later
    later = me.window.status_sentence(alone)
    assert "Wi-Fi" in later and "firewall" in later and "address" in later
    off = dict(alone, discovery={"on": False})
    assert "discovery is off" in me.window.status_sentence(off)


async def test_an_unexpected_error_is_shown_in_a_dialog_and_logged(windows, caplog):
    me = await windows("me")

    async def broken(node):
        raise RuntimeError("a bug")

    me.bridge.submit("broken", broken)
    await until(
        lambda: [
            box
            for box in me.window.findChildren(QMessageBox)
            if box.isVisible() and "a bug" in box.detailedText()
        ]
    )
    assert "a bug" in caplog.text
