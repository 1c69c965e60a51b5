"""The content store on real folders and a real state file: share, serve, download, resume."""

from __future__ import annotations

import errno
import os
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from natakanu_peer.errors import RemoteProtocolError, UsageError
from natakanu_peer.hashing import BLAKE3
from natakanu_peer.protocol.manifest import (
    CHUNK_SIZE,
    Manifest,
    ManifestFile,
    decode_manifest,
    encode_manifest,
    manifest_digest_of_key,
    media_type_for,
)
from natakanu_peer.storage import content
from natakanu_peer.storage.content import (
    ContentStore,
    DiskFullError,
    Download,
    NotEnoughSpaceError,
)
from natakanu_peer.storage.database import Database
from natakanu_peer.storage.paths import DataPaths

MiB = 1024 * 1024


def random_bytes(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


class Peers:
    """Data directories under one temporary folder, each with a real state file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, Database] = {}

    def paths(self, name: str) -> DataPaths:
        return DataPaths(self.root / name)

    def store(self, name: str, **options) -> ContentStore:
        paths = self.paths(name)
        paths.ensure()
        self._open[name] = Database.open(paths.database)
        return ContentStore(self._open[name], paths, **options)

    def reopen(self, name: str, **options) -> ContentStore:
        """Close the state file and open it again, as after a restart."""
        self._open.pop(name).close()
        return self.store(name, **options)

    def crash(self, name: str, **options) -> ContentStore:
        """The process dies: the state file is left without its clean-stop mark; restart."""
        db = self._open.pop(name)
        db.call_sync(lambda conn: conn.close())
        return self.store(name, **options)

    def db(self, name: str) -> sqlite3.Connection:
        """A second connection for the test to look at the rows."""
        return sqlite3.connect(self.paths(name).database)

    def close(self) -> None:
        for db in self._open.values():
            db.close()


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[Peers]:
    made = Peers(tmp_path)
    yield made
    made.close()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A folder to share: nested, with Unicode names, an empty file and multi-chunk files."""
    top = tmp_path / "ᓀᐦᐃᔭᐍᐏᐣ"
    (top / "films").mkdir(parents=True)
    (top / "films" / "été.mp4").write_bytes(random_bytes(2 * CHUNK_SIZE + 12_345, seed=2))
    (top / "films" / "short.mp4").write_bytes(random_bytes(1000, seed=3))
    (top / "empty.txt").write_bytes(b"")
    (top / "ᐃᓄᒃᑎᑐᑦ.pdf").write_bytes(random_bytes(CHUNK_SIZE, seed=4))
    return top


def rows(conn: sqlite3.Connection, table: str) -> int:
    return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


def disk_usage(folder: Path) -> int:
    return sum(p.lstat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


async def transfer(source: ContentStore, download: Download, indices: list[int]) -> None:
    for index in indices:
        chunk = await source.read_chunk(download.chunk_hash(index))
        assert chunk is not None
        await download.write_chunk(index, chunk)


async def start_download(
    sender: ContentStore, receiver: ContentStore, manifest_hash: str, target: Path
) -> Download:
    body = await sender.manifest_body(manifest_hash)
    assert body is not None
    await receiver.add_manifest(body)
    return await receiver.begin_download(manifest_hash, target)


def same_tree(a: Path, b: Path) -> bool:
    def listing(root: Path) -> dict[str, bytes | None]:
        return {
            str(p.relative_to(root)): p.read_bytes() if p.is_file() else None
            for p in sorted(root.rglob("*"))
        }

    return listing(a) == listing(b)


# ----------------------------------------------------------------------------- sharing


async def test_a_shared_file_is_read_back_chunk_by_chunk_and_verified(peers, tmp_path):
    data = random_bytes(2 * CHUNK_SIZE + 777)
    film = tmp_path / "film.mp4"
    film.write_bytes(data)
    store = peers.store("a")

    shared = await store.share(film)

    assert (shared.name, shared.total_size, shared.file_count) == ("film.mp4", len(data), 1)
    assert manifest_digest_of_key(shared.key) == bytes.fromhex(shared.manifest_hash)
    for place in shared.manifest.chunk_places():
        chunk = await store.read_chunk(place.hash)
        assert chunk == data[place.offset : place.offset + place.length]
        assert BLAKE3.hash_of(chunk) == place.hash
        assert await store.has_chunk(place.hash)


async def test_a_shared_folder_lists_its_files_in_path_order_and_serves_them(peers, source):
    store = peers.store("a")

    shared = await store.share(source)

    manifest = shared.manifest
    assert manifest.folder and manifest.name == "ᓀᐦᐃᔭᐍᐏᐣ"
    assert [f.path for f in manifest.files] == [
        "empty.txt",
        "films/short.mp4",
        "films/été.mp4",
        "ᐃᓄᒃᑎᑐᑦ.pdf",
    ]
    assert manifest.files[1].media_type == "video/mp4"
    for place in manifest.chunk_places():
        path = source.joinpath(*manifest.files[place.file_index].parts)
        expected = path.read_bytes()[place.offset : place.offset + place.length]
        assert await store.read_chunk(place.hash) == expected


async def test_sharing_reports_progress_up_to_the_total(peers, source):
    seen: list[tuple[int, int]] = []

    shared = await peers.store("a").share(source, lambda done, total: seen.append((done, total)))

    assert seen[-1] == (shared.total_size, shared.total_size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


async def test_the_manifest_is_stored_and_the_provide_log_lists_it_then_its_chunks(peers, source):
    store = peers.store("a")
    shared = await store.share(source)

    body = await store.manifest_body(shared.manifest_hash)
    log = await store.provided_since(-1)

    assert body is not None and decode_manifest(body) == shared.manifest
    assert BLAKE3.hash_of(body) == shared.manifest_hash
    hashes = [h for _, h in log]
    assert hashes[0] == shared.manifest_hash
    assert hashes[1:] == [p.hash for p in shared.manifest.chunk_places()]
    assert await store.provided_since(log[1][0]) == log[2:]
    assert await store.provided_since(log[-1][0]) == []


async def test_symlinks_and_special_files_are_skipped_and_reported_never_followed(
    peers, source, tmp_path
):
    secret = tmp_path / "secret.txt"
    secret.write_text("not for sharing")
    (source / "link.txt").symlink_to(secret)
    (source / "linked folder").symlink_to(tmp_path)
    os.mkfifo(source / "pipe")

    shared = await peers.store("a").share(source)

    assert {s.path for s in shared.skipped} == {"link.txt", "linked folder", "pipe"}
    assert all(s.reason for s in shared.skipped)
    assert "link.txt" not in {f.path for f in shared.manifest.files}
    assert shared.file_count == 4


async def test_names_unsafe_on_other_systems_are_skipped_with_a_reason(peers, source):
    (source / "aux.txt").write_text("a device name on Windows")
    (source / "what?.txt").write_text("a reserved character")

    shared = await peers.store("a").share(source)

    assert {s.path for s in shared.skipped} == {"aux.txt", "what?.txt"}


async def test_a_symbolic_link_given_to_share_is_refused(peers, tmp_path):
    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    with pytest.raises(UsageError, match="symbolic link"):
        await peers.store("a").share(tmp_path / "link.txt")


async def test_an_empty_folder_is_refused_with_a_sentence(peers, tmp_path):
    (tmp_path / "nothing").mkdir()
    with pytest.raises(UsageError, match="nothing to share"):
        await peers.store("a").share(tmp_path / "nothing")


async def test_a_file_that_changes_while_being_hashed_is_skipped(peers, source, monkeypatch):
    monkeypatch.setattr(content, "HASH_PIECE_BYTES", CHUNK_SIZE)
    monkeypatch.setattr(content, "HASH_WORKERS", 1)
    growing = source / "films" / "été.mp4"
    appended = False

    def append_once(done: int, total: int) -> None:
        nonlocal appended
        if done >= CHUNK_SIZE and not appended:  # after the first piece of the file
            appended = True
            with growing.open("ab") as f:
                f.write(b"more")

    shared = await peers.store("a").share(source, append_once)

    assert [s.path for s in shared.skipped] == ["films/été.mp4"]
    assert "changed" in shared.skipped[0].reason


async def test_sharing_the_same_content_again_gives_the_same_key_and_no_new_rows(peers, source):
    store = peers.store("a")
    first = await store.share(source)
    with peers.db("a") as conn:
        before = {t: rows(conn, t) for t in ("manifests", "provided_in", "shares", "share_files")}
        before["chunk_sources"] = rows(conn, "chunk_sources")

    again = await store.share(source)

    assert again.key == first.key
    with peers.db("a") as conn:
        after = {t: rows(conn, t) for t in before}
    assert after == before


async def test_sharing_makes_no_copy_of_the_file(peers, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(random_bytes(50 * 1000 * 1000))
    store = peers.store("a")
    data_dir = peers.paths("a").root
    before = disk_usage(data_dir)

    await store.share(big)

    assert disk_usage(data_dir) - before < 1 * MiB


# ----------------------------------------------------------------------------- serving


async def test_a_modified_source_is_never_served(peers, tmp_path):
    data = random_bytes(3 * CHUNK_SIZE)
    film = tmp_path / "film.mp4"
    film.write_bytes(data)
    store = peers.store("a")
    shared = await store.share(film)
    first, second, third = shared.manifest.chunk_places()
    stat = film.stat()
    with film.open("r+b") as f:  # same size, same time: only the bytes tell
        f.seek(second.offset + 10)
        f.write(b"tampered")
    os.utime(film, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    assert await store.read_chunk(second.hash) is None
    assert not await store.has_chunk(second.hash)
    assert await store.read_chunk(first.hash) == data[:CHUNK_SIZE]
    assert await store.read_chunk(third.hash) == data[2 * CHUNK_SIZE :]


async def test_a_deleted_source_is_never_served_and_is_forgotten(peers, source):
    store = peers.store("a")
    shared = await store.share(source)
    (source / "films" / "été.mp4").unlink()
    gone = [p.hash for p in shared.manifest.chunk_places() if p.file_index == 2]
    kept = [p.hash for p in shared.manifest.chunk_places() if p.file_index != 2]

    assert await store.read_chunk(gone[0]) is None
    for hash_ in gone:
        assert not await store.has_chunk(hash_)
    for hash_ in kept:
        assert await store.read_chunk(hash_) is not None


async def test_a_source_replaced_by_a_symlink_is_never_followed(peers, tmp_path):
    film = tmp_path / "film.mp4"
    film.write_bytes(random_bytes(1000))
    store = peers.store("a")
    shared = await store.share(film)
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(film.read_bytes())
    film.unlink()
    film.symlink_to(copy)

    assert await store.read_chunk(shared.manifest.chunk_places()[0].hash) is None


async def test_a_chunk_nobody_has_and_a_malformed_hash_read_as_nothing(peers):
    store = peers.store("a")
    assert await store.read_chunk("ab" * 32) is None
    assert await store.read_chunk("../../etc/passwd") is None
    assert not await store.has_chunk("ab" * 32)


# ---------------------------------------------------------------------------- downloads


async def test_a_folder_downloaded_from_another_store_is_byte_identical(peers, source, tmp_path):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    target = tmp_path / "downloads"

    download = await start_download(a, b, shared.manifest_hash, target)
    await transfer(a, download, download.missing())
    final = await download.finish()

    assert final == target / source.name
    assert same_tree(final, source)
    assert not (peers.paths("b").partial / shared.manifest_hash).exists()
    with peers.db("b") as conn:
        state, path = conn.execute("SELECT state, final_path FROM downloads").fetchone()
    assert (state, path) == ("complete", str(final))


async def test_a_finished_download_is_served_onwards(peers, tmp_path):
    film = tmp_path / "film.mp4"
    film.write_bytes(random_bytes(CHUNK_SIZE + 5))
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(film)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    await transfer(a, download, download.missing())
    await download.finish()

    assert [h for _, h in await b.provided_since(-1)] == [h for _, h in await a.provided_since(-1)]
    for place in shared.manifest.chunk_places():
        assert await b.read_chunk(place.hash) == await a.read_chunk(place.hash)


async def test_chunks_arrive_in_any_order(peers, source, tmp_path):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")

    await transfer(a, download, list(reversed(download.missing())))

    assert download.missing() == []
    assert same_tree(await download.finish(), source)


@pytest.mark.parametrize("shared_name", ["film.mp4", "folder"])
async def test_a_download_folder_on_another_disk_gets_a_complete_copy(
    peers, source, tmp_path, monkeypatch, shared_name
):
    film = tmp_path / "film.mp4"
    film.write_bytes(random_bytes(CHUNK_SIZE + 3))
    shared_path = film if shared_name == "film.mp4" else source
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(shared_path)
    target = tmp_path / "other disk"
    download = await start_download(a, b, shared.manifest_hash, target)
    await transfer(a, download, download.missing())
    partial = str(peers.paths("b").partial)

    def across_disks(real):
        def move(source: str, destination: str) -> None:
            if str(source).startswith(partial):
                raise OSError(errno.EXDEV, "Invalid cross-device link")
            real(source, destination)

        return move

    monkeypatch.setattr(os, "link", across_disks(os.link))
    monkeypatch.setattr(os, "rename", across_disks(os.rename))
    final = await download.finish()
    monkeypatch.undo()

    assert final == target / shared_path.name
    if shared_path.is_dir():
        assert same_tree(final, shared_path)
    else:
        assert final.read_bytes() == film.read_bytes()
    assert sorted(p.name for p in target.iterdir()) == [shared_path.name]
    assert list(peers.paths("b").partial.iterdir()) == []


async def test_beginning_a_download_under_way_gives_the_same_download(peers, source, tmp_path):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    first = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")

    again = await b.begin_download(shared.manifest_hash, tmp_path / "elsewhere")

    assert again is first


async def test_a_wrong_chunk_is_refused_and_nothing_is_written(peers, tmp_path):
    film = tmp_path / "film.mp4"
    film.write_bytes(random_bytes(2 * CHUNK_SIZE))
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(film)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    partial = peers.paths("b").partial / shared.manifest_hash / "film.mp4"

    with pytest.raises(RemoteProtocolError, match="does not match"):
        await download.write_chunk(0, random_bytes(CHUNK_SIZE, seed=99))
    with pytest.raises(RemoteProtocolError, match="bytes"):
        await download.write_chunk(0, b"short")
    # A caller's word that it checked the bytes counts only for this chunk's own hash.
    with pytest.raises(RemoteProtocolError, match="does not match"):
        await download.write_chunk(
            0, random_bytes(CHUNK_SIZE, seed=99), checked_as=download.chunk_hash(1)
        )

    assert download.missing() == [0, 1]
    assert partial.read_bytes() == bytes(2 * CHUNK_SIZE)
    with pytest.raises(UsageError, match="missing"):
        await download.finish()


async def test_a_download_needs_its_manifest_first(peers, tmp_path):
    with pytest.raises(UsageError, match="not known"):
        await peers.store("b").begin_download("ab" * 32, tmp_path / "downloads")


async def test_a_download_that_does_not_fit_is_refused_with_how_much_is_needed(
    peers, source, tmp_path
):
    a = peers.store("a")
    b = peers.store("b", free_space=lambda path: 1_000_000)
    shared = await a.share(source)

    with pytest.raises(NotEnoughSpaceError) as refused:
        await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")

    message = str(refused.value)
    assert "needs 12.6 MB" in message and "1.0 MB is free" in message
    assert isinstance(refused.value, UsageError)
    assert list(peers.paths("b").partial.iterdir()) == []
    with peers.db("b") as conn:
        assert rows(conn, "downloads") == 0


async def test_a_full_disk_midway_keeps_every_chunk_verified_so_far(
    peers, source, tmp_path, monkeypatch
):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    real_pwrite = os.pwrite

    def pwrite_full(fd: int, data: bytes, offset: int) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    first_two = download.missing()[:2]
    await transfer(a, download, first_two)
    monkeypatch.setattr(os, "pwrite", pwrite_full)  # the disk fills up from here on
    with pytest.raises(DiskFullError, match="full") as full:
        await transfer(a, download, download.missing()[:1])
    monkeypatch.setattr(os, "pwrite", real_pwrite)

    assert "2 of 5 chunks" in str(full.value)
    assert download.missing() == [i for i in range(5) if i not in first_two]
    b = peers.reopen("b")
    [resumed] = await b.resume_downloads()
    assert resumed.missing() == [i for i in range(5) if i not in first_two]
    await transfer(a, resumed, resumed.missing())
    assert same_tree(await resumed.finish(), source)


async def test_after_a_crash_the_chunks_already_written_are_not_fetched_again(
    peers, source, tmp_path
):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    await transfer(a, download, [0, 2])  # within one batch: written, not yet recorded
    # The process dies: its files close, nothing is flushed or recorded.
    download._close_files(sync=False)
    del download
    with peers.db("b") as conn:
        assert rows(conn, "download_chunks") == 0

    b = peers.reopen("b")
    [resumed] = await b.resume_downloads()

    assert resumed.missing() == [1, 3, 4]
    with peers.db("b") as conn:
        assert rows(conn, "download_chunks") == 2
    await transfer(a, resumed, resumed.missing())
    assert same_tree(await resumed.finish(), source)


async def test_after_a_crash_a_chunk_torn_in_the_middle_is_fetched_again(peers, tmp_path):
    film = tmp_path / "film.mp4"
    data = random_bytes(2 * CHUNK_SIZE)
    film.write_bytes(data)
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(film)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    await transfer(a, download, [0])
    await download.flush()
    download._close_files(sync=False)
    partial = peers.paths("b").partial / shared.manifest_hash / "film.mp4"
    with partial.open("r+b") as f:  # the second chunk, half written when the power went
        f.seek(CHUNK_SIZE)
        f.write(data[CHUNK_SIZE : CHUNK_SIZE + CHUNK_SIZE // 2])

    b = peers.reopen("b")
    [resumed] = await b.resume_downloads()

    assert resumed.missing() == [1]


async def test_after_a_power_cut_recorded_chunks_whose_bytes_were_lost_are_fetched_again(
    peers, tmp_path
):
    film = tmp_path / "film.mp4"
    data = random_bytes(3 * CHUNK_SIZE)
    film.write_bytes(data)
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(film)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    await transfer(a, download, [0, 1, 2])
    await download.flush()  # recorded, but (while transferring) not flushed to the disk
    download._close_files(sync=False)
    with peers.db("b") as conn:
        assert rows(conn, "download_chunks") == 3
    partial = peers.paths("b").partial / shared.manifest_hash / "film.mp4"
    with partial.open("r+b") as f:  # the cache held chunk 1 when the power went
        f.seek(CHUNK_SIZE)
        f.write(bytes(CHUNK_SIZE))

    b = peers.crash("b")
    [resumed] = await b.resume_downloads()

    assert resumed.missing() == [1]
    await transfer(a, resumed, [1])
    assert (await resumed.finish()).read_bytes() == data


async def test_a_crash_after_the_move_into_place_is_completed_at_the_next_start(
    peers, tmp_path, monkeypatch
):
    film = tmp_path / "film.mp4"
    film.write_bytes(random_bytes(1000))
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(film)
    target = tmp_path / "downloads"
    download = await start_download(a, b, shared.manifest_hash, target)
    await transfer(a, download, download.missing())

    class Crash(BaseException):
        pass

    real_fsync_dir = content.fsync_directory

    def crash_when_flushing_the_target(path: Path) -> None:
        if path == target:  # the move is done; recording it is not
            raise Crash
        real_fsync_dir(path)

    monkeypatch.setattr(content, "fsync_directory", crash_when_flushing_the_target)
    with pytest.raises(Crash):
        await download.finish()
    monkeypatch.undo()
    download._close_files(sync=False)

    b = peers.reopen("b")
    assert await b.resume_downloads() == []

    assert (target / "film.mp4").read_bytes() == film.read_bytes()
    assert list(target.iterdir()) == [target / "film.mp4"]
    with peers.db("b") as conn:
        assert conn.execute("SELECT state FROM downloads").fetchone() == ("complete",)


async def test_a_paused_download_stays_paused_until_opened_again(peers, source, tmp_path):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    await transfer(a, download, [1])
    await download.pause()

    b = peers.reopen("b")
    assert await b.resume_downloads() == []
    reopened = await b.open_download(shared.manifest_hash)

    assert reopened is not None and reopened.missing() == [0, 2, 3, 4]


async def test_cancelling_deletes_the_partial_files_and_the_row(peers, source, tmp_path):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    download = await start_download(a, b, shared.manifest_hash, tmp_path / "downloads")
    await transfer(a, download, [0])

    await download.cancel()

    assert list(peers.paths("b").partial.iterdir()) == []
    with peers.db("b") as conn:
        assert rows(conn, "downloads") == rows(conn, "download_chunks") == 0
    assert not (tmp_path / "downloads" / source.name).exists()


async def test_leftovers_of_a_crash_in_the_partial_folder_are_swept(peers):
    b = peers.store("b")
    partial = peers.paths("b").partial
    (partial / ("ab" * 32)).mkdir()
    (partial / (("cd" * 32) + ".creating")).mkdir()
    (partial / "not ours").mkdir()

    await b.resume_downloads()

    assert [p.name for p in partial.iterdir()] == ["not ours"]


# ------------------------------------------------------------------------------ names


async def test_a_name_already_taken_gets_a_number(peers, tmp_path):
    film = tmp_path / "film.mp4"
    film.write_bytes(random_bytes(1000))
    a = peers.store("a")
    shared = await a.share(film)
    target = tmp_path / "downloads"
    target.mkdir()
    (target / "film.mp4").write_text("mine, keep it")
    finals = []
    for name in ("b", "c"):
        download = await start_download(a, peers.store(name), shared.manifest_hash, target)
        await transfer(a, download, download.missing())
        finals.append(await download.finish())

    assert finals == [target / "film (2).mp4", target / "film (3).mp4"]
    assert (target / "film.mp4").read_text() == "mine, keep it"
    assert all(f.read_bytes() == film.read_bytes() for f in finals)


async def test_a_folder_name_already_taken_gets_a_number(peers, source, tmp_path):
    a, b = peers.store("a"), peers.store("b")
    shared = await a.share(source)
    target = tmp_path / "downloads"
    (target / source.name).mkdir(parents=True)

    download = await start_download(a, b, shared.manifest_hash, target)
    await transfer(a, download, download.missing())

    assert await download.finish() == target / f"{source.name} (2)"


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("..", "../escaped.txt"),
        ("top", "../../escaped.txt"),
        ("top", "/tmp/escaped.txt"),
        ("top", "sub/../../escaped.txt"),
        ("top", "C:/escaped.txt"),
        ("../../escaped", "x.txt"),
        ("top", "CON"),
    ],
)
async def test_a_hostile_manifest_never_writes_outside_the_download_folder(
    peers, tmp_path, name, path
):
    hostile = Manifest(name, True, (ManifestFile(path, 1, media_type_for("x"), ("ab" * 32,)),))
    body = encode_manifest(hostile)
    digest = BLAKE3.hash_of(body)
    b = peers.store("b")
    before = sorted(tmp_path.rglob("*"))

    with pytest.raises(RemoteProtocolError):
        await b.add_manifest(body)
    # Even if one got into the state file some other way, it is checked again before use.
    with peers.db("b") as conn:
        conn.execute("INSERT INTO manifests VALUES (?, ?, 0)", (digest, body))
    with pytest.raises(RemoteProtocolError):
        await b.begin_download(digest, tmp_path / "downloads")

    new = set(tmp_path.rglob("*")) - set(before)
    assert {p for p in new if not p.name.startswith("state.db")} <= {tmp_path / "downloads"}
    assert not list(tmp_path.rglob("escaped*"))
