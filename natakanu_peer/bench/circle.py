"""Circle costs: how many links a peer accepts per second, and how soon members find each other.

- handshakes: callers in this process, each a member with its own identity, open links to one
  daemon on 127.0.0.1 (TLS 1.3, then the membership handshake) and close them, 4 at a time;
  the accepted links per second are counted.
- discovery: two computers made of network namespaces on a bridge (root only); the second
  starts with an invitation that carries no address, and the time until it is linked with the
  first (found by mDNS) is measured.

This module must never be imported by the application.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..identity import Identity
from ..net.peer_link import dial
from ..protocol.circle import Invitation, decode_invitation, encode_invitation
from .netns import LocalNetwork, can_make_namespaces
from .transfer import Daemon


def handshake_rate(work: Path, seconds: float = 5.0, callers: int = 4) -> dict[str, Any]:
    daemon = Daemon(work / "listener")
    try:
        keys = decode_invitation(asyncio.run(daemon.call("invite"))["invitation"]).keys

        async def caller(count: list[int], deadline: float) -> None:
            me = Identity.generate()
            while time.monotonic() < deadline:
                link = await dial(daemon.address)
                await link.handshake(me, [keys], "bench", None)
                count[0] += 1
                await link.close()

        async def run() -> tuple[int, float]:
            count = [0]
            started = time.monotonic()
            deadline = started + seconds
            await asyncio.gather(*(caller(count, deadline) for _ in range(callers)))
            elapsed = time.monotonic() - started
            await asyncio.sleep(0.3)  # let the last TLS closings finish
            return count[0], elapsed

        count, elapsed = asyncio.run(run())
        return {"count": count, "seconds": elapsed, "per_second": count / elapsed}
    finally:
        daemon.stop()


def _command_in(netns: str) -> list[str]:
    return ["ip", "netns", "exec", netns, sys.executable, "-m", "natakanu_peer"]


def _in(netns: str, data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [*_command_in(netns), "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _start_in(netns: str, data_dir: Path) -> subprocess.Popen[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "daemon.log").open("a") as log:
        process = subprocess.Popen(
            [*_command_in(netns), "--data-dir", str(data_dir), "daemon", "--listen", "0.0.0.0:0"],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    if "listening on" not in process.stdout.readline():
        raise RuntimeError(f"daemon did not start in {netns}")
    process.stdout.close()
    return process


def discovery_time(work: Path, runs: int = 3) -> dict[str, Any]:
    reason = can_make_namespaces()
    if reason is not None:
        return {"skipped": f"not measured: {reason}"}
    times = []
    for run in range(runs):
        with LocalNetwork(2) as lan:
            first, second = lan.hosts
            a_dir, b_dir = work / f"a{run}", work / f"b{run}"
            processes = [_start_in(first.netns, a_dir)]
            try:
                found = decode_invitation(_in(first.netns, a_dir, "invite").strip())
                bare = encode_invitation(Invitation(found.name, found.keys, found.inviter))
                a_id = json.loads(_in(first.netns, a_dir, "status", "--json"))["peer_id"]
                started = time.monotonic()
                processes.append(_start_in(second.netns, b_dir))
                _in(second.netns, b_dir, "join", bare)
                while time.monotonic() - started < 60:
                    peers = json.loads(_in(second.netns, b_dir, "peers", "--json"))
                    if any(p["peer_id"] == a_id and p["online"] for p in peers):
                        times.append(time.monotonic() - started)
                        break
                    time.sleep(0.05)
                else:
                    raise RuntimeError("the members never found each other")
            finally:
                for process in processes:
                    process.terminate()
                    process.wait(20)
    return {"seconds": times, "median": statistics.median(times)}


def run_all(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="natakanu-bench-circle-") as folder:
        work = Path(folder)
        return {
            "handshakes": handshake_rate(work, seconds=2.0 if quick else 5.0),
            "discovery": discovery_time(work, runs=1 if quick else 3),
        }
