"""The item models keep Qt's rules (qtmodeltester) while snapshots are applied, and the
filter hides what a person hid."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from natakanu_peer.gui.models import (
    FILTER_ROLE,
    KeysFilter,
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


def test_filter_matches_text_and_leaves_out_hidden_rows(qtmodeltester):
    model = KeysModel()
    model.upsert([key_row(1), key_row(2, hidden=True), key_row(3, name="Chants du matin.wav")])
    proxy = KeysFilter()
    proxy.setSourceModel(model)
    qtmodeltester.check(proxy, force_py=True)
    shown = lambda: sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount()))  # noqa: E731
    assert shown() == ["Chants du matin.wav", "film 1.mp4"]
    proxy.set_text("CHANTS")
    assert shown() == ["Chants du matin.wav"]
    proxy.set_text("")
    proxy.set_show_hidden(True)
    assert shown() == ["Chants du matin.wav", "film 1.mp4", "film 2.mp4"]
    assert model.index(1, 0).data(FILTER_ROLE).startswith("\x01")


def test_sorting_by_size_is_numeric():
    model = KeysModel()
    model.upsert([key_row(n) for n in (3, 20, 100)])
    proxy = KeysFilter()
    proxy.setSourceModel(model)
    proxy.sort(KeysModel.SIZE, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 0).data() for r in range(3)] == [
        "film 3.mp4",
        "film 20.mp4",
        "film 100.mp4",
    ]


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
