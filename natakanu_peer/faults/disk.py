"""A disk that fills up during a download: the downloads folder on a small tmpfs, filled by
another program while the chunks arrive (the space was there when the download began).

What must hold: the fetch stops with a sentence that says the disk is full and what to do;
nothing half-written appears in the downloads folder; once space is freed, the same fetch
resumes from the chunks kept and completes, byte-identical.

Needs root (it mounts a tmpfs under the folder it is given and unmounts it at the end). This
module must never write outside that folder, nor talk to anything but its own two daemons
on 127.0.0.1.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .peers import PYTHON, Daemon, sha256_of, wait_for

MIB = 1024 * 1024


@dataclass
class DiskFullReport:
    message: str  # what the person was told
    stopped_with_message: bool
    half_written_shown: list[str]  # files in the downloads folder while the disk was full
    chunks_kept: int  # recorded as done when the disk filled
    resumed_identical: bool
    resume_seconds: float
    file_mb: int
    disk_mb: int

    @property
    def ok(self) -> bool:
        return self.stopped_with_message and not self.half_written_shown and self.resumed_identical


def run_disk_full(root: Path, file_mb: int = 200, disk_mb: int = 240) -> DiskFullReport:
    if os.geteuid() != 0:
        raise RuntimeError("the disk-full fault mounts a tmpfs: run it as root")
    small = root / "small-disk"
    small.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={disk_mb}m,mode=0700", "tmpfs", str(small)],
        check=True,
    )
    sender = fetcher = None
    try:
        sender = Daemon(root / "sender", name="Sender").start()
        fetcher = Daemon(root / "fetcher", peers=[sender.address], name="Fetcher", circle_of=sender)
        fetcher.start()
        film = root / "film.bin"
        film.write_bytes(os.urandom(file_mb * MIB))
        key = sender.cli("share", str(film)).strip()
        wait_for(lambda: key in fetcher.listed(), 30)
        downloads = small / "downloads"
        filler = small / "another program's file.bin"
        partial = fetcher.data_dir / "partial"

        def fill_when_the_download_starts() -> None:
            # As soon as the first bytes land, another program takes most of what is left.
            wait_for(lambda: any(p.is_file() for p in partial.rglob("*")), 60, every=0.001)
            with filler.open("wb") as out:
                block = b"\0" * MIB
                try:
                    for _ in range(disk_mb):
                        out.write(block)
                except OSError:
                    pass  # full: exactly what is wanted

        filling = threading.Thread(target=fill_when_the_download_starts, daemon=True)
        filling.start()
        first = subprocess.run(
            [PYTHON, "-m", "natakanu_peer", "--data-dir", str(fetcher.data_dir), "fetch", key,
             "--to", str(downloads)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        filling.join(60)
        message = first.stderr.strip()
        shown = [p.name for p in downloads.rglob("*") if p.is_file()] if downloads.exists() else []
        with sqlite3.connect(fetcher.data_dir / "state.db", timeout=10) as conn:
            kept = conn.execute("SELECT count(*) FROM download_chunks").fetchone()[0]
        filler.unlink()
        started = time.monotonic()
        path = Path(fetcher.cli("fetch", key, "--to", str(downloads), timeout=300).strip())
        resume_seconds = time.monotonic() - started
        identical = sha256_of(path) == sha256_of(film)
        return DiskFullReport(
            message=message,
            stopped_with_message=first.returncode != 0 and "full" in message,
            half_written_shown=shown,
            chunks_kept=int(kept),
            resumed_identical=identical,
            resume_seconds=resume_seconds,
            file_mb=file_mb,
            disk_mb=disk_mb,
        )
    finally:
        for daemon in (fetcher, sender):
            if daemon is not None and daemon.process is not None:
                daemon.stop()
        subprocess.run(["umount", "-l", str(small)], check=False)


def markdown(report: DiskFullReport) -> str:
    rows = [
        ("the fetch stops with a clear message", report.message or "(nothing said)",
         "says the disk is full", report.stopped_with_message),
        ("half-written files shown in the downloads folder", str(len(report.half_written_shown)),
         "0", not report.half_written_shown),
        ("chunks kept when the disk filled", str(report.chunks_kept), "", None),
        ("after space is freed the fetch completes, byte-identical",
         f"{'yes' if report.resumed_identical else 'no'} ({report.resume_seconds:.1f} s)",
         "yes", report.resumed_identical),
    ]  # fmt: skip
    lines = [
        f"Disk full: a {report.file_mb} MiB download onto a {report.disk_mb} MiB disk that "
        "another program fills once the first bytes land.",
        "",
        "| fault check | figure | target | met |",
        "|---|---|---|---|",
    ]
    for name, figure, target, met in rows:
        verdict = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {name} | {figure} | {target} | {verdict} |")
    return "\n".join(lines)
