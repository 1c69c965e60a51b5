"""A small local network made of Linux network namespaces, for tests and benchmarks run as root.

One namespace holds a bridge; each host is a namespace joined to it by a veth pair, with an
address in a private /24 of its own. Nothing is added to the machine's own namespace, so no
packet of these tests can reach a real network; everything is removed at the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass


def can_make_namespaces() -> str | None:
    """None when namespaces can be made here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "the ip command (Debian package iproute2) is missing"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


@dataclass(frozen=True)
class Host:
    netns: str
    address: str
    link: str  # its end of the veth pair, inside its namespace


class LocalNetwork:
    def __init__(self, hosts: int) -> None:
        tag = f"{os.getpid() % 10000}"
        subnet = 10 + os.getpid() % 200
        self._bridge_ns = f"ntkbr{tag}"
        self._names: list[str] = []
        self.hosts: list[Host] = []
        try:
            self._add_namespace(self._bridge_ns)
            _ip("-n", self._bridge_ns, "link", "add", "br0", "type", "bridge")
            _ip("-n", self._bridge_ns, "link", "set", "br0", "up")
            for i in range(hosts):
                netns = f"ntk{tag}h{i}"
                self._add_namespace(netns)
                inside, outside = f"eth{i}", f"port{i}"
                _ip("-n", netns, "link", "add", inside, "type", "veth", "peer", "name", outside)
                _ip("-n", netns, "link", "set", outside, "netns", self._bridge_ns)
                _ip("-n", self._bridge_ns, "link", "set", outside, "master", "br0")
                _ip("-n", self._bridge_ns, "link", "set", outside, "up")
                address = f"10.{subnet}.77.{i + 1}"
                _ip("-n", netns, "addr", "add", f"{address}/24", "dev", inside)
                _ip("-n", netns, "link", "set", "lo", "up")
                _ip("-n", netns, "link", "set", inside, "up")
                self.hosts.append(Host(netns, address, inside))
        except BaseException:
            self.close()
            raise

    def _add_namespace(self, name: str) -> None:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)  # left from a crash
        _ip("netns", "add", name)
        self._names.append(name)

    def set_link(self, host: Host, up: bool) -> None:
        """Cut (or restore) one host's cable."""
        _ip("-n", host.netns, "link", "set", host.link, "up" if up else "down")

    def close(self) -> None:
        for name in reversed(self._names):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self._names.clear()

    def __enter__(self) -> LocalNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
