"""Syncthing as a reference: two instances on 127.0.0.1 sync one file, timed like a fetch.

Both instances get a configuration of their own: listening on 127.0.0.1 only, with global
and local discovery, relays, NAT traversal, usage reporting, crash reporting and upgrades
off, and each other's address given. The sender scans the file first (as ``share`` hashes
it first); the receiver's folder starts paused, and the time is taken from unpausing it,
both instances connected, until the complete file is in its folder. Syncthing verifies every
block and flushes the file before moving it into place, as a fetch does.

This module must never be imported by the application.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

_CONFIG = """<configuration version="36">
  <folder id="film" label="film" path="{folder}" type="sendreceive" rescanIntervalS="3600"
      fsWatcherEnabled="false" fsWatcherDelayS="10" ignorePerms="false" autoNormalize="true">
    <filesystemType>basic</filesystemType>
    <device id="{first}"></device>
    <device id="{second}"></device>
    <minDiskFree unit="%">1</minDiskFree>
    <paused>{paused}</paused>
    <markerName>.stfolder</markerName>
  </folder>
  <device id="{first}" name="first" compression="never"><address>tcp://127.0.0.1:{port_first}</address></device>
  <device id="{second}" name="second" compression="never"><address>tcp://127.0.0.1:{port_second}</address></device>
  <gui enabled="true" tls="false"><address>127.0.0.1:{gui}</address><apikey>{key}</apikey></gui>
  <options>
    <listenAddress>tcp://127.0.0.1:{port}</listenAddress>
    <globalAnnounceEnabled>false</globalAnnounceEnabled>
    <localAnnounceEnabled>false</localAnnounceEnabled>
    <relaysEnabled>false</relaysEnabled>
    <natEnabled>false</natEnabled>
    <urAccepted>-1</urAccepted>
    <crashReportingEnabled>false</crashReportingEnabled>
    <autoUpgradeIntervalH>0</autoUpgradeIntervalH>
    <startBrowser>false</startBrowser>
  </options>
</configuration>
"""


class _Instance:
    def __init__(self, home: Path, folder: Path, port: int, gui: int) -> None:
        self.home, self.folder, self.port, self.gui = home, folder, port, gui
        self.key = secrets.token_hex(16)
        self.process: subprocess.Popen[bytes] | None = None
        subprocess.run(
            ["syncthing", "generate", f"--home={home}", "--no-default-folder"],
            check=True,
            capture_output=True,
        )
        done = subprocess.run(
            ["syncthing", "serve", f"--home={home}", "--device-id"],
            check=True,
            capture_output=True,
            text=True,
        )
        self.device = done.stdout.strip()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ".stfolder").mkdir(exist_ok=True)

    def configure(self, first: _Instance, second: _Instance, paused: bool) -> None:
        (self.home / "config.xml").write_text(
            _CONFIG.format(
                folder=self.folder,
                first=first.device,
                second=second.device,
                port_first=first.port,
                port_second=second.port,
                paused=str(paused).lower(),
                gui=self.gui,
                key=self.key,
                port=self.port,
            )
        )

    def start(self) -> None:
        env = dict(os.environ, STNOUPGRADE="1", STNORESTART="1")
        self.process = subprocess.Popen(
            ["syncthing", "serve", f"--home={self.home}", "--no-browser", "--no-restart"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )

    def rest(self, path: str, body: dict[str, Any] | None = None, method: str = "GET") -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.gui}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"X-API-Key": self.key, "Content-Type": "application/json"},
            method=method,
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        return json.loads(text) if text else None

    def wait(self, condition: Any, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if condition():
                    return
            except OSError:
                pass  # not listening yet
            time.sleep(0.05)
        raise RuntimeError("Syncthing did not get there in time")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def syncthing_seconds(film: Path, work: Path, ports: list[int]) -> dict[str, Any]:
    """Seconds for a second Syncthing to get ``film`` from a first one; {} without Syncthing."""
    if shutil.which("syncthing") is None:
        return {}
    root = work / "syncthing"
    sender = _Instance(root / "a", root / "a-folder", ports[0], ports[1])
    receiver = _Instance(root / "b", root / "b-folder", ports[2], ports[3])
    os.link(film, sender.folder / film.name)  # the same bytes, no copy
    sender.configure(sender, receiver, paused=False)
    receiver.configure(sender, receiver, paused=True)
    try:
        sender.start()
        receiver.start()
        size = film.stat().st_size
        sender.wait(
            lambda: (
                (status := sender.rest("/rest/db/status?folder=film"))["state"] == "idle"
                and status["localBytes"] == size
            )
        )
        receiver.wait(
            lambda: (
                receiver.rest("/rest/system/connections")["connections"]
                .get(sender.device, {})
                .get("connected")
            )
        )
        target = receiver.folder / film.name
        started = time.perf_counter()
        receiver.rest("/rest/config/folders/film", {"paused": False}, method="PATCH")
        receiver.wait(lambda: target.exists() and target.stat().st_size == size, timeout=600)
        seconds = time.perf_counter() - started
        identical = same_file(target, film)
    finally:
        receiver.stop()
        sender.stop()
        shutil.rmtree(root, ignore_errors=True)
    return {"seconds": seconds, "identical": identical}


def same_file(a: Path, b: Path) -> bool:
    """Whether two files hold the same bytes (read 16 MiB at a time)."""
    with a.open("rb") as x, b.open("rb") as y:
        while True:
            p, q = x.read(16 << 20), y.read(16 << 20)
            if p != q:
                return False
            if not p:
                return True
