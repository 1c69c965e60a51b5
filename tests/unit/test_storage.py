"""The state file and the identity file: durable, private, and honest about damage."""

import os
import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from natakanu_peer.errors import UsageError
from natakanu_peer.identity import Identity
from natakanu_peer.protocol.gossip_messages import OpKind
from natakanu_peer.storage import state
from natakanu_peer.storage.database import SCHEMA_VERSION, Database
from natakanu_peer.storage.identity_store import load_or_create_identity
from natakanu_peer.storage.paths import ENV_DATA_DIR, DataPaths, resolve_data_dir
from tests.gossip_helpers import TOPIC, op


def test_the_data_directory_comes_from_the_option_then_the_environment(tmp_path):
    assert resolve_data_dir(str(tmp_path / "x"), {}) == tmp_path / "x"
    assert resolve_data_dir(None, {ENV_DATA_DIR: str(tmp_path / "y")}) == tmp_path / "y"
    assert resolve_data_dir(None, {}).name == "natakanu-peer"
    paths = DataPaths(tmp_path / "z")
    paths.ensure()
    assert stat.S_IMODE(os.stat(paths.root).st_mode) == 0o700
    assert paths.default_downloads == tmp_path / "z" / "downloads"


def test_the_identity_is_created_once_readable_by_the_owner_only(tmp_path):
    path = tmp_path / "identity.key"
    first = load_or_create_identity(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_identity(path).public_key == first.public_key


def test_a_damaged_identity_file_is_reported_not_replaced(tmp_path):
    path = tmp_path / "identity.key"
    path.write_bytes(b"short")
    with pytest.raises(UsageError, match="damaged"):
        load_or_create_identity(path)
    assert path.read_bytes() == b"short"


def test_a_new_state_file_has_the_current_schema(tmp_path):
    db = Database.open(tmp_path / "state.db")
    assert db.notice is None
    assert db.call_sync(lambda c: c.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
    assert db.call_sync(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
    db.close()


def test_an_unreadable_state_file_is_kept_aside_and_the_user_told_where(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    db = Database.open(path)
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("state.db.unreadable-")]
    assert len(kept) == 1 and kept[0].read_bytes() == b"this is not a database" * 100
    assert db.notice is not None and str(kept[0]) in db.notice
    db.close()


def test_a_state_file_from_a_newer_version_is_not_touched_in_place(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db = Database.open(path)
    assert db.notice is not None and "newer version" in db.notice
    db.close()


def test_operations_and_coverage_come_back_after_a_restart(tmp_path):
    alice = Identity.generate()
    ops = [op(alice, 1, OpKind.ADVERTISE, b"a"), op(alice, 2, OpKind.DELETE, b"a")]
    db = Database.open(tmp_path / "state.db")
    db.call_sync(state.store_operations, TOPIC, alice.public_key, ops[:1], [(1, 1)])
    db.call_sync(state.store_operations, TOPIC, alice.public_key, ops[1:], [(1, 2)])
    db.close()
    db = Database.open(tmp_path / "state.db")
    stored = db.call_sync(state.load_operations, TOPIC)[alice.public_key]
    assert stored.ops == ops[1:], "the superseded advertise is not kept"
    assert stored.covered == [(1, 2)]
    db.close()


def test_writeback_can_be_started_early_without_changing_the_bytes(tmp_path: Path) -> None:
    from natakanu_peer.storage import durable

    target = tmp_path / "part"
    fd = os.open(target, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, b"abc" * 1000, 4096)
        durable.start_writeback(fd, 4096, 3000)
    finally:
        os.close(fd)
    assert target.read_bytes() == bytes(4096) + b"abc" * 1000
    if sys.platform.startswith("linux"):
        assert durable._SYNC_FILE_RANGE is not None  # the head start is really in use here
