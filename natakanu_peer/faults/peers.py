"""Real ``natakanu-peer daemon`` processes, each with its own data directory, for the tests
and the fault suite: started, driven through the command line, stopped or killed.

They listen on 127.0.0.1 (or inside a network namespace the caller made) with discovery off,
or on one given interface only; nothing here may reach a real network."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PYTHON = sys.executable


def cli(
    data_dir: Path,
    *args: str,
    timeout: float = 60,
    check: bool = True,
    netns: str | None = None,
) -> str:
    """Run one ``natakanu-peer`` command against ``data_dir``; return its standard output.

    ``netns``: run it inside that network namespace (where the daemon's control API is).
    """
    prefix = ["ip", "netns", "exec", netns] if netns else []
    done = subprocess.run(
        [*prefix, PYTHON, "-m", "natakanu_peer", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"{args} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in pieces (files of several GiB)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def wait_for(condition: Callable[[], Any], timeout: float = 20, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


@dataclass
class Daemon:
    data_dir: Path
    peers: list[str] = field(default_factory=list)
    name: str = ""
    log_json: bool = False
    process: subprocess.Popen[str] | None = None
    address: str = ""
    log_path: Path | None = None
    #: A running daemon whose circle this one joins (with its invitation) once started.
    circle_of: Daemon | None = None
    #: Or an invitation (text) to join once started.
    join: str | None = None
    #: Look for members with mDNS on this address only (never on the machine's real network).
    discovery_on: str | None = None
    #: Run inside this network namespace, with mDNS on all of its interfaces.
    netns: str | None = None

    def start(self) -> Daemon:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        prefix = ["ip", "netns", "exec", self.netns] if self.netns else []
        args = [*prefix, PYTHON, "-m", "natakanu_peer", "--data-dir", str(self.data_dir)]
        if self.log_json:
            args.append("--log-json")
        args += ["daemon", "--listen", self.address or "127.0.0.1:0"]
        if self.discovery_on:
            args += ["--discovery-interface", self.discovery_on]
        elif not self.netns:
            args.append("--no-discovery")
        if self.name:
            args += ["--name", self.name]
        for peer in self.peers:
            args += ["--peer", peer]
        self.log_path = self.data_dir / "daemon.log"
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.process.stdout.close()  # nothing more is printed there
        if "listening on" not in line:
            raise AssertionError(f"daemon did not start: {line!r}\n{self.log_path.read_text()}")
        self.address = line.rsplit(" ", 1)[1].strip()
        if self.circle_of is not None:
            self.join = self.circle_of.invitation()
        if self.join is not None:
            self.cli("join", self.join)
        return self

    def invitation(self) -> str:
        return self.cli("invite").strip()

    def kill(self) -> None:
        """SIGKILL: no chance to clean anything up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait(10)
        return self.process.returncode

    def cli(self, *args: str, **kwargs: Any) -> str:
        return cli(self.data_dir, *args, netns=self.netns, **kwargs)

    def json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json"))

    def listed(self) -> list[str]:
        return [entry["key"] for entry in self.json("keys")]

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path else ""


def online(daemon: Daemon) -> set[str]:
    """Ids of the peers ``daemon`` has a link with now."""
    return {p["peer_id"] for p in daemon.json("peers") if p["online"]}


def without_hints(invitation: str) -> str:
    """The same invitation with no addresses in it: finding the inviter is discovery's job."""
    from natakanu_peer.protocol.circle import Invitation, decode_invitation, encode_invitation

    decoded = decode_invitation(invitation)
    return encode_invitation(Invitation(decoded.name, decoded.keys, decoded.inviter))
