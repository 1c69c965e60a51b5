"""SIGKILLs at random moments: three daemons of one circle on 127.0.0.1 are killed again and
again while they fetch, share and change keys, and what they kept is checked each time.

After every kill, before the daemon starts again: its state file passes
``PRAGMA integrity_check``; no file in any downloads folder differs from what was shared
(nothing half-written is presented as complete); the chunks whole on its disk are noted for
each download it had under way. After the restart: every key it acknowledged (and did not
later touch without an answer) is as it acknowledged it, and a download's whole chunks are
found again rather than fetched again (read from the daemon's log: "N chunks found on
disk"). At the end every fetch that was started completes, byte-identical, and the three
daemons list the same keys.

This module must never talk to anything but its own daemons on 127.0.0.1 (discovery off),
nor write outside the folder it is given.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..protocol.manifest import CHUNK_SIZE
from .peers import PYTHON, Daemon, sha256_of, wait_for


@dataclass
class KillReport:
    kills: int = 0
    killed_while: dict[str, int] = field(default_factory=dict)  # activity -> kills
    integrity_failures: list[str] = field(default_factory=list)
    corrupt_files: list[str] = field(default_factory=list)
    lost_keys: list[str] = field(default_factory=list)
    interrupted_downloads: int = 0  # downloads under way in a killed daemon
    chunks_on_disk: int = 0  # whole chunks those downloads had on disk at the kills
    chunks_found_again: int = 0  # of those, found again at restart (not fetched again)
    partly_written_bytes: int = 0  # bytes of chunks cut short by the kills (fetched again)
    partly_written_chunks: int = 0
    most_again_in_one: int = 0  # chunks downloaded again, in the worst interrupted download
    fetches: int = 0  # fetches started, all completed at the end
    fetches_incomplete: list[str] = field(default_factory=list)
    keys_acknowledged: int = 0
    converged: bool = False
    seconds: float = 0.0

    @property
    def chunks_fetched_again(self) -> int:
        return self.chunks_on_disk - self.chunks_found_again

    @property
    def ok(self) -> bool:
        return (
            not self.integrity_failures
            and not self.corrupt_files
            and not self.lost_keys
            and not self.fetches_incomplete
            and self.converged
            and self.chunks_fetched_again + self.partly_written_chunks <= self.interrupted_downloads
        )


class _KeyWriter(threading.Thread):
    """Advertises and deletes keys on one daemon as fast as it answers, until it dies or
    is told to stop; remembers what was acknowledged and what was left without an answer."""

    def __init__(self, daemon: Daemon, prefix: str, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.target, self.prefix, self.rng = daemon, prefix, rng
        self.acknowledged: list[tuple[str, str]] = []  # (operation, key hex) in order
        self.unanswered: str | None = None  # the key of the request in flight at the end
        self.halt = threading.Event()

    def run(self) -> None:
        asyncio.run(self._write())

    async def _write(self) -> None:
        from ..net.control import call

        control = self.target.data_dir / "control.json"
        mine: list[str] = []
        n = 0
        while not self.halt.is_set():
            if mine and self.rng.random() < 0.3:
                key = mine.pop(self.rng.randrange(len(mine)))
                operation, body = "delete", {"key": key}
            else:
                n += 1
                text = f"{self.prefix} {n}"
                key, operation, body = text.encode().hex(), "advertise", {"text": text}
            self.unanswered = key
            try:
                answer = await call(control, self.target.data_dir, operation, body)
            except Exception:
                return  # the daemon died: this request may or may not have been applied
            self.unanswered = None
            self.acknowledged.append((operation, str(answer["key"])))
            if operation == "advertise":
                mine.append(str(answer["key"]))


@dataclass
class _Shared:
    key: str
    sha256: str
    name: str
    owner: str  # the daemon's name


class KillSuite:
    def __init__(self, root: Path, seed: int, file_mb: tuple[int, int] = (6, 40)) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.file_mb = file_mb
        self.report = KillReport()
        self.daemons: dict[str, Daemon] = {}
        self.shared: list[_Shared] = []
        self.expected_hashes: set[str] = set()
        self.fetched: set[tuple[str, str]] = set()  # (daemon, key) fetches started
        self.key_state: dict[str, dict[str, str]] = {}  # daemon -> key -> last acknowledged
        self.unsure: dict[str, set[str]] = {}  # daemon -> keys with a request unanswered
        self._hashed: dict[tuple[str, int, int], str] = {}

    # ------------------------------------------------------------------ set-up

    def start(self) -> None:
        a = Daemon(self.root / "a", name="A").start()
        b = Daemon(self.root / "b", peers=[a.address], name="B", circle_of=a).start()
        c = Daemon(self.root / "c", peers=[a.address, b.address], name="C", circle_of=a)
        c.start()
        for daemon in (a, b, c):
            daemon.circle_of = daemon.join = None  # restarts must not join again
            self.daemons[daemon.name] = daemon
            self.key_state[daemon.name] = {}
            self.unsure[daemon.name] = set()
        wait_for(lambda: all(len(self._online(d)) == 2 for d in self.daemons.values()), 30)
        for owner in ("A", "B"):
            for n in range(3):
                self._share_new(owner, f"film {owner}{n}.bin")

    def _online(self, daemon: Daemon) -> list[Any]:
        return [p for p in daemon.json("peers") if p["online"]]

    def _share_new(self, owner: str, name: str, wait: bool = True) -> subprocess.Popen[str]:
        low, high = self.file_mb
        source = self.root / "sources" / owner / name
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(os.urandom(self.rng.randint(low, high) * 1024 * 1024))
        digest = sha256_of(source)
        self.expected_hashes.add(digest)
        daemon = self.daemons[owner]
        process = subprocess.Popen(
            [PYTHON, "-m", "natakanu_peer", "--data-dir", str(daemon.data_dir), "share",
             str(source)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        process.share_info = (owner, name, digest)  # type: ignore[attr-defined]
        if wait:
            self._collect_share(process)
        return process

    def _collect_share(self, process: subprocess.Popen[str]) -> None:
        out, _ = process.communicate(timeout=300)
        owner, name, digest = process.share_info  # type: ignore[attr-defined]
        if process.returncode == 0 and out.strip():
            key = out.strip().splitlines()[-1]
            self.shared.append(_Shared(key, digest, name, owner))
            self.key_state[owner][key] = "advertise"  # acknowledged: it printed the key

    # ------------------------------------------------------------------ one round

    def round(self) -> None:
        rng = self.rng
        names = sorted(self.daemons)
        activities: list[str] = []
        fetches: list[tuple[str, subprocess.Popen[bytes]]] = []
        shares: list[subprocess.Popen[str]] = []
        writers: list[_KeyWriter] = []
        for _ in range(rng.randint(1, 3)):
            what = rng.choice(("fetch", "fetch", "share", "keys"))
            who = rng.choice(names)
            if what == "fetch":
                wanted = [s for s in self.shared if s.owner != who]
                if not wanted:
                    continue
                item = rng.choice(wanted)
                self.fetched.add((who, item.key))
                daemon = self.daemons[who]
                fetches.append(
                    (who, subprocess.Popen(
                        [PYTHON, "-m", "natakanu_peer", "--data-dir", str(daemon.data_dir),
                         "fetch", item.key, "--to", str(daemon.data_dir / "downloads")],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    ))
                )  # fmt: skip
            elif what == "share":
                n = len([s for s in self.shared if s.owner == who])
                shares.append(self._share_new(who, f"film {who}{n}-{rng.randrange(10**6)}.bin",
                                              wait=False))  # fmt: skip
            else:
                writer = _KeyWriter(self.daemons[who], f"{who} key {rng.randrange(10**9)}", rng)
                writer.start()
                writers.append(writer)
            activities.append(what)
        if fetches and rng.random() < 0.6:
            # Kill a fetcher mid-transfer: transfers on 127.0.0.1 take a fraction of a
            # second, which a delay drawn blindly would mostly miss.
            victim_name = rng.choice([who for who, _ in fetches])
            partial = self.daemons[victim_name].data_dir / "partial"
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not (
                partial.is_dir() and any(p.is_file() for p in partial.rglob("*"))
            ):
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.05))
        else:
            time.sleep(rng.uniform(0.05, 1.5))
            victim_name = rng.choice(names)
        victim = self.daemons[victim_name]
        under_way = self._downloads_under_way(victim)
        victim.kill()
        self.report.kills += 1
        for what in set(activities) or {"idle"}:
            self.report.killed_while[what] = self.report.killed_while.get(what, 0) + 1
        for writer in writers:
            writer.halt.set()
            writer.join(30)
            self._note_keys(writer)
        for process in shares:
            try:
                self._collect_share(process)
            except subprocess.TimeoutExpired:
                process.kill()
        for who, fetching in fetches:
            if who == victim_name and fetching.poll() is None:
                fetching.wait(30)  # its daemon is gone: the command ends
        self._check_stopped(victim, under_way)
        log_before = len(victim.log())
        victim.start()
        self._check_restarted(victim, log_before)
        for _, fetching in fetches:  # the downloads go on in the daemons without the command
            if fetching.poll() is None:
                fetching.kill()
                fetching.wait(10)
        wait_for(lambda: len(self._online(victim)) == 2, 60)

    def _note_keys(self, writer: _KeyWriter) -> None:
        name = writer.target.name
        for operation, key in writer.acknowledged:
            self.key_state[name][key] = operation
            self.report.keys_acknowledged += 1
        if writer.unanswered is not None:
            self.unsure[name].add(writer.unanswered)

    def _downloads_under_way(self, daemon: Daemon) -> list[str]:
        with sqlite3.connect(daemon.data_dir / "state.db", timeout=10) as conn:
            rows = conn.execute(
                "SELECT manifest_hash FROM downloads WHERE state IN ('active', 'paused')"
            ).fetchall()
        return [str(h) for (h,) in rows]

    # ------------------------------------------------------------------ checks

    def _check_stopped(self, victim: Daemon, under_way: list[str]) -> None:
        with sqlite3.connect(victim.data_dir / "state.db") as conn:
            result = conn.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            self.report.integrity_failures.append(f"{victim.name} after kill: {result}")
        self._check_downloads_folders()
        # Whole chunks on disk now, for each download the daemon had under way.
        self._on_disk: dict[str, int] = {}
        self._cut_short: dict[str, int] = {}
        for manifest_hash in under_way:
            folder = victim.data_dir / "partial" / manifest_hash
            files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
            if len(files) != 1:
                continue
            item = next((s for s in self.shared if files[0].name == s.name), None)
            if item is None:
                continue
            source = self.root / "sources" / item.owner / item.name
            whole = 0
            with files[0].open("rb") as got, source.open("rb") as want:
                while chunk := want.read(CHUNK_SIZE):
                    written = got.read(CHUNK_SIZE)
                    if written == chunk:
                        whole += 1
                        continue
                    # A chunk cut short: its pieces already right are fetched again.
                    piece = 64 * 1024
                    right = sum(
                        piece
                        for at in range(0, len(chunk), piece)
                        if written[at : at + piece] == chunk[at : at + piece]
                    )
                    if right:
                        self.report.partly_written_chunks += 1
                        self.report.partly_written_bytes += right
                        self._cut_short[manifest_hash] = self._cut_short.get(manifest_hash, 0) + 1
            self._on_disk[manifest_hash] = whole

    def _check_restarted(self, victim: Daemon, started_at: int) -> None:
        log = victim.log()
        for manifest_hash, whole in self._on_disk.items():
            self.report.interrupted_downloads += 1
            self.report.chunks_on_disk += whole
            found = re.search(
                rf"download {manifest_hash}: (\d+) chunks found on disk", log[started_at:]
            )
            deadline = time.monotonic() + 30
            while found is None and whole and time.monotonic() < deadline:
                time.sleep(0.2)
                log = victim.log()
                found = re.search(
                    rf"download {manifest_hash}: (\d+) chunks found on disk", log[started_at:]
                )
            found_again = min(whole, int(found.group(1)) if found else 0)
            self.report.chunks_found_again += found_again
            again = whole - found_again + self._cut_short.get(manifest_hash, 0)
            self.report.most_again_in_one = max(self.report.most_again_in_one, again)
        listed = set(victim.listed())
        for key, operation in self.key_state[victim.name].items():
            if key in self.unsure[victim.name]:
                continue
            if (operation == "advertise") != (key in listed):
                self.report.lost_keys.append(f"{victim.name}: {operation} {key}")

    def _check_downloads_folders(self) -> None:
        for daemon in self.daemons.values():
            folder = daemon.data_dir / "downloads"
            for path in folder.rglob("*") if folder.is_dir() else []:
                if not path.is_file():
                    continue
                stat = path.stat()
                cache = (str(path), stat.st_size, stat.st_mtime_ns)
                digest = self._hashed.get(cache) or sha256_of(path)
                self._hashed[cache] = digest
                if digest not in self.expected_hashes:
                    self.report.corrupt_files.append(f"{daemon.name}: {path.name}")

    def finish(self) -> None:
        """Every fetch started completes; all databases are sound; the keys converge."""
        for who, key in sorted(self.fetched):
            daemon = self.daemons[who]
            item = next(s for s in self.shared if s.key == key)
            try:
                path = Path(
                    daemon.cli(
                        "fetch", key, "--to", str(daemon.data_dir / "downloads"), timeout=600
                    ).strip()
                )
                if sha256_of(path) != item.sha256:
                    self.report.fetches_incomplete.append(f"{who} {item.name}: differs")
            except Exception as exc:  # a fetch that cannot finish is what this counts
                self.report.fetches_incomplete.append(f"{who} {item.name}: {exc}")
        self.report.fetches = len(self.fetched)
        self._check_downloads_folders()

        def same_keys() -> bool:
            lists = [set(d.listed()) for d in self.daemons.values()]
            return all(keys == lists[0] for keys in lists)

        try:
            wait_for(same_keys, 60, every=0.5)
            self.report.converged = True
        except AssertionError:
            self.report.converged = False
        # What each daemon acknowledged holds everywhere, not only where it was asked.
        for daemon in self.daemons.values():
            listed = set(daemon.listed())
            for owner, states in self.key_state.items():
                for key, operation in states.items():
                    if key not in self.unsure[owner] and (operation == "advertise") != (
                        key in listed
                    ):
                        self.report.lost_keys.append(
                            f"{daemon.name} at the end: {owner}'s {operation} {key}"
                        )
        for daemon in self.daemons.values():
            daemon.stop()
            with sqlite3.connect(daemon.data_dir / "state.db") as conn:
                result = conn.execute("PRAGMA integrity_check").fetchall()
            if result != [("ok",)]:
                self.report.integrity_failures.append(f"{daemon.name} at the end: {result}")

    def stop(self) -> None:
        for daemon in self.daemons.values():
            if daemon.process is not None and daemon.process.poll() is None:
                daemon.stop()


def run_kills(
    root: Path, kills: int = 50, seed: int = 1, file_mb: tuple[int, int] = (6, 40)
) -> KillReport:
    """Kill daemons ``kills`` times at random moments; everything checked is reported."""
    began = time.monotonic()
    suite = KillSuite(root, seed, file_mb)
    try:
        suite.start()
        for _ in range(kills):
            suite.round()
        suite.finish()
    finally:
        suite.stop()
    suite.report.seconds = time.monotonic() - began
    return suite.report


def markdown(report: KillReport) -> str:
    moments = ", ".join(f"{what} {n}" for what, n in sorted(report.killed_while.items()))
    rows = [
        ("SIGKILLs", f"{report.kills} (during: {moments})", "50", None),
        ("databases failing integrity_check", str(len(report.integrity_failures)), "0",
         not report.integrity_failures),
        ("corrupt files in downloads folders", str(len(report.corrupt_files)), "0",
         not report.corrupt_files),
        ("acknowledged keys lost", f"{len(report.lost_keys)} of {report.keys_acknowledged}",
         "0", not report.lost_keys),
        ("fetches started that did not complete",
         f"{len(report.fetches_incomplete)} of {report.fetches}", "0",
         not report.fetches_incomplete),
        ("chunks downloaded again after a kill",
         f"{report.chunks_fetched_again + report.partly_written_chunks} over "
         f"{report.interrupted_downloads} interrupted downloads: "
         f"{report.partly_written_chunks} cut short while written "
         f"({report.partly_written_bytes / 2**20:.1f} MiB already on disk), "
         f"{report.chunks_fetched_again} whole ones not found again "
         f"({report.chunks_found_again} of {report.chunks_on_disk} found again); "
         f"at most {report.most_again_in_one} in one download",
         "≤ 1 chunk per interrupted download",
         report.most_again_in_one <= 1),
        ("the three daemons list the same keys at the end", "yes" if report.converged else "no",
         "yes", report.converged),
    ]  # fmt: skip
    lines = ["| fault check | figure | target | met |", "|---|---|---|---|"]
    for name, figure, target, met in rows:
        verdict = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {figure} | {target} | {verdict} |")
    details = report.integrity_failures + report.corrupt_files + report.lost_keys
    details += report.fetches_incomplete
    return "\n".join(lines + [f"- {d}" for d in details[:20]])
