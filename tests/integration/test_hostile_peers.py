"""A dishonest peer cannot make a node write outside its downloads folder or finish wrong data."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from natakanu_peer.protocol.manifest import CHUNK_SIZE, manifest_key
from tests.integration.daemons import Daemon, wait_for
from tests.integration.hostile_peer import HostilePeer, blake3_hex


def manifest_body(name: str, path: str, size: int, chunks: list[str], kind: str = "file") -> bytes:
    document = {
        "chunk_size": CHUNK_SIZE,
        "files": [{"chunks": chunks, "media_type": "video/mp4", "path": path, "size": size}],
        "hash": "blake3",
        "kind": kind,
        "name": name,
        "version": 1,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def fetch(victim: Daemon, body: bytes, timeout: float) -> subprocess.CompletedProcess[str]:
    key = manifest_key(bytes.fromhex(blake3_hex(body))).hex()
    return subprocess.run(
        [sys.executable, "-m", "natakanu_peer", "--data-dir", str(victim.data_dir), "fetch", key],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_fetch(victim: Daemon, key: str) -> subprocess.Popen[str]:
    """A ``fetch`` left waiting in the background (the test ends it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "natakanu_peer", "--data-dir", str(victim.data_dir), "fetch", key],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def all_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("kind", "name", "path", "size", "reason"),
    [
        ("folder", "evil", "../../outside.txt", 5, ".."),
        ("folder", "evil", "/etc/natakanu-owned", 5, "absolute"),
        ("folder", "evil", "a/../../outside.txt", 5, ".."),
        ("file", "CON", "CON", 5, "device"),
        ("file", "huge.bin", "huge.bin", 10**18, "size"),
    ],
    ids=["dot-dot", "absolute", "nested dot-dot", "device name", "absurd size"],
)
def test_a_hostile_manifest_is_refused_with_a_reason_and_writes_nothing(
    tmp_path, kind, name, path, size, reason
):
    content = b"owned"
    chunks = [blake3_hex(content)] if size < CHUNK_SIZE else [blake3_hex(content)] * 3
    body = manifest_body(name, path, size, chunks, kind)
    served = {blake3_hex(body): body, blake3_hex(content): content}
    with HostilePeer(served.get) as mallory:
        victim = Daemon(
            tmp_path / "victim", peers=[mallory.address], join=mallory.invitation()
        ).start()
        try:
            before = all_files(tmp_path)
            done = fetch(victim, body, timeout=60)
            assert done.returncode != 0
            assert "natakanu-peer:" in done.stderr and len(done.stderr.strip().splitlines()) == 1
            assert reason in done.stderr, done.stderr
            after = all_files(tmp_path) - before
            assert all(not p.startswith("victim/downloads") for p in after)
            assert not (tmp_path / "outside.txt").exists()
            assert not Path("/etc/natakanu-owned").exists()
        finally:
            victim.stop()


def test_a_peer_that_keeps_delivering_hostile_manifests_is_refused(tmp_path):
    bodies = [
        manifest_body("evil", f"../../outside-{n}.txt", 5, [blake3_hex(b"owned")], "folder")
        for n in range(3)
    ]
    served = {blake3_hex(body): body for body in bodies}
    with HostilePeer(served.get) as mallory:
        victim = Daemon(
            tmp_path / "victim", peers=[mallory.address], join=mallory.invitation()
        ).start()
        try:
            mallory_id = mallory.identity.peer_id
            for body in bodies:
                assert fetch(victim, body, timeout=60).returncode != 0
            refused = wait_for(
                lambda: next(
                    (p["refused"] for p in victim.json("peers") if p["peer_id"] == mallory_id),
                    None,
                ),
                timeout=20,
            )
            assert "manifest that breaks the rules" in refused["reason"]
            assert ".." in refused["reason"]
        finally:
            victim.stop()


def test_wrong_bytes_for_a_chunk_close_the_link_and_never_complete(tmp_path):
    content = b"the real film" * 1000
    body = manifest_body("film.mp4", "film.mp4", len(content), [blake3_hex(content)])
    served = {blake3_hex(body): body, blake3_hex(content): b"something else entirely"}
    with HostilePeer(served.get, provides=tuple(served)) as mallory:
        victim = Daemon(
            tmp_path / "victim", peers=[mallory.address], join=mallory.invitation()
        ).start()
        try:
            key = manifest_key(bytes.fromhex(blake3_hex(body))).hex()
            waiting = start_fetch(victim, key)
            assert mallory.disconnected.wait(30), "the lying peer was never disconnected"
            waiting.kill()
            waiting.communicate(timeout=10)
            assert "does not match" in victim.log()
            downloads = victim.data_dir / "downloads"
            assert not downloads.exists() or not any(downloads.iterdir())
        finally:
            victim.stop()


def test_a_peer_that_keeps_sending_wrong_content_is_refused_and_the_user_sees_why(tmp_path):
    content = b"the real recording" * 1000
    body = manifest_body("chant.ogg", "chant.ogg", len(content), [blake3_hex(content)])
    served = {blake3_hex(body): body, blake3_hex(content): b"noise " * 3000}
    with HostilePeer(served.get, provides=tuple(served)) as mallory:
        victim = Daemon(
            tmp_path / "victim", peers=[mallory.address], join=mallory.invitation()
        ).start()
        try:
            key = manifest_key(bytes.fromhex(blake3_hex(body))).hex()
            waiting = start_fetch(victim, key)
            mallory_id = mallory.identity.peer_id

            def refusal():
                for peer in victim.json("peers"):
                    if peer["peer_id"] == mallory_id and peer["refused"]:
                        return peer["refused"]
                return None

            refused = wait_for(refusal, timeout=40)
            assert "does not match" in refused["reason"]
            assert refused["until"] > time.time() + 3000  # about an hour
            links = mallory.links
            assert links == 3  # three chances, no more
            time.sleep(5)  # the victim keeps dialling its given address...
            assert mallory.links == links  # ...but the refused peer gets no link
            assert "refused until" in victim.cli("peers")
            waiting.kill()
            waiting.communicate(timeout=10)
        finally:
            victim.stop()
