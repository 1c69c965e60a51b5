"""Share throughput: how fast ``ContentStore.share`` hashes a file, next to raw BLAKE3.

Our figure is the whole share: hashing every 4 MiB chunk in worker threads, encoding the
manifest and the one transaction that records it, in a fresh data directory each time (opening
the state file is not counted). The references: ``b3sum`` when it is installed (the Rust CLI,
with threads and mmap), and the ``blake3`` package hashing the memory-mapped file on one thread.
The file is read once before timing, so every figure is from the page cache; the runs take
turns, so a busy moment of a shared machine falls on all of them alike, and medians are kept.

This module must never be imported by the application.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The reference is the library itself, not the project's adapter around it.
from blake3 import blake3

from ..storage.content import ContentStore
from ..storage.database import Database
from ..storage.paths import DataPaths


def share_throughput(path: Path, repeats: int = 5) -> dict[str, object]:
    """Median MB/s of our share and of the references, and the ratios of ours to them."""
    size = path.stat().st_size
    _read_once(path)
    runs: dict[str, Callable[[], float]] = {
        "share": lambda: _share_once(path),
        "blake3": lambda: _timed(lambda: blake3(max_threads=1).update_mmap(str(path))),
    }
    b3sum = shutil.which("b3sum")
    if b3sum is not None:
        command = [b3sum, "--no-names", str(path)]
        runs["b3sum"] = lambda: _timed(
            lambda: subprocess.run(command, check=True, capture_output=True)
        )
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            seconds[name].append(run())
    median = {name: statistics.median(times) for name, times in seconds.items()}
    result: dict[str, object] = {"file": str(path), "bytes": size, "repeats": repeats}
    for name, time_taken in median.items():
        result[f"{name}_mb_s"] = round(size / time_taken / 1e6)
    for name in runs.keys() - {"share"}:
        result[f"ratio_to_{name}"] = round(median[name] / median["share"], 2)
    return result


def _share_once(path: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="natakanu-bench-") as folder:
        paths = DataPaths(Path(folder))
        paths.ensure()
        db = Database.open(paths.database)
        try:
            return asyncio.run(_timed_share(ContentStore(db, paths), path))
        finally:
            db.close()


async def _timed_share(store: ContentStore, path: Path) -> float:
    began = time.perf_counter()
    await store.share(path)
    return time.perf_counter() - began


def _timed(run: Callable[[], object]) -> float:
    began = time.perf_counter()
    run()
    return time.perf_counter() - began


def _read_once(path: Path) -> None:
    with path.open("rb", buffering=0) as file:
        while file.read(16 << 20):
            pass
