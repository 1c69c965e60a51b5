"""Prove the Linux artefacts on a clean system: a bare Debian 12 made by debootstrap.

    python3 packaging/build.py prove      (as root, after the build; Debian packages
                                           debootstrap and, for the bare system, network
                                           access to the Debian mirror)

For the ``.deb``: ``apt-get install ./natakanu-peer_*.deb`` into the bare system, which must
pull every library the application needs through the package's ``Depends``. For the
``.tar.gz``: unpacked into a new folder of a second bare system that has only the libraries
its README lists. In each: the daemon starts and ``status`` answers; the window opens under
Xvfb and its screenshot is saved (look at it: text, not empty boxes); two peers on 127.0.0.1
join one circle, and a key and a file advertised by one reach the other, byte-identical.

Xvfb is installed into the bare systems only to have a screen to look at: it is how a
person's display is stood in for, not something the application needs. Everything runs
inside the chroots on 127.0.0.1; peer discovery stays off (no multicast leaves the machine).
The chroots are left under ``build/prove`` for inspection and removed on the next run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = ROOT / "build" / "prove"
BASE = WORK / "base"  # the bare system, made once, copied for each proof
SHOTS = ROOT / "dist" / "proof"
MIRROR = "http://deb.debian.org/debian"
XVFB = ["xvfb", "xauth"]
PEER_FLAGS = ["--no-discovery", "--listen", "127.0.0.1:0"]


def sh(*command: str, **options: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(command), flush=True)
    return subprocess.run(list(command), check=True, text=True, **options)  # type: ignore[call-overload, no-any-return]


class Chroot:
    """A bare Debian 12 copy with /proc, /dev and /sys mounted while it is used."""

    def __init__(self, name: str) -> None:
        self.root = WORK / name
        self.mounts: list[Path] = []

    def __enter__(self) -> Chroot:
        if self.root.exists():
            shutil.rmtree(self.root)
        sh("cp", "-a", str(BASE), str(self.root))
        shutil.copyfile("/etc/resolv.conf", self.root / "etc/resolv.conf")
        for name, kind in (("proc", "proc"), ("sys", "sysfs"), ("dev", "devtmpfs")):
            target = self.root / name
            sh("mount", "-t", kind, name, str(target))
            self.mounts.append(target)
        (self.root / "dev/pts").mkdir(exist_ok=True)
        (self.root / "dev/shm").mkdir(exist_ok=True)
        sh("mount", "-t", "tmpfs", "shm", str(self.root / "dev/shm"))
        self.mounts.append(self.root / "dev/shm")
        return self

    def __exit__(self, *exc: object) -> None:
        for target in reversed(self.mounts):
            subprocess.run(["umount", "-l", str(target)], check=False)

    def run(self, script: str, **options: object) -> subprocess.CompletedProcess[str]:
        """A shell script inside, as a user's login shell would run it."""
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root",
            "LANG": "C.UTF-8",
            "DEBIAN_FRONTEND": "noninteractive",
        }
        return sh("chroot", str(self.root), "/bin/sh", "-ec", script, env=env, **options)

    def apt_install(self, *packages: str) -> None:
        self.run("apt-get update -qq && apt-get install -y -qq --no-install-recommends " +
                 " ".join(packages) + " > /var/log/proof-apt.log")  # fmt: skip


def make_base() -> None:
    if (BASE / "usr/bin/apt-get").exists():
        return
    if shutil.which("debootstrap") is None:
        raise SystemExit("debootstrap is missing: apt-get install debootstrap")
    WORK.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(BASE, ignore_errors=True)
    sh("debootstrap", "--variant=minbase", "bookworm", str(BASE), MIRROR)


def prove_inside(box: Chroot, program: str, label: str) -> dict[str, object]:
    """The daemon, the window and two peers exchanging, inside ``box``; figures found."""
    # The daemon starts and answers.
    box.run(
        f'P={program}; "$P" --data-dir /root/solo daemon {" ".join(PEER_FLAGS)}'
        " > /root/solo.out 2>&1 & DAEMON=$!;"
        ' for i in $(seq 100); do "$P" --data-dir /root/solo status > /root/status.txt'
        " 2>/dev/null && break; sleep 0.2; done; cat /root/status.txt;"
        ' "$P" --version > /root/version.txt;'
        " kill $DAEMON; wait $DAEMON || true"
    )
    status = (box.root / "root/status.txt").read_text()
    version = (box.root / "root/version.txt").read_text().strip()
    if "id" not in status.lower():
        raise SystemExit(f"{label}: status did not answer: {status!r}")
    # The window under Xvfb, its screenshots taken by the application itself.
    box.run(
        f"rm -rf /root/shots; mkdir -p /root/shots; P={program};"
        " xvfb-run -a -s '-screen 0 1280x800x24' \"$P\" --data-dir /root/windowed window"
        f" {' '.join(PEER_FLAGS)} --screenshots /root/shots > /root/window.out 2>&1"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    shots = sorted((box.root / "root/shots").glob("*.png"))
    if not shots:
        raise SystemExit(f"{label}: the window made no screenshot; see {box.root}/root/window.out")
    for shot in shots:
        shutil.copyfile(shot, SHOTS / f"{label}-{shot.name}")
    # Two peers in one circle: a key and a file from one reach the other.
    payload = os.urandom(3_000_000)
    (box.root / "root/film.bin").write_bytes(payload)
    started = time.monotonic()
    box.run(
        f"P={program}; F='{' '.join(PEER_FLAGS)}';"
        + """
        "$P" --data-dir /root/a daemon $F > /root/a.out 2>&1 & A=$!
        "$P" --data-dir /root/b daemon $F > /root/b.out 2>&1 & B=$!
        for i in $(seq 100); do
          "$P" --data-dir /root/a status >/dev/null 2>&1 &&
          "$P" --data-dir /root/b status >/dev/null 2>&1 && break; sleep 0.2
        done
        INV=$("$P" --data-dir /root/a invite | tail -n 1)
        "$P" --data-dir /root/b join "$INV"
        "$P" --data-dir /root/a advertise --text hyper://proof-of-install
        KEY=$("$P" --data-dir /root/a share /root/film.bin | tail -n 1)
        for i in $(seq 150); do
          "$P" --data-dir /root/b keys | grep -q proof-of-install && break; sleep 0.2
        done
        "$P" --data-dir /root/b keys > /root/b-keys.txt
        mkdir -p /root/got
        "$P" --data-dir /root/b fetch "$KEY" --to /root/got > /root/fetch.txt
        kill $A $B; wait $A $B || true
        """
    )
    exchange_seconds = time.monotonic() - started
    keys = (box.root / "root/b-keys.txt").read_text()
    if "hyper://proof-of-install" not in keys:
        raise SystemExit(f"{label}: the key did not reach the second peer: {keys!r}")
    fetched = list((box.root / "root/got").rglob("film.bin"))
    if (
        not fetched
        or hashlib.sha256(fetched[0].read_bytes()).digest() != hashlib.sha256(payload).digest()
    ):
        raise SystemExit(f"{label}: the file did not arrive byte-identical")
    print(f"{label}: {version}; status answers; window screenshots {len(shots)};"
          f" key and 3 MB file exchanged in {exchange_seconds:.1f} s")  # fmt: skip
    return {"version": version, "screenshots": len(shots), "exchange_s": exchange_seconds}


def prove(deb: Path, portable: Path, libraries: list[str]) -> None:
    """``libraries``: the Debian packages the portable archive says it needs."""
    if os.geteuid() != 0:
        raise SystemExit("the proof makes chroots: run it as root")
    for artefact in (deb, portable):
        if not artefact.exists():
            raise SystemExit(f"{artefact} is missing: run python3 packaging/build.py first")
    make_base()
    with Chroot("deb") as box:
        shutil.copyfile(deb, box.root / "root" / deb.name)
        box.run(
            f"cd /root && apt-get update -qq && apt-get install -y -qq ./{deb.name}"
            " > /var/log/proof-apt.log && dpkg -s natakanu-peer | grep -E '^(Status|Version)'"
        )
        box.apt_install(*XVFB)
        prove_inside(box, "natakanu-peer", "deb")
    with Chroot("portable") as box:
        box.apt_install(*libraries, *XVFB)
        shutil.copyfile(portable, box.root / "root" / portable.name)
        box.run(f"mkdir -p '/root/a new folder' && tar -xzf /root/{portable.name}"
                " -C '/root/a new folder'")  # fmt: skip
        folder = next((box.root / "root/a new folder").iterdir()).name
        prove_inside(box, f"'/root/a new folder/{folder}/natakanu-peer'", "portable")
    print(f"\nscreenshots in {SHOTS.relative_to(ROOT)}: look at them")
