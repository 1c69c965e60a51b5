"""The window, driven through its widgets as a person would: drop, add, delete, download,
pause, resume, invite and join."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from natakanu_peer.gui import dialogs
from natakanu_peer.gui.models import ROW_ROLE, KeysModel

from .conftest import until


def slow_disk(monkeypatch, node, seconds: float):
    """Make ``node`` read each chunk ``seconds`` late (time to pause); the real reader back."""
    read_chunk = node.content.read_chunk

    async def slow(hash_):
        await asyncio.sleep(seconds)
        return await read_chunk(hash_)

    monkeypatch.setattr(node.content, "read_chunk", slow)
    return read_chunk


def rows(running) -> list[dict]:
    return running.window.keys.rows()


def row_named(running, name: str) -> dict | None:
    return next((r for r in rows(running) if r.get("name") == name or r.get("text") == name), None)


def select(running, name: str) -> None:
    """Click the row of ``name`` in the list of items."""
    view = running.window.keys_view
    proxy = view.model()
    for r in range(proxy.rowCount()):
        row = proxy.index(r, 0).data(ROW_ROLE)
        if row.get("name") == name or row.get("text") == name:
            view.selectionModel().select(
                proxy.index(r, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            return
    raise AssertionError(f"{name!r} is not in the list")


def drop(window, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    position = QPoint(200, 200)
    enter = QDragEnterEvent(
        position,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    dropped = QDropEvent(
        position.toPointF(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, dropped)
    assert dropped.isAccepted()


async def test_files_and_folders_dropped_on_the_window_are_shared(windows, tmp_path):
    me = await windows("me")
    film = tmp_path / "Mon film.mp4"
    film.write_bytes(b"images " * 300_000)
    album = tmp_path / "Photos"
    album.mkdir()
    (album / "a.jpg").write_bytes(b"a" * 5000)
    drop(me.window, [film, album])
    await until(lambda: (r := row_named(me, "Mon film.mp4")) and r["state"] == "shared")
    await until(lambda: (r := row_named(me, "Photos")) and r["state"] == "shared")
    shared = row_named(me, "Mon film.mp4")
    assert shared["size"] == film.stat().st_size and shared["mine"]
    # What the list shows is what the node advertises to the circle.
    assert shared["key"] in me.node.list_keys()


async def test_a_key_is_added_by_pasting_it_and_deleted_after_confirming(windows, monkeypatch):
    me = await windows("me")

    def typed(self):
        self.key.setText("hyper://7b0e55c1a2d34f0e")
        self._check()
        return self.result()

    monkeypatch.setattr(dialogs.AddKeyDialog, "exec", typed)
    me.window.add_key_action.trigger()
    await until(lambda: row_named(me, "hyper://7b0e55c1a2d34f0e"))
    assert b"hyper://7b0e55c1a2d34f0e" in me.node.list_keys()

    select(me, "hyper://7b0e55c1a2d34f0e")
    assert me.window.delete_action.isEnabled()
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *args: asked.append(args) or QMessageBox.StandardButton.Yes
    )
    me.window.delete_action.trigger()
    await until(lambda: row_named(me, "hyper://7b0e55c1a2d34f0e") is None)
    assert asked, "deleting asks first"
    assert b"hyper://7b0e55c1a2d34f0e" not in me.node.list_keys()


async def test_a_mistyped_key_gets_a_sentence_and_nothing_is_added(windows, qtbot):
    me = await windows("me")
    dialog = dialogs.AddKeyDialog(me.window)
    qtbot.addWidget(dialog)
    dialog._check()
    assert "empty" in dialog.error.text()
    assert not dialog.result()
    assert me.node.list_keys() == []


async def test_download_pause_and_resume_through_the_widgets(windows, tmp_path, monkeypatch):
    marie = await windows("marie")
    me = await windows("me")
    await me.node.join((await marie.node.invite())["invitation"])
    film = tmp_path / "Nitassinan.mp4"
    film.write_bytes(os.urandom(48 << 20))  # 12 different chunks
    await marie.node.share([film])
    # Marie's disk is slow, so that there is time to pause.
    slow_disk(monkeypatch, marie.node, 0.15)
    await until(lambda: (r := row_named(me, "Nitassinan.mp4")) and r["state"] == "available")

    select(me, "Nitassinan.mp4")
    assert me.window.download_action.isEnabled()
    me.window.download_action.trigger()
    await until(lambda: any(r.get("size") for r in me.window.transfers.rows()))
    select(me, "Nitassinan.mp4")
    await until(me.window.pause_action.isEnabled)
    me.window.pause_action.trigger()
    await until(lambda: any(r.get("state") == "paused" for r in me.window.transfers.rows()))
    done = me.window.transfers.rows()[0]["done"]
    assert 0 <= done < film.stat().st_size
    await asyncio.sleep(1.0)
    await until(lambda: me.window.transfers.rows()[0]["state"] == "paused")
    assert me.window.transfers.rows()[0]["done"] == done, "a paused download stays paused"

    select(me, "Nitassinan.mp4")
    await until(me.window.resume_action.isEnabled)
    me.window.resume_action.trigger()
    await until(lambda: (r := row_named(me, "Nitassinan.mp4")) and r["state"] == "saved", 60)
    saved = Path(row_named(me, "Nitassinan.mp4")["path"])
    assert saved.read_bytes() == film.read_bytes()
    # The Transfers tab is refreshed by the next poll of the node (once a second).
    await until(lambda: me.window.transfers.rowCount() == 0, 5)


async def test_cancelling_a_download_removes_what_was_fetched(windows, tmp_path, monkeypatch):
    marie = await windows("marie")
    me = await windows("me")
    await me.node.join((await marie.node.invite())["invitation"])
    film = tmp_path / "long.mp4"
    film.write_bytes(os.urandom(40 << 20))
    await marie.node.share([film])
    slow_disk(monkeypatch, marie.node, 0.2)
    await until(lambda: (r := row_named(me, "long.mp4")) and r["state"] == "available")
    select(me, "long.mp4")
    me.window.download_action.trigger()
    await until(lambda: any(r.get("size") for r in me.window.transfers.rows()))
    select(me, "long.mp4")
    await until(me.window.cancel_action.isEnabled)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    me.window.cancel_action.trigger()
    await until(lambda: me.window.transfers.rowCount() == 0)
    await until(lambda: row_named(me, "long.mp4")["state"] == "available")
    assert not any((me.node.paths.partial).iterdir()), "the partial files are gone"


async def test_an_invitation_round_trips_through_the_dialogs(windows, monkeypatch):
    marie = await windows("marie")
    me = await windows("me")
    marie.window.invite()
    await until(lambda: getattr(marie.window, "invite_dialog", None) is not None)
    dialog = marie.window.invite_dialog
    text = dialog.text.toPlainText()
    assert text.startswith("NATAKANU1") and len(dialog.qr.modules()) >= 21
    dialog.copy_button.click()
    assert QApplication.clipboard().text() == text

    def pasted(self):
        self.invitation.setPlainText(QApplication.clipboard().text())
        self._check()
        return self.result()

    monkeypatch.setattr(dialogs.JoinDialog, "exec", pasted)
    me.window.join_action.trigger()
    circle = marie.node.circle_name
    await until(lambda: me.window.circle_box.currentText() == circle)
    await until(lambda: any(p["online"] for p in me.window.peers.rows()))
    assert me.window.peers.rows()[0]["name"] == marie.node.display_name

    # A short code instead: the invitation dialog shows it.
    dialog.code_button.click()
    await until(lambda: dialog.code_label.text())
    assert "-" in dialog.code_label.text()


async def test_a_cut_invitation_is_refused_with_a_sentence(windows, qtbot):
    me = await windows("me")
    dialog = dialogs.JoinDialog(me.window)
    qtbot.addWidget(dialog)
    dialog.invitation.setPlainText((await me.node.invite())["invitation"][:-7])
    dialog._check()
    assert "NATAKANU1" in dialog.error.text()
    assert not dialog.result()


async def test_a_peer_is_added_by_its_address(windows, monkeypatch):
    marie = await windows("marie")
    me = await windows("me")
    # Same circle, but nobody told "me" where Marie is.
    invitation = (await marie.node.invite())["invitation"]
    from dataclasses import replace

    from natakanu_peer.protocol.circle import decode_invitation, encode_invitation

    bare = encode_invitation(replace(decode_invitation(invitation), hints=()))
    await me.node.join(bare)

    def typed(self):
        self.address.setText(marie.node.listen_address)
        self._check()
        return self.result()

    monkeypatch.setattr(dialogs.AddressDialog, "exec", typed)
    me.window.add_peer_action.trigger()
    await until(lambda: any(p["online"] for p in me.window.peers.rows()))


async def test_the_state_column_follows_the_items(windows):
    me = await windows("me")
    await me.node.advertise(b"hello")
    await until(lambda: row_named(me, "hello"))
    proxy = me.window.keys_view.model()
    texts = [proxy.index(r, KeysModel.STATE).data() for r in range(proxy.rowCount())]
    assert texts == ["Archive key"]
