"""Network faults between Linux network namespaces, and how long the key gossip of one circle
takes to agree again once each fault ends.

Four daemons of one circle run in four namespaces joined by a bridge (see ``bench.netns``),
and their cables are spoiled: 5% loss and 100 ms delay on every cable (200 keys advertised, a
20 MB file fetched across); one cable going down and up every 3 s while keys are advertised on
both sides; the four split in two pairs for 30 s, each side advertising and deleting keys,
then joined again. Each scenario reports how long after the fault every daemon listed the
same keys (the target: all peers converge) and, for the file, how long its fetch took and
whether it arrived byte-identical. ``main`` prints them as a Markdown table.

Loss and delay come from ``tc netem``; on a kernel built without netem, from ``iptables``
queueing the packets to ``lose_and_delay`` in user space (see ``LinkFaults``). It needs root,
``ip`` and ``tc`` (Debian package iproute2), and then ``iptables``. Everything it makes
(daemons, their helpers, rules, bridges, namespaces, folders) is removed at the end, failure
or not.

It must never touch the machine's real interfaces: every ``ip``, ``tc`` and ``iptables``
command it runs names one of the namespaces it made. It must never send to any address
outside those namespaces: the daemons listen on their namespace's address, dial only each
other, and look for members (mDNS) only on the interfaces of their own namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import errno
import functools
import json
import logging
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..bench.netns import Host, LocalNetwork, can_make_namespaces
from .peers import PYTHON, Daemon, sha256_of

log = logging.getLogger(__name__)

TARGET = "all peers converge"
PORT = 4700  # each daemon has a namespace of its own, so all can take the usual port
NAMES = ("A", "B", "C", "D")


def can_run() -> str | None:
    """None when the faults can be made here, else the reason they cannot."""
    reason = can_make_namespaces()
    if reason is None and shutil.which("tc") is None:
        reason = "the tc command (Debian package iproute2) is missing"
    if reason is None and not netem_available() and shutil.which("iptables") is None:
        reason = (
            "this kernel has no netem, and iptables (Debian package iptables), needed to "
            "queue packets to the loss and delay made in user space instead, is missing"
        )
    return reason


@functools.cache
def netem_available() -> bool:
    """Whether this kernel has netem (some virtual machines' kernels are built without it
    and cannot load modules); tried on the loopback of a namespace made for the purpose."""
    probe = f"ntkprobe{os.getpid() % 10000}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)  # left from a crash
    subprocess.run(["ip", "netns", "add", probe], check=True, capture_output=True, timeout=20)
    try:
        tried = subprocess.run(
            ["tc", "-n", probe, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
            capture_output=True,
            timeout=20,
        )
        return tried.returncode == 0
    finally:
        subprocess.run(["ip", "netns", "del", probe], capture_output=True)


# ---------------------------------------------------------------------- faults on the cables


def _inside(netns: str, *command: str, check: bool = True) -> None:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, *command], capture_output=True, text=True, timeout=20
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} in {netns} failed: {done.stderr.strip()}")


class LinkFaults:
    """Loss, delay, unplugged cables and partitions on the hosts of a ``LocalNetwork``.

    Loss and delay: ``tc netem`` on a host's end of its cable, inside its namespace, for the
    packets it sends. Where the kernel has no netem, the same loss and delay are made in user
    space for the packets a host receives (``iptables ... -j NFQUEUE`` inside its namespace,
    and ``lose_and_delay`` there giving each packet its verdict). Either way a packet between
    two hosts meets exactly one of them, in each direction.

    A partition moves the bridge ports of every group but the first to a bridge of its own,
    in the bridge's namespace: the hosts of a group still reach each other and nothing else,
    as when the cable between two switches is pulled. ``close`` (or leaving the ``with``
    block) removes every fault and plugs every cable back.
    """

    def __init__(self, lan: LocalNetwork) -> None:
        self.lan = lan
        # The namespace of the bridge is the network's own business, but a partition has to
        # rewire that bridge.
        self._bridge_ns: str = lan._bridge_ns
        self._wires: dict[str, subprocess.Popen[str]] = {}  # netns -> its lose_and_delay
        self._bridges: list[str] = []  # the extra bridges of a partition
        self.how = "tc netem" if netem_available() else "NFQUEUE in user space (no netem here)"

    def netem(self, host: Host, *, loss_percent: float = 0, delay_ms: int = 0) -> None:
        """Lose ``loss_percent`` of the packets between ``host`` and the others and delay the
        rest by ``delay_ms``."""
        self.clear(host)
        if netem_available():
            _inside(host.netns, "tc", "qdisc", "replace", "dev", host.link, "root", "netem",
                    "loss", f"{loss_percent:g}%", "delay", f"{delay_ms}ms")  # fmt: skip
            return
        wire = subprocess.Popen(
            ["ip", "netns", "exec", host.netns, PYTHON, "-c", _WIRE,
             f"{loss_percent:g}", f"{delay_ms}"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._wires[host.netns] = wire
        assert wire.stdout is not None
        if wire.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the loss and delay of {host.netns} did not start")
        _inside(host.netns, "iptables", *self._queue_rule("-A", host))

    @staticmethod
    def _queue_rule(action: str, host: Host) -> list[str]:
        # --queue-bypass: were lose_and_delay gone, packets would pass rather than vanish.
        return ["-t", "mangle", action, "PREROUTING", "-i", host.link, "-j", "NFQUEUE",
                "--queue-num", str(QUEUE_NUMBER), "--queue-bypass"]  # fmt: skip

    def clear(self, host: Host) -> None:
        """No more loss or delay on ``host``'s cable."""
        # Deleting what is not there fails: nothing to undo then.
        _inside(host.netns, "tc", "qdisc", "del", "dev", host.link, "root", check=False)
        wire = self._wires.pop(host.netns, None)
        if wire is not None:
            _inside(host.netns, "iptables", *self._queue_rule("-D", host), check=False)
            wire.terminate()  # it lets the packets it still holds go on, and stops
            try:
                wire.wait(10)
            except subprocess.TimeoutExpired:
                wire.kill()
                wire.wait(10)
            assert wire.stdout is not None
            wire.stdout.close()

    def set_link(self, host: Host, up: bool) -> None:
        """Unplug (or plug back) ``host``'s cable."""
        _inside(host.netns, "ip", "link", "set", host.link, "up" if up else "down")

    def flap(self, host: Host, seconds: float, period: float) -> int:
        """Unplug and plug back ``host``'s cable, switching every ``period`` seconds, for
        ``seconds``; it is plugged in at the end, whatever happens. How many cuts."""
        cuts = 0
        end = time.monotonic() + seconds
        up = True
        try:
            while time.monotonic() < end:
                up = not up
                self.set_link(host, up)
                cuts += not up
                time.sleep(max(0.0, min(period, end - time.monotonic())))
        finally:
            self.set_link(host, True)
        return cuts

    def partition(self, *groups: Sequence[Host]) -> None:
        """Split the hosts in ``groups``: each reaches only the hosts of its own group."""
        for n, group in enumerate(groups[1:], start=1):
            bridge = f"br{n}"
            _inside(self._bridge_ns, "ip", "link", "add", bridge, "type", "bridge")
            self._bridges.append(bridge)
            _inside(self._bridge_ns, "ip", "link", "set", bridge, "up")
            for host in group:
                self._plug(host, bridge)

    def _plug(self, host: Host, bridge: str) -> None:
        port = f"port{self.lan.hosts.index(host)}"
        _inside(self._bridge_ns, "ip", "link", "set", port, "master", bridge)

    def heal(self) -> None:
        """Every cable plugged in, on the one bridge, with no loss or delay."""
        for host in self.lan.hosts:
            self.clear(host)
            self.set_link(host, True)
            self._plug(host, "br0")
        while self._bridges:
            _inside(self._bridge_ns, "ip", "link", "del", self._bridges.pop(), check=False)

    def close(self) -> None:
        try:
            self.heal()
        finally:
            for wire in self._wires.values():  # left only if heal failed half-way
                wire.kill()
                wire.wait(10)
                assert wire.stdout is not None
                wire.stdout.close()
            self._wires.clear()

    def __enter__(self) -> LinkFaults:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ------------------------------------------------------------ loss and delay without netem

# nfnetlink_queue, as in <linux/netfilter/nfnetlink_queue.h>: the packets iptables queues are
# announced by their ids on a NETLINK_NETFILTER socket, and each waits in the kernel for the
# verdict sent back (accept or drop). Netlink headers are in the host's byte order, the queue's
# attributes in network order.
QUEUE_NUMBER = 0
_NETLINK_NETFILTER = 12
_SO_RCVBUFFORCE = 33
_QUEUE = 3 << 8  # the queue subsystem, in the high byte of a message type
_PACKET, _VERDICT, _CONFIG, _VERDICT_BATCH = 0, 1, 2, 3
_CFG_CMD, _CFG_PARAMS, _CFG_QUEUE_MAXLEN, _CFG_MASK, _CFG_FLAGS = 1, 2, 3, 4, 5
_CMD_BIND, _COPY_META, _FAIL_OPEN = 1, 1, 1
_PACKET_HDR, _VERDICT_HDR = 1, 2
_NF_DROP, _NF_ACCEPT = 0, 1
_NLM_F_REQUEST, _NLM_F_ACK, _NLMSG_ERROR = 1, 4, 2

_WIRE = (
    "import sys; from natakanu_peer.faults.network import lose_and_delay; "
    "sys.exit(lose_and_delay(float(sys.argv[1]), float(sys.argv[2])))"
)


def _attribute(kind: int, payload: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + bytes(-len(data) % 4)


def _queue_message(kind: int, flags: int, *attributes: bytes) -> bytes:
    # nfgenmsg: address family (unspecified), version 0, then the queue number.
    body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack(">H", QUEUE_NUMBER)
    body += b"".join(attributes)
    return struct.pack("=IHHII", 16 + len(body), _QUEUE | kind, flags, 0, 0) + body


def _verdict(kind: int, verdict: int, packet_id: int) -> bytes:
    header = _attribute(_VERDICT_HDR, struct.pack(">II", verdict, packet_id))
    return _queue_message(kind, _NLM_F_REQUEST, header)


def _messages(data: bytes) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from("=IH", data, offset)
        if length < 16:
            return
        yield kind, data[offset + 16 : offset + length]
        offset += (length + 3) & ~3


def _packet_id(body: bytes) -> int | None:
    at = 4  # after the nfgenmsg
    while at + 4 <= len(body):
        size, kind = struct.unpack_from("=HH", body, at)
        if size < 4:
            return None
        if kind & 0x3FFF == _PACKET_HDR:  # the top two bits are flags
            return int(struct.unpack_from(">I", body, at + 4)[0])
        at += (size + 3) & ~3
    return None


def lose_and_delay(loss_percent: float, delay_ms: float) -> int:
    """Inside a namespace, where netem is missing: drop ``loss_percent`` of the packets
    iptables queues (queue ``QUEUE_NUMBER``) and let the others go on ``delay_ms`` later, in
    their order. Prints ``ready`` once bound to the queue; on SIGTERM it lets go every packet
    it holds and returns."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_NETFILTER)
    # Room for many announcements: one that does not fit is a packet passed without delay
    # (the queue fails open) rather than one held for ever.
    sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 16 << 20)
    sock.bind((0, 0))
    sock.send(
        _queue_message(
            _CONFIG,
            _NLM_F_REQUEST | _NLM_F_ACK,
            _attribute(_CFG_CMD, struct.pack(">BBH", _CMD_BIND, 0, socket.AF_INET)),
            _attribute(_CFG_PARAMS, struct.pack(">IB", 0, _COPY_META)),  # ids, not contents
            _attribute(_CFG_QUEUE_MAXLEN, struct.pack(">I", 16384)),
            _attribute(_CFG_MASK, struct.pack(">I", _FAIL_OPEN)),
            _attribute(_CFG_FLAGS, struct.pack(">I", _FAIL_OPEN)),
        )
    )
    for kind, body in _messages(sock.recv(65536)):
        if kind == _NLMSG_ERROR and struct.unpack_from("=i", body)[0] != 0:
            raise OSError(-struct.unpack_from("=i", body)[0], "binding the netfilter queue")
    print("ready", flush=True)

    rng = random.Random()
    delay = delay_ms / 1000
    held: collections.deque[tuple[float, int]] = collections.deque()  # (when due, id)
    sock.setblocking(False)
    while not stopping.is_set():
        now = time.monotonic()
        wait = min(0.5, held[0][0] - now) if held else 0.5
        readable, _, _ = select.select([sock], [], [], max(0.0, wait))
        now = time.monotonic()
        while readable:
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:  # announcements lost; those packets passed
                    continue
                raise
            for kind, body in _messages(data):
                packet_id = _packet_id(body) if kind == _QUEUE | _PACKET else None
                if packet_id is None:
                    continue
                if rng.random() * 100 < loss_percent:
                    sock.send(_verdict(_VERDICT, _NF_DROP, packet_id))
                else:
                    held.append((now + delay, packet_id))
        # One verdict lets go every packet up to an id: the ones due, all in order.
        due = None
        while held and held[0][0] <= now:
            due = held.popleft()[1]
        if due is not None:
            sock.send(_verdict(_VERDICT_BATCH, _NF_ACCEPT, due))
    if held:
        sock.send(_verdict(_VERDICT_BATCH, _NF_ACCEPT, held[-1][1]))
    sock.close()
    return 0


# ---------------------------------------------------------------------- driving the daemons

# Run in each namespace: the control API listens on that namespace's loopback only, and one
# process kept there answers many requests for the cost of one Python start.
_RELAY = (
    "import sys; from natakanu_peer.faults.network import relay_control_requests as relay; "
    "sys.exit(relay(sys.argv[1]))"
)


def relay_control_requests(data_dir: str) -> int:
    """Inside a daemon's namespace: run the control requests read on standard input.

    Each line is ``{"calls": [[command, body], ...], "timeout": seconds}``; each answer is
    one line, ``{"results": [...]}`` or ``{"error": "..."}``.
    """
    from ..net.control import call

    folder = Path(data_dir)
    control = folder / "control.json"

    async def run(calls: list[list[Any]]) -> list[Any]:
        return [await call(control, folder, str(name), dict(body)) for name, body in calls]

    for line in sys.stdin:
        request = json.loads(line)
        try:
            results = asyncio.run(asyncio.wait_for(run(request["calls"]), request["timeout"]))
            answer: dict[str, Any] = {"results": results}
        except Exception as exc:  # said to the caller, who decides
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


class _Relay:
    """The parent's end of ``relay_control_requests`` for one daemon (thread-safe)."""

    def __init__(self, daemon: Daemon, log_path: Path) -> None:
        assert daemon.netns is not None
        self.name = daemon.name
        self._lock = threading.Lock()
        with log_path.open("a") as errors:
            self._process = subprocess.Popen(
                ["ip", "netns", "exec", daemon.netns, PYTHON, "-c", _RELAY, str(daemon.data_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            )

    def calls(self, calls: Sequence[tuple[str, dict[str, Any]]], timeout: float = 60) -> list[Any]:
        stdin, stdout = self._pipes()
        with self._lock:
            stdin.write(json.dumps({"calls": calls, "timeout": timeout}) + "\n")
            stdin.flush()
            line = stdout.readline()
        if not line:
            raise RuntimeError(f"the control helper of {self.name} stopped")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"{self.name}: {calls[0][0]} failed: {answer['error']}")
        return list(answer["results"])

    def call(self, name: str, body: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        return self.calls([(name, body or {})], timeout)[0]

    def listed(self) -> set[str]:
        return {entry["key"] for entry in self.call("keys")}

    def advertise(self, text: str) -> str:
        return str(self.call("advertise", {"text": text})["key"])

    def online(self) -> int:
        return sum(1 for peer in self.call("peers") if peer["online"])

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self._process.stdin is not None and self._process.stdout is not None
        return self._process.stdin, self._process.stdout

    def close(self) -> None:
        stdin, stdout = self._pipes()
        with contextlib.suppress(OSError):
            stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(10)
        stdout.close()


class _Circle:
    """Four daemons of one circle, one per host: A makes the circle, B, C and D join it with
    its invitation. Each dials those started before it (``--peer``), so none depends on mDNS
    to find the others; mDNS still runs, on its namespace's interfaces only."""

    def __init__(self, lan: LocalNetwork, root: Path) -> None:
        self.lan = lan
        self.root = root
        self.daemons: list[Daemon] = []
        self.relays: list[_Relay] = []
        try:
            for name, host in zip(NAMES, lan.hosts, strict=True):
                daemon = Daemon(
                    root / name,
                    peers=[d.address for d in self.daemons],
                    name=name,
                    address=f"{host.address}:{PORT}",
                    circle_of=self.daemons[0] if self.daemons else None,
                    netns=host.netns,
                )
                self.daemons.append(daemon)
                daemon.start()
                self.relays.append(_Relay(daemon, root / f"relay-{name}.log"))
        except BaseException:
            self.close()
            raise

    def wait_linked(self, limit: float = 90) -> None:
        """Until every daemon has a link with the three others."""
        deadline = time.monotonic() + limit
        while not all(relay.online() == len(self.relays) - 1 for relay in self.relays):
            if time.monotonic() > deadline:
                counts = {r.name: r.online() for r in self.relays}
                raise RuntimeError(f"the four daemons did not all link: peers online {counts}")
            time.sleep(0.25)

    def listings(self) -> list[set[str]]:
        return [relay.listed() for relay in self.relays]

    def converge(
        self, done: Callable[[list[set[str]]], bool], since: float, limit: float
    ) -> tuple[float | None, list[set[str]]]:
        """Seconds from ``since`` until the keys listed satisfy ``done`` (polled), or None
        after ``limit`` seconds; and the last listings seen."""
        while True:
            listings = self.listings()
            now = time.monotonic()
            if done(listings):
                return now - since, listings
            if now - since > limit:
                return None, listings
            time.sleep(0.2)

    def close(self) -> None:
        for relay in self.relays:
            with contextlib.suppress(Exception):
                relay.close()
        for daemon in self.daemons:
            if daemon.process is not None:
                with contextlib.suppress(Exception):
                    daemon.stop()

    def __enter__(self) -> _Circle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------- the scenarios


@dataclass(frozen=True)
class Plan:
    keys: int  # advertised at once in the loss-and-delay scenario
    file_mb: int
    flap_seconds: float
    flap_period: float
    partition_seconds: float
    converge_limit: float  # longest wait for convergence before calling it a miss
    fetch_limit: float

    @classmethod
    def full(cls) -> Plan:
        return cls(200, 20, 30, 3, 30, 180, 1800)

    @classmethod
    def quick(cls) -> Plan:
        return cls(40, 2, 10, 3, 10, 40, 60)


def _text(key: str) -> str:
    try:
        return bytes.fromhex(key).decode()
    except UnicodeDecodeError:
        return key[:16] + "…"


def _differences(listings: list[set[str]], expected: set[str]) -> dict[str, dict[str, list[str]]]:
    """For each daemon not listing exactly ``expected``: what it lacks and what it has too."""
    report = {}
    for name, listed in zip(NAMES, listings, strict=True):
        if listed != expected:
            report[name] = {
                "lacks": sorted(_text(k) for k in expected - listed),
                "extra": sorted(_text(k) for k in listed - expected),
            }
    return report


def _loss_and_delay(circle: _Circle, faults: LinkFaults, plan: Plan) -> dict[str, Any]:
    for host in circle.lan.hosts:
        faults.netem(host, loss_percent=5, delay_ms=100)
    a, d = circle.relays[0], circle.relays[-1]
    texts = [f"loss and delay {n}" for n in range(plan.keys)]
    wanted = {t.encode().hex() for t in texts}
    started = time.monotonic()
    a.calls([("advertise", {"text": t}) for t in texts], timeout=plan.converge_limit)
    advertised = time.monotonic() - started
    seconds, listings = circle.converge(
        lambda sets: all(wanted <= s for s in sets), started, plan.converge_limit
    )
    result: dict[str, Any] = {
        "scenario": "loss and delay (5% loss, 100 ms, every cable)",
        "converge_seconds": seconds,
        "advertise_seconds": advertised,
        "keys": len(wanted),
        "converged": seconds is not None,
    }
    if seconds is None:
        result["differences"] = _differences(listings, wanted)

    # One file shared by A and fetched by D, the last to join.
    source = circle.root / "shared" / f"film-{plan.file_mb}MB.bin"
    source.parent.mkdir(parents=True, exist_ok=True)
    with source.open("wb") as file:
        for _ in range(plan.file_mb):
            file.write(os.urandom(1 << 20))
    [shared] = a.call("share", {"paths": [str(source)]}, timeout=120)
    key = str(shared["key"])
    listed, _ = circle.converge(lambda sets: key in sets[-1], time.monotonic(), 60)
    fetch_seconds: float | None = None
    identical = False
    if listed is not None:
        started = time.monotonic()
        answer = d.call("fetch", {"key": key, "to": str(circle.root / "inbox-D")}, plan.fetch_limit)
        fetch_seconds = time.monotonic() - started
        identical = sha256_of(Path(answer["path"])) == sha256_of(source)
    result.update(fetch_seconds=fetch_seconds, file_mb=plan.file_mb, identical=identical)
    result["met"] = result["converged"] and identical
    converged = f"{seconds:.2f} s" if seconds is not None else "not converged"
    fetched = (
        f"{plan.file_mb} MB fetched by D in {fetch_seconds:.1f} s, identical: {identical}"
        if fetch_seconds is not None
        else "file key never listed by D"
    )
    result["figure"] = (
        f"{len(wanted)} keys (advertised in {advertised:.2f} s) listed by all 4 after "
        f"{converged}; {fetched}"
    )
    return result


class _Writer(threading.Thread):
    """Advertises a new key on one daemon every ``every`` seconds until told to stop."""

    def __init__(self, relay: _Relay, prefix: str, every: float) -> None:
        super().__init__(daemon=True)
        self.relay, self.prefix, self.every = relay, prefix, every
        self.keys: list[str] = []
        self.failure: str | None = None
        self.halt = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.halt.is_set():
            n += 1
            try:
                self.keys.append(self.relay.advertise(f"{self.prefix} {n}"))
            except RuntimeError as exc:
                self.failure = str(exc)
                return
            self.halt.wait(self.every)


def _flapping(circle: _Circle, faults: LinkFaults, plan: Plan) -> dict[str, Any]:
    # D's cable flaps while A (always reachable) and D (cut half the time) add keys.
    a, d = circle.relays[0], circle.relays[-1]
    writers = [_Writer(a, "flapping, from A", 0.5), _Writer(d, "flapping, from D", 0.5)]
    for writer in writers:
        writer.start()
    try:
        cuts = faults.flap(circle.lan.hosts[-1], plan.flap_seconds, plan.flap_period)
    finally:
        for writer in writers:
            writer.halt.set()
        for writer in writers:
            writer.join(30)
    ended = time.monotonic()
    wanted = {k for w in writers for k in w.keys}
    seconds, listings = circle.converge(
        lambda sets: all(s == sets[0] for s in sets) and wanted <= sets[0],
        ended,
        plan.converge_limit,
    )
    failures = [w.failure for w in writers if w.failure]
    result: dict[str, Any] = {
        "scenario": f"flapping (D's cable down/up every {plan.flap_period:g} s "
        f"for {plan.flap_seconds:g} s)",
        "converge_seconds": seconds,
        "keys": len(wanted),
        "cuts": cuts,
        "converged": seconds is not None,
        "met": seconds is not None and not failures,
    }
    if failures:
        result["failures"] = failures
    if seconds is None:
        result["differences"] = _differences(listings, set.union(*listings))
    converged = f"{seconds:.2f} s" if seconds is not None else "not converged"
    result["figure"] = (
        f"{len(wanted)} keys advertised by A and D during {cuts} cuts; same keys everywhere "
        f"{converged} after the flapping stopped"
    )
    return result


def _partition(circle: _Circle, faults: LinkFaults, plan: Plan) -> dict[str, Any]:
    a, b, c, d = circle.relays
    hosts = circle.lan.hosts
    # One key from each side that everybody knows, deleted during the partition by its
    # author: the other side must learn of the delete once healed.
    known = [a.advertise("partition: from A, known to all"),
             c.advertise("partition: from C, known to all")]  # fmt: skip
    ready, _ = circle.converge(
        lambda sets: all(set(known) <= s for s in sets), time.monotonic(), 60
    )
    if ready is None:
        raise RuntimeError("the keys advertised before the partition did not reach everyone")
    before = a.listed()

    faults.partition(hosts[:2], hosts[2:])
    started = time.monotonic()
    added: dict[str, list[str]] = {r.name: [] for r in circle.relays}
    deleted: list[str] = []
    n = 0
    while time.monotonic() - started < plan.partition_seconds:
        n += 1
        for relay in circle.relays:
            added[relay.name].append(relay.advertise(f"partition: from {relay.name} {n}"))
        if n == 3:
            # Each side deletes the key both sides knew and one of its own new ones.
            for relay, old in ((a, known[0]), (c, known[1])):
                for key in (old, added[relay.name][0]):
                    relay.call("delete", {"key": key})
                    deleted.append(key)
        time.sleep(1)
    # The partition held if neither side heard of the other's news.
    held = added["A"][-1] not in c.listed() and added["C"][-1] not in a.listed()
    held = held and known[0] in d.listed() and known[1] in b.listed()
    faults.heal()
    healed = time.monotonic()

    expected = (before | {k for keys in added.values() for k in keys}) - set(deleted)
    seconds, listings = circle.converge(
        lambda sets: all(s == expected for s in sets), healed, plan.converge_limit
    )
    stuck = not any(set(deleted) & s for s in circle.listings())
    result: dict[str, Any] = {
        "scenario": f"partition A+B / C+D healed after {plan.partition_seconds:g} s",
        "converge_seconds": seconds,
        "keys": len(expected),
        "advertised_during": sum(len(k) for k in added.values()),
        "deleted_during": len(deleted),
        "partition_held": held,
        "deletes_stuck": stuck,
        "converged": seconds is not None,
        "met": seconds is not None and stuck and held,
    }
    if seconds is None:
        result["differences"] = _differences(listings, expected)
    converged = f"{seconds:.2f} s" if seconds is not None else "not converged"
    result["figure"] = (
        f"{result['advertised_during']} keys advertised and {len(deleted)} deleted during the "
        f"partition (held: {held}); exactly the same {len(expected)} keys everywhere "
        f"{converged} after healing; deletes stuck: {stuck}"
    )
    return result


Scenario = Callable[[_Circle, LinkFaults, Plan], dict[str, Any]]
SCENARIOS: tuple[tuple[str, Scenario], ...] = (
    ("loss and delay", _loss_and_delay),
    ("flapping", _flapping),
    ("partition healed", _partition),
)


@contextlib.contextmanager
def _folder(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
    else:
        with tempfile.TemporaryDirectory(prefix="natakanu-network-faults-") as folder:
            yield Path(folder)


def run_network_faults(quick: bool = False, keep: Path | None = None) -> list[dict[str, Any]]:
    """Run the three scenarios on four daemons; one dict of figures per scenario.

    ``quick``: shorter faults, fewer keys and a smaller file. ``keep``: the folder for the
    daemons' data directories and logs, kept afterwards (else a temporary one, removed).
    """
    reason = can_run()
    if reason is not None:
        raise RuntimeError(f"network faults need network namespaces and tc: {reason}")
    plan = Plan.quick() if quick else Plan.full()
    results: list[dict[str, Any]] = []
    with (
        _folder(keep) as root,
        LocalNetwork(len(NAMES)) as lan,
        LinkFaults(lan) as faults,
        _Circle(lan, root) as circle,
    ):
        for title, scenario in SCENARIOS:
            log.info("network faults: %s", title)
            try:
                faults.heal()
                circle.wait_linked()
                result = scenario(circle, faults, plan)
            except Exception as exc:  # reported as a miss; the next scenario still runs
                log.exception("network faults: %s failed", title)
                result = {"scenario": title, "figure": f"failed: {exc}", "converged": False,
                          "met": False, "error": str(exc)}  # fmt: skip
            result["target"] = TARGET
            if not result["met"]:
                result["logs"] = [str(d.log_path) for d in circle.daemons]
            results.append(result)
    return results


def markdown_table(results: Sequence[dict[str, Any]]) -> str:
    lines = ["| scenario | figure | target | met |", "|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['scenario']} | {r['figure']} | {r['target']} | {'yes' if r['met'] else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="natakanu_peer.faults.network",
        description="Loss, delay, flapping and a partition between four daemons in network "
        "namespaces (root, ip and tc needed); prints a Markdown table.",
    )
    parser.add_argument("--quick", action="store_true", help="shorter faults, fewer keys")
    parser.add_argument("--keep", type=Path, help="keep the daemons' folders and logs here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        results = run_network_faults(quick=args.quick, keep=args.keep)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(markdown_table(results))
    for r in results:
        if not r["met"]:
            print(json.dumps(r, indent=2), file=sys.stderr)
    return 0 if all(r["met"] for r in results) else 1
