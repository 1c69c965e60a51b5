"""Screenshots of the real application for the README, in English and in French.

Prepares a data directory as a person would have it after a while (a circle with two
other computers, their shared items, one of ours, a download paused half-way), then starts
the application under Xvfb twice, once per language, with ``--screenshots``, and writes
``docs/screenshots/{main,people,invite,settings}-{en,fr}.png``.

Everything runs on 127.0.0.1 with discovery off. Needs Xvfb (Debian: xvfb xauth) and the
Qt X11 libraries listed in the README. Usage: ``python tools/screenshots.py [OUT_DIR]``.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEER = [sys.executable, "-m", "natakanu_peer"]


def cli(data: Path, *args: str) -> str:
    done = subprocess.run(
        [*PEER, "--data-dir", str(data), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def daemon(data: Path, name: str, *peers: str) -> tuple[subprocess.Popen[str], str]:
    args = [*PEER, "--data-dir", str(data), "daemon", "--listen", "127.0.0.1:0", "--no-discovery"]
    args += ["--name", name]
    for peer in peers:
        args += ["--peer", peer]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()  # "natakanu-peer <id> listening on HOST:PORT"
    return process, line.split()[-1]


def random_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        left = size
        while left:
            piece = os.urandom(min(left, 8 << 20))
            out.write(piece)
            left -= len(piece)
    return path


def set_preferences(data: Path, **values: object) -> None:
    conn = sqlite3.connect(data / "state.db")
    with conn:
        row = conn.execute("SELECT value FROM settings WHERE name='preferences'").fetchone()
        prefs = json.loads(row[0]) if row else {}
        prefs.update(values)
        conn.execute(
            "INSERT OR REPLACE INTO settings VALUES ('preferences', ?)", (json.dumps(prefs),)
        )
    conn.close()


def wait_for(predicate, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.2)
    raise TimeoutError("the prepared peers did not get there in time")


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="natakanu-shots-"))
    daemons: list[subprocess.Popen[str]] = []
    try:
        files = work / "files"
        a_dir, b_dir, w_dir = work / "marie", work / "kakwa", work / "me"
        a, a_at = daemon(a_dir, "Marie Awashish")
        daemons.append(a)
        invitation = cli(a_dir, "invite")
        b, _ = daemon(b_dir, "ᑲᑿ Kakwa", a_at)
        daemons.append(b)
        cli(b_dir, "join", invitation)
        cli(a_dir, "share", str(random_file(files / "Nitassinan, court métrage.mp4", 700 << 20)))
        cli(a_dir, "share", str(random_file(files / "Chants du matin.wav", 48 << 20)))
        album = files / "Photos du rassemblement"
        for n in range(1, 6):
            random_file(album / f"IMG_{n:04}.jpg", 3 << 20)
        cli(a_dir, "share", str(album))
        cli(a_dir, "advertise", "--text", "hyper://7b0e55c1a2d34f0e9c8b1a2d3e4f5a6b7c8d9e0f1a2b3c")
        big = cli(b_dir, "share", str(random_file(files / "Entrevue avec un aîné.mov", 1500 << 20)))

        me, _ = daemon(w_dir, "Mon ordinateur", a_at)
        daemons.append(me)
        cli(w_dir, "join", invitation)
        cli(w_dir, "share", str(random_file(files / "Mon film de fin d'atelier.mp4", 90 << 20)))
        wait_for(lambda: len(cli(w_dir, "keys").splitlines()) >= 6)
        # A download paused part of the way, as after "Pause" in the window.
        fetching = subprocess.Popen([*PEER, "--data-dir", str(w_dir), "fetch", big])
        manifest_hash = big[-64:]

        wait_for(lambda: _progress(w_dir, manifest_hash) > 0.3)
        _control(w_dir, "pause", {"hash": manifest_hash})
        fetching.wait(30)
        me.terminate()
        me.wait(30)
        daemons.remove(me)
        for language in ("en", "fr"):
            set_preferences(
                w_dir, display_name="Mon ordinateur", language=language, tray_explained=True
            )
            xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"]
            window = ["window", "--listen", "127.0.0.1:0", "--no-discovery"]
            subprocess.run(
                [*xvfb, *PEER, "--data-dir", str(w_dir), *window, "--screenshots", str(out)],
                check=True,
                env=dict(os.environ, QT_QPA_PLATFORM="xcb"),
                timeout=120,
            )
        print(f"screenshots in {out}")
        return 0
    finally:
        for process in daemons:
            process.terminate()
        for process in daemons:
            process.wait(30)
        shutil.rmtree(work, ignore_errors=True)


def _control(data: Path, name: str, body: dict[str, object]) -> object:
    import asyncio

    from natakanu_peer.net.control import call

    return asyncio.run(call(data / "control.json", data, name, body))


def _progress(data: Path, manifest_hash: str) -> float:
    rows = _control(data, "transfers", {})
    assert isinstance(rows, list)
    for row in rows:
        if row["hash"] == manifest_hash and row.get("size"):
            return float(row["done"]) / float(row["size"])
    return 0.0


if __name__ == "__main__":
    sys.exit(main())
