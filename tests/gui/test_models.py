"""The item models keep Qt's rules (qtmodeltester) while snapshots are applied, and the
filter hides what a person hid."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from natakanu_peer.gui.models import (
    KeysModel,
    PeersModel,
    TransfersModel,
)
from natakanu_peer.protocol.manifest import manifest_key


def key_row(n: int, **extra):
    digest = bytes([n]) * 32
    row = {
        "key": manifest_key(digest),
        "hash": digest.hex(),
        "text": None,
        "mine": False,
        "sharers": ["Marie"],
        "first_seen": time.time() - n,
        "hidden": False,
        "state": "available",
        "name": f"film {n}.mp4",
        "size": 1_000_000 * n,
    }
    row.update(extra)
    return row


def test_keys_model_applies_snapshots_within_qt_rules(qtmodeltester):
    model = KeysModel()
    qtmodeltester.check(model, force_py=True)
    model.upsert([key_row(n) for n in range(1, 30)])
    model.upsert([key_row(3, state="saved", path="/tmp/x"), key_row(40)])
    model.remove([key_row(n)["key"] for n in (2, 5, 7)])
    model.remove([key_row(n)["key"] for n in range(8, 30)])  # many at once: one reset
    model.set_transfers(
        [
            {
                "kind": "download",
                "hash": key_row(4)["hash"],
                "state": "downloading",
                "done": 500_000,
                "size": 4_000_000,
                "rate": 1e6,
            }
        ]
    )
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 5
    names = {model.index(r, KeysModel.NAME).data() for r in range(model.rowCount())}
    assert names == {"film 1.mp4", "film 3.mp4", "film 4.mp4", "film 6.mp4", "film 40.mp4"}
    four = next(r for r in range(5) if model.index(r, 0).data() == "film 4.mp4")
    assert model.index(four, KeysModel.STATE).data().startswith("12 %")


def test_plain_keys_show_as_text_or_hex():
    model = KeysModel()
    model.upsert(
        [
            {
                "key": b"hyper://abc",
                "text": "hyper://abc",
                "hash": None,
                "sharers": [""],
                "mine": True,
                "first_seen": None,
                "hidden": False,
                "state": "key",
            },
            {
                "key": b"\x00\xff",
                "text": None,
                "hash": None,
                "sharers": ["ᑲᑿ"],
                "mine": False,
                "first_seen": None,
                "hidden": False,
                "state": "key",
            },
        ]
    )
    assert model.index(0, KeysModel.NAME).data() == "hyper://abc"
    assert model.index(1, KeysModel.NAME).data() == "00ff"
    assert model.index(1, KeysModel.SHARERS).data() == "ᑲᑿ"  # syllabics kept as they are


def shown(model):
    return [model.index(r, KeysModel.NAME).data() for r in range(model.rowCount())]


def test_filter_matches_text_and_leaves_out_hidden_rows(qtmodeltester):
    model = KeysModel()
    model.upsert([key_row(1), key_row(2, hidden=True), key_row(3, name="Chants du matin.wav")])
    qtmodeltester.check(model, force_py=True)
    assert sorted(shown(model)) == ["Chants du matin.wav", "film 1.mp4"]
    model.set_text("CHANTS")
    assert shown(model) == ["Chants du matin.wav"]
    model.upsert([key_row(4, name="Chants du soir.wav")])  # a new row obeys the filter too
    assert sorted(shown(model)) == ["Chants du matin.wav", "Chants du soir.wav"]
    model.set_text("")
    model.set_show_hidden(True)
    assert len(shown(model)) == 4
    model.set_show_hidden(False)
    model.upsert([key_row(1, hidden=True)])  # hidden now: it leaves the list
    assert "film 1.mp4" not in shown(model) and len(model.rows()) == 4
    qtmodeltester.check(model, force_py=True)


def test_sorting_and_keeping_sorted_while_rows_arrive_and_change():
    model = KeysModel()
    model.upsert([key_row(n) for n in (3, 20, 100)])
    model.sort(KeysModel.SIZE, Qt.SortOrder.AscendingOrder)
    assert shown(model) == ["film 3.mp4", "film 20.mp4", "film 100.mp4"]
    model.upsert([key_row(50), key_row(1)])
    assert shown(model) == [
        "film 1.mp4",
        "film 3.mp4",
        "film 20.mp4",
        "film 50.mp4",
        "film 100.mp4",
    ]
    model.upsert([key_row(20, size=10**12)])  # its size changed: it moves
    assert shown(model)[-1] == "film 20.mp4"
    model.sort(KeysModel.SIZE, Qt.SortOrder.DescendingOrder)
    assert shown(model)[0] == "film 20.mp4"
    model.sort(KeysModel.NAME, Qt.SortOrder.AscendingOrder)
    assert shown(model) == sorted(shown(model), key=str.casefold)
    model.remove([key_row(3)["key"], key_row(50)["key"]])
    assert shown(model) == ["film 1.mp4", "film 100.mp4", "film 20.mp4"]


def test_a_selected_row_stays_selected_while_rows_arrive(qtbot):
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QTableView

    model = KeysModel()
    model.upsert([key_row(n) for n in range(1, 50)])
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.selectionModel().select(
        model.index(10, 0),
        QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
    )
    chosen = model.index(10, 0).data()
    model.upsert([key_row(n) for n in range(50, 200)])
    [selected] = view.selectionModel().selectedRows()
    assert selected.data() == chosen


def test_peers_and_transfers_models_within_qt_rules(qtmodeltester):
    peers = PeersModel()
    peers.replace_all(
        [
            {
                "peer_id": "a" * 64,
                "name": "Marie",
                "address": "127.0.0.1:4700",
                "online": True,
                "last_seen": time.time(),
                "received_bytes": 5_000_000,
                "sent_bytes": 0,
                "chunks_asked": 2,
            },
            {
                "peer_id": "b" * 64,
                "name": "ᐊᓂ",
                "address": None,
                "online": False,
                "last_seen": time.time() - 7200,
                "received_bytes": 0,
                "sent_bytes": 0,
                "chunks_asked": 0,
            },
        ]
    )
    peers.replace_all(
        [
            {
                "peer_id": "b" * 64,
                "name": "ᐊᓂ",
                "address": None,
                "online": True,
                "last_seen": time.time(),
                "received_bytes": 0,
                "sent_bytes": 0,
                "chunks_asked": 0,
            },
        ]
    )
    qtmodeltester.check(peers, force_py=True)
    assert peers.rowCount() == 1
    assert peers.index(0, PeersModel.SEEN).data() == "Online now"
    transfers = TransfersModel()
    transfers.replace_all(
        [
            {
                "id": "h1",
                "kind": "download",
                "hash": "h1",
                "name": "film.mp4",
                "size": 100,
                "done": 50,
                "state": "downloading",
                "rate": 10.0,
            },
            {
                "id": "share-1",
                "kind": "share",
                "name": "big.mov",
                "size": 1000,
                "done": 10,
                "state": "preparing",
                "rate": 5.0,
            },
        ]
    )
    qtmodeltester.check(transfers, force_py=True)
    assert transfers.index(0, TransfersModel.PROGRESS).data() == "50 B of 100 B"
    assert transfers.index(1, TransfersModel.STATE).data().startswith("Preparing to share")


def test_a_compact_row_reads_like_the_nodes_row():
    model = KeysModel()
    item = key_row(7, path="/tmp/film 7.mp4", sharers=["Marie", "Jean"])
    plain = {
        "key": b"hyper://archive-7",
        "text": "hyper://archive-7",
        "hash": None,
        "mine": True,
        "sharers": ["Marie", "Jean"],
        "first_seen": 5.0,
        "hidden": False,
        "state": "key",
    }
    model.upsert([item, plain])
    row = model.row(item["key"])
    assert row is not None
    for field, value in item.items():
        assert row.get(field) == (tuple(value) if field == "sharers" else value), field
    assert row["hash"] == item["hash"] and row.get("folder") is None
    other = model.row(plain["key"])
    assert other is not None
    assert other.get("text") == "hyper://archive-7" and other.get("hash") is None
    assert other["mine"] is True
    assert other.sharers is row.sharers  # one tuple of names for every row they share
    binary = dict(plain, key=bytes(range(20)), text=None)
    model.upsert([binary])
    assert model.row(binary["key"]).get("text") is None
    names = [model.index(r, KeysModel.NAME).data() for r in range(model.rowCount())]
    assert bytes(range(20)).hex() in names and "hyper://archive-7" in names
