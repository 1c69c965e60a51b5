"""Benchmarks of the window: cold start, event-loop lag under load, a list of 100,000 keys.

- Cold start: a fresh process of ``natakanu-peer window`` until its first paint (it prints
  the moment), median of several starts; side by side with the floor of Python and Qt
  alone (a process that shows an empty window and exits at its first paint).
- Lag: a timer probe on the window's event loop (asyncio sleeps of 5 ms on the qasync loop,
  which is Qt's) while a 2 GiB file is dropped and hashed and 10,000 keys arrive from a peer
  (a daemon process); the 99th percentile and the maximum of how late the probe woke.
- 100,000 keys: the window's own keys model, filter and table, filled with 100,000 rows;
  then updates of 1,000 rows applied (new rows, and rows changed), each timed until the
  table has processed it; and the process's resident memory.

Everything runs on 127.0.0.1 with discovery off, offscreen.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYTHON = sys.executable
_PEER = [PYTHON, "-m", "natakanu_peer"]
_QUIET_LISTEN = ["--listen", "127.0.0.1:0", "--no-discovery"]

_FLOOR = """
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1000, 640)
class Painted(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            print(f"painted {time.monotonic():.6f}", flush=True)
            QTimer.singleShot(0, app.quit)
        return False
window.installEventFilter(Painted(window))
window.show()
app.exec()
"""


def _time_to_paint(args: list[str], env: dict[str, str]) -> float:
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    painted = None
    for line in process.stdout:
        if line.startswith("painted "):
            painted = float(line.split()[1])
            break
    process.wait(60)
    if painted is None:
        raise RuntimeError(f"{args} never painted")
    return painted - started


@dataclass
class ColdStart:
    window_seconds: list[float] = field(default_factory=list)
    floor_seconds: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.window_seconds)

    @property
    def floor(self) -> float:
        return statistics.median(self.floor_seconds)


def cold_start(runs: int = 7) -> ColdStart:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = ColdStart()
    with tempfile.TemporaryDirectory(prefix="natakanu-start-") as root:
        window = [PYTHON, "-m", "natakanu_peer", "--data-dir", str(Path(root) / "peer")]
        window += ["window", "--listen", "127.0.0.1:0", "--no-discovery", "--exit-after-paint"]
        _time_to_paint(window, env)  # the first start makes the identity and the state file
        for _ in range(runs):  # taking turns, so that both meet the same machine
            result.window_seconds.append(_time_to_paint(window, env))
            result.floor_seconds.append(_time_to_paint([PYTHON, "-c", _FLOOR], env))
    return result


# ------------------------------------------------------------------ lag under load


@dataclass
class Lag:
    samples: list[float]
    hashed_bytes: int
    hash_seconds: float
    keys_seconds: float
    keys: int
    worst: list[tuple[int, float]]  # the longest lags (ms) and when they ended (s)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def _prepare_peer(folder: Path, count: int) -> str:
    """A peer's data directory holding ``count`` keys of its own; its circle's invitation."""
    from ..app.runtime import running_node

    async with running_node(folder, listen=("127.0.0.1", 0)) as node:
        for start in range(0, count, 500):
            async with node._gossip_lock:
                for n in range(start, min(count, start + 500)):
                    await node._apply_gossip(node.gossip.advertise(f"archive {n:06}".encode()))
        return str((await node.invite())["invitation"])


def _prepare_peer_elsewhere(folder: Path, count: int) -> str:
    """``_prepare_peer`` in a process of its own: its memory is not the window's."""
    done = subprocess.run(
        [PYTHON, "-m", "natakanu_peer.bench.window", "prepare", str(folder), str(count)],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@dataclass
class _Stage:
    """A window with its node (not started yet) and a daemon holding keys, on 127.0.0.1."""

    root: Path
    loop: Any
    bridge: Any
    window: Any
    invitation: str  # to the daemon's circle, without addresses
    peer_address: str


@contextlib.contextmanager
def _stage(prefix: str, keys: int) -> Iterator[_Stage]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    from dataclasses import replace

    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from ..app.runtime import keep_large_buffers
    from ..gui.bridge import NodeBridge
    from ..gui.window import MainWindow
    from ..protocol.circle import decode_invitation, encode_invitation

    keep_large_buffers()
    root = Path(tempfile.mkdtemp(prefix=prefix))
    peer: subprocess.Popen[str] | None = None
    try:
        invitation = _prepare_peer_elsewhere(root / "peer", keys)
        bare = encode_invitation(replace(decode_invitation(invitation), hints=()))
        peer = subprocess.Popen(
            [*_PEER, "--data-dir", str(root / "peer"), "daemon", *_QUIET_LISTEN],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert peer.stdout is not None
        peer_address = peer.stdout.readline().split()[-1]
        app = QApplication.instance() or QApplication([])
        loop = qasync.QEventLoop(app)
        bridge = NodeBridge(root / "me", discovery=False)
        window = MainWindow(bridge, QIcon())
        window.show()
        try:
            yield _Stage(root, loop, bridge, window, bare, peer_address)
        finally:
            window.quitting = True
            window.close()
            loop.close()
    finally:
        if peer is not None:
            peer.terminate()
            peer.wait(30)
        shutil.rmtree(root, ignore_errors=True)


def lag_under_load(file_bytes: int = 2 << 30, keys: int = 10_000) -> Lag:
    with _stage("natakanu-lag-", keys) as stage:
        loop, bridge, window = stage.loop, stage.bridge, stage.window
        bare, peer_address = stage.invitation, stage.peer_address
        film = stage.root / "film.mov"
        _write_file(film, file_bytes)

        async def scenario() -> Lag:
            runner = asyncio.ensure_future(bridge.run(("127.0.0.1", 0)))
            while bridge.node is None:
                await asyncio.sleep(0.05)
            node = bridge.node
            await node.join(bare)
            await asyncio.sleep(1.0)  # settle: the first poll, the first paint
            samples: list[float] = []
            stamps: list[float] = []
            probing = True

            async def probe() -> None:
                interval = 0.005
                while probing:
                    started = loop.time()
                    await asyncio.sleep(interval)
                    samples.append(max(0.0, loop.time() - started - interval))
                    stamps.append(loop.time())

            prober = asyncio.ensure_future(probe())
            await asyncio.sleep(0.5)
            began = time.monotonic()
            loop_began = loop.time()
            window.share_paths([film])
            await node.add_peer(peer_address)
            keys_done = hash_done = 0.0
            while not (keys_done and hash_done):
                await asyncio.sleep(0.05)
                if not keys_done and len(window.keys.rows()) >= keys:
                    keys_done = time.monotonic() - began
                if not hash_done and any(
                    r.get("state") == "shared" for r in window.keys.rows() if r.get("name")
                ):
                    hash_done = time.monotonic() - began
                if time.monotonic() - began > 300:
                    raise RuntimeError("the load did not finish in 5 minutes")
            probing = False
            await prober
            bridge.stop()
            await runner
            worst = sorted(zip(samples, stamps, strict=True))[-6:]
            return Lag(
                samples,
                file_bytes,
                hash_done,
                keys_done,
                keys,
                [(round(1000 * lag), round(at - loop_began, 2)) for lag, at in worst],
            )

        result: Lag = loop.run_until_complete(scenario())
        return result


def _write_file(path: Path, size: int) -> None:
    """A file of distinct chunks (random 4 MiB blocks repeated with a counter)."""
    block = os.urandom(4 << 20)
    with path.open("wb") as out:
        written = 0
        n = 0
        while written < size:
            piece = n.to_bytes(8, "little") + block[8:]
            piece = piece[: size - written]
            out.write(piece)
            written += len(piece)
            n += 1


# ------------------------------------------------------------------ 100,000 keys


@dataclass
class BigList:
    rows: int
    fill_seconds: float  # from linking to the peer until the window lists every key
    insert_ms: list[float]
    change_ms: list[float]
    resident_mb: float  # the window's process, with the node and its 100,000 keys
    peak_mb: float


def _rows(start: int, count: int, now: float) -> list[dict[str, Any]]:
    """Rows as the bridge hands them to the model (the node's ``describe_keys``)."""
    from ..protocol.manifest import manifest_key

    rows = []
    for n in range(start, start + count):
        digest = n.to_bytes(32, "big")
        shared = n % 3 == 0
        rows.append(
            {
                "key": manifest_key(digest) if shared else f"hyper://archive-{n:08}".encode(),
                "text": None if shared else f"hyper://archive-{n:08}",
                "hash": digest.hex() if shared else None,
                "mine": False,
                "sharers": [f"Membre {n % 40}"],
                "first_seen": now - n,
                "hidden": False,
                "state": "available" if shared else "key",
                "name": f"Enregistrement {n:06}.wav" if shared else None,
                "size": 1_000_000 + n if shared else None,
            }
        )
    return rows


def _resident_mb() -> float:
    from .transfer import resident_kib

    return resident_kib(os.getpid()) / 1024


def big_list(total: int = 100_000, batch: int = 1_000, rounds: int = 5) -> BigList:
    """The window with ``total`` keys from a peer; updates of ``batch`` rows timed."""
    with _stage("natakanu-list-", total) as stage:
        bridge, window = stage.bridge, stage.window
        bare, peer_address = stage.invitation, stage.peer_address

        async def scenario() -> BigList:
            runner = asyncio.ensure_future(bridge.run(("127.0.0.1", 0)))
            while bridge.node is None:
                await asyncio.sleep(0.05)
            await bridge.node.join(bare)
            began = time.monotonic()
            await bridge.node.add_peer(peer_address)
            while len(window.keys.rows()) < total:
                await asyncio.sleep(0.05)
                if time.monotonic() - began > 600:
                    raise RuntimeError("the keys did not arrive in 10 minutes")
            fill = time.monotonic() - began
            await asyncio.sleep(1.0)
            view = window.keys_view.viewport()
            now = time.time()
            inserts, changes = [], []
            made = 10 * total
            for _ in range(rounds):
                fresh = _rows(made, batch, now)
                made += batch
                started = time.perf_counter()
                window.keys.upsert(fresh)
                view.repaint()  # until the table has drawn the result
                inserts.append(1000 * (time.perf_counter() - started))
                await asyncio.sleep(0.2)
                changed = [dict(row, state="saved") for row in fresh]
                started = time.perf_counter()
                window.keys.upsert(changed)
                view.repaint()
                changes.append(1000 * (time.perf_counter() - started))
                await asyncio.sleep(0.2)
            resident = _resident_mb()
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            bridge.stop()
            await runner
            return BigList(len(window.keys.rows()), fill, inserts, changes, resident, peak)

        result: BigList = stage.loop.run_until_complete(scenario())
        return result


def big_list_alone(total: int = 100_000) -> BigList:
    """``big_list`` in a fresh process: the resident memory is that of a window holding the
    keys, not of one that also ran the other benchmarks (hashing gigabytes leaves buffers
    kept for reuse)."""
    done = subprocess.run(
        [PYTHON, "-m", "natakanu_peer.bench.window", "list", str(total)],
        capture_output=True,
        text=True,
        check=True,
    )
    return BigList(**json.loads(done.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "prepare":
        print(asyncio.run(_prepare_peer(Path(sys.argv[2]), int(sys.argv[3]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "list":
        print(json.dumps(dataclasses.asdict(big_list(int(sys.argv[2])))))
