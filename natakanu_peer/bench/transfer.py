"""Sharing and fetching real files between real daemons, next to b3sum and curl from nginx.

- share: ``natakanu-peer share`` of a file (chunking, BLAKE3, indexing) against ``b3sum``
  hashing the same file, both with the file in the page cache; and the size of the data
  directory afterwards (the file must be referenced, not copied).
- fetch: a daemon fetches the file from another on 127.0.0.1 over their TLS link,
  verification and writing included, against ``curl`` downloading it from nginx on 127.0.0.1
  over plain HTTP and over HTTPS, and against Syncthing (``syncthing``); the resident memory of
  both daemons is sampled during the transfer.
- spread: 32 daemons, each dialling at most 4 others; time until a new key is listed by all.

Daemons run as separate processes through the real command line. nginx, when present, is
started on a free loopback port with a configuration of its own in a temporary folder.
This module must never be imported by the application.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..net.control import call
from .share import share_throughput
from .syncthing import same_file, syncthing_seconds

MiB = 1024 * 1024


def make_file(path: Path, size: int) -> None:
    """Random bytes (incompressible), written once."""
    with path.open("wb") as out:
        left = size
        while left:
            block = min(left, 16 * MiB)
            out.write(os.urandom(block))
            left -= block


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def resident_kib(pid: int) -> int:
    """Resident memory of process ``pid`` in KiB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_size(root: Path) -> int:
    """Bytes actually allocated on disk below ``root``."""
    return sum(p.stat().st_blocks * 512 for p in root.rglob("*") if p.is_file())


class Daemon:
    """One ``natakanu-peer daemon`` process with its own data directory."""

    def __init__(
        self, data_dir: Path, peers: list[str] | None = None, circle_of: Daemon | None = None
    ) -> None:
        self.data_dir = data_dir
        args = [
            sys.executable,
            "-m",
            "natakanu_peer",
            "--data-dir",
            str(data_dir),
            "daemon",
            "--listen",
            "127.0.0.1:0",
            "--no-discovery",
        ]
        for peer in peers or []:
            args += ["--peer", peer]
        data_dir.mkdir(parents=True, exist_ok=True)
        with (data_dir / "daemon.log").open("a") as log:
            self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.process.stdout.close()
        if "listening on" not in line:
            raise RuntimeError(f"daemon did not start: {line!r}")
        self.address = line.rsplit(" ", 1)[1].strip()
        if circle_of is not None:  # members of one circle, or they would not link at all
            invitation = asyncio.run(circle_of.call("invite"))["invitation"]
            asyncio.run(self.call("join", {"invitation": invitation}))

    async def call(self, name: str, body: dict[str, Any] | None = None) -> Any:
        return await call(self.data_dir / "control.json", self.data_dir, name, body or {})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def nginx_serving(folder: Path, tls: bool = False) -> Iterator[str | None]:
    """nginx serving ``folder`` on a free loopback port; None when nginx is not installed.

    With ``tls``, over HTTPS (TLS 1.3, a throwaway self-signed ECDSA certificate: curl is run
    with ``-k``, as the comparison is about the cost of the encrypted transfer).
    """
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        yield None
        return
    port = _free_port()
    work = Path(tempfile.mkdtemp(prefix="natakanu-nginx-"))
    conf = work / "nginx.conf"
    listen = f"127.0.0.1:{port}"
    if tls:
        _throwaway_certificate(work)
        listen += (
            f" ssl; ssl_certificate {work}/cert.pem; ssl_certificate_key {work}/key.pem; "
            "ssl_protocols TLSv1.3"
        )
    conf.write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log off; sendfile on; tcp_nopush on;
  client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
  uwsgi_temp_path {work}; scgi_temp_path {work};
  server {{ listen {listen}; root {folder}; }}
}}
"""
    )
    process = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(work)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def _throwaway_certificate(folder: Path) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def share_benchmark(size: int, work: Path) -> dict[str, Any]:
    """Medians of the content store against b3sum, then one real ``share`` through a daemon."""
    film = work / "share-me.bin"
    make_file(film, size)
    result: dict[str, Any] = dict(share_throughput(film))
    daemon = Daemon(work / "sharer")
    try:
        before = _tree_size(daemon.data_dir)
        started = time.perf_counter()
        asyncio.run(daemon.call("share", {"paths": [str(film)]}))
        result["share_seconds"] = time.perf_counter() - started
        result["data_dir_growth_bytes"] = _tree_size(daemon.data_dir) - before
    finally:
        daemon.stop()
    film.unlink()
    return result


def _recycle_pages(work: Path, size: int) -> None:
    """Write and delete ``size`` bytes, so that the next timed run writes into memory just
    freed.

    Virtual machines that hand freed memory back to their host (virtio-balloon free page
    reporting, as on the machine the published figures come from) make the first write into
    such memory cost seconds per GiB, in whichever program comes first. Each timed run,
    curl's and the daemons', starts right after this, so all start alike; ``cold`` runs
    measure the other case, with memory handed back, for both as well.
    """
    scratch = work / "recycle.bin"
    block = bytes(16 * MiB)
    with scratch.open("wb") as out:
        for _ in range(-(-size // len(block))):
            out.write(block)
    scratch.unlink()


def _curl(url: str, target: Path, *, flush: bool) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-skf", "-o", str(target), url], check=True)
    if flush:  # made durable as a fetch is: its bytes flushed to the disk at the end
        fd = os.open(target, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return time.perf_counter() - started


def _median_pair(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fetch_benchmark(
    size: int, work: Path, runs: int = 3, with_syncthing: bool = False
) -> dict[str, Any]:
    """``runs`` rounds of curl (HTTP), curl + fsync, curl over HTTPS and a daemon fetch (over
    the daemons' TLS links), taken in turn; medians.

    Each round uses a new receiving daemon (a fetch of content already here returns at once).
    Then one ``cold`` round of curl and of a fetch, each after memory was handed back.
    """
    source_dir = work / "served"
    source_dir.mkdir(exist_ok=True)
    film = source_dir / "film.bin"
    make_file(film, size)
    result: dict[str, Any] = {"bytes": size, "runs": runs}
    times: dict[str, list[float]] = {"curl": [], "curl_fsync": [], "curl_https": [], "fetch": []}
    identical = True
    idle: dict[str, int] = {}
    peak: dict[str, int] = {}
    a = Daemon(work / "a")
    try:
        key = asyncio.run(a.call("share", {"paths": [str(film)]}))[0]["key"]
        with nginx_serving(source_dir) as url, nginx_serving(source_dir, tls=True) as secure:
            have_curl = url is not None and shutil.which("curl") is not None
            if have_curl:
                subprocess.run(["curl", "-sf", "-o", "/dev/null", f"{url}/film.bin"], check=True)
            for run in range(runs + 1):
                cold = run == runs
                kinds = [("curl", url, False)]
                if not cold:
                    kinds += [("curl_fsync", url, True), ("curl_https", secure, False)]
                for name, base, flush in kinds if have_curl else []:
                    target = work / "curl.bin"
                    _settle(work, size, cold)
                    seconds = _curl(f"{base}/film.bin", target, flush=flush)
                    if target.stat().st_size != size:
                        raise RuntimeError("curl did not download the whole file")
                    target.unlink()
                    if cold:
                        result["cold_curl_seconds"] = seconds
                    else:
                        times[name].append(seconds)
                b = Daemon(work / f"b{run}", peers=[a.address], circle_of=a)
                try:
                    _wait_listed(b, key)
                    idle_now = {"a": resident_kib(a.process.pid), "b": resident_kib(b.process.pid)}
                    _settle(work, size, cold)
                    seconds, path, peak_now = _timed_fetch(a, b, key, work / f"inbox{run}")
                    if cold:
                        result["cold_fetch_seconds"] = seconds
                    else:
                        times["fetch"].append(seconds)
                        for side in ("a", "b"):
                            growth = peak_now[side] - idle_now[side]
                            if growth >= peak.get(side, 0) - idle.get(side, 0):
                                idle[side], peak[side] = idle_now[side], peak_now[side]
                    identical = identical and same_file(path, film)
                finally:
                    b.stop()
                shutil.rmtree(work / f"inbox{run}", ignore_errors=True)
                shutil.rmtree(work / f"b{run}", ignore_errors=True)
    finally:
        a.stop()
    if with_syncthing:
        _settle(work, size, False)
        result["syncthing"] = syncthing_seconds(film, work, [_free_port() for _ in range(4)])
    for name, values in times.items():
        if values:
            result[f"{name}_seconds"] = _median_pair(values)
            result[f"{name}_all_seconds"] = values
    result["identical"] = identical
    result["rss_idle_kib"] = idle
    result["rss_peak_kib"] = peak
    film.unlink()
    return result


def _settle(work: Path, size: int, cold: bool) -> None:
    """Same memory state before every timed run: just freed (warm) or handed back (cold)."""
    if cold:
        time.sleep(5)  # freed memory goes back to the host within about 2 s
    else:
        _recycle_pages(work, size + 64 * MiB)


def _wait_listed(daemon: Daemon, key: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if key in [k["key"] for k in asyncio.run(daemon.call("keys"))]:
            return
        time.sleep(0.05)
    raise RuntimeError("the shared key did not reach the fetching daemon")


def _timed_fetch(a: Daemon, b: Daemon, key: str, inbox: Path) -> tuple[float, Path, dict[str, int]]:
    """Seconds for ``b`` to fetch ``key`` into ``inbox``, the path, and the peak RSS of both."""
    peak = {"a": resident_kib(a.process.pid), "b": resident_kib(b.process.pid)}
    sampling = True

    def sample() -> None:
        while sampling:
            for name, daemon in (("a", a), ("b", b)):
                peak[name] = max(peak[name], resident_kib(daemon.process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        started = time.perf_counter()
        path = asyncio.run(b.call("fetch", {"key": key, "to": str(inbox)}))["path"]
        seconds = time.perf_counter() - started
    finally:
        sampling = False
        sampler.join()
    return seconds, Path(path), peak


def spread_benchmark(count: int, runs: int, work: Path, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    daemons: list[Daemon] = []
    try:
        for i in range(count):
            # Each new daemon dials up to 4 earlier ones: connected, at most 4 dialled each.
            earlier = rng.sample(daemons, min(len(daemons), rng.randint(1, 4))) if daemons else []
            inviter = earlier[0] if earlier else None
            daemons.append(Daemon(work / f"d{i}", [d.address for d in earlier], inviter))
        times = []
        for run in range(runs):
            times.append(asyncio.run(_spread_once(daemons, rng, run)))
        return {"daemons": count, "seconds": times, "median": statistics.median(times)}
    finally:
        for daemon in daemons:
            daemon.stop()


async def _spread_once(daemons: list[Daemon], rng: random.Random, run: int) -> float:
    # Wait until the mesh is up: every daemon has at least one peer online.
    for _ in range(600):
        statuses = await asyncio.gather(*(d.call("status") for d in daemons))
        if all(s["peers_online"] > 0 for s in statuses):
            break
        await asyncio.sleep(0.1)
    origin = rng.choice(daemons)
    text = f"spread run {run} {time.time()}"
    key = text.encode().hex()
    started = time.perf_counter()
    await origin.call("advertise", {"text": text})
    pending = set(range(len(daemons)))
    while pending and time.perf_counter() - started < 60:
        lists = await asyncio.gather(*(daemons[i].call("keys") for i in sorted(pending)))
        for i, keys in zip(sorted(pending), lists, strict=True):
            if any(k["key"] == key for k in keys):
                pending.discard(i)
        if pending:
            await asyncio.sleep(0.01)
    return time.perf_counter() - started if not pending else float("inf")


def run_all(quick: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="natakanu-bench-"))
    try:
        size = (64 if quick else 1024) * MiB
        out: dict[str, Any] = {"share": share_benchmark(size, work)}
        out["fetch"] = fetch_benchmark(size, work, with_syncthing=True)
        if not quick:
            out["fetch_4gib"] = fetch_benchmark(4096 * MiB, work, runs=1)
        out["spread"] = spread_benchmark(8 if quick else 32, 5, work)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    print(json.dumps(run_all("--quick" in sys.argv), indent=2))
