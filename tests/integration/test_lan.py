"""Three computers on one network find each other, share, survive a cut cable; a fourth,
not invited, gets nothing.

Each computer is a network namespace on a bridge of its own (see ``netns``); the daemons run
inside them with discovery on every interface they have, and no address is ever given.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from natakanu_peer.bench.netns import LocalNetwork, can_make_namespaces

from .daemons import Daemon, online, wait_for, without_hints

pytestmark = pytest.mark.skipif(
    can_make_namespaces() is not None, reason=f"{can_make_namespaces()}"
)


def test_three_hosts_discover_share_and_heal_and_a_stranger_gets_nothing(tmp_path: Path):
    with LocalNetwork(4) as lan:
        host_a, host_b, host_c, host_s = lan.hosts
        started: list[Daemon] = []
        try:

            def run(name: str, host, join: str | None = None) -> Daemon:
                daemon = Daemon(
                    tmp_path / name, name=name, netns=host.netns, address="0.0.0.0:0", join=join
                ).start()
                started.append(daemon)
                return daemon

            a = run("A", host_a)
            invitation = without_hints(a.invitation())  # no address: discovery must do it
            b = run("B", host_b, invitation)
            c = run("C", host_c, invitation)
            stranger = run("S", host_s)
            members = [a, b, c]
            ids = {d.json("status")["peer_id"] for d in members}

            wait_for(
                lambda: all(online(d) == ids - {d.json("status")["peer_id"]} for d in members),
                timeout=30,
            )

            # Keys and files flow between them, found with no address given.
            a.cli("advertise", "--text", "first key")
            film = tmp_path / "film.mkv"
            film.write_bytes(bytes(range(256)) * 40_000)
            [key] = a.cli("share", str(film)).split()
            wait_for(lambda: key in c.listed(), timeout=10)
            path = Path(c.cli("fetch", key, "--to", str(tmp_path / "inbox-c")).strip())
            assert path.read_bytes() == film.read_bytes()

            # C's cable is cut while both sides advertise; it is plugged back in.
            lan.set_link(host_c, up=False)
            a.cli("advertise", "--text", "while cut, from A")
            c.cli("advertise", "--text", "while cut, from C")
            time.sleep(3)
            assert b"while cut, from C".hex() not in a.listed()
            lan.set_link(host_c, up=True)
            healed = time.monotonic()
            expected = set(a.listed()) | set(c.listed())
            wait_for(lambda: all(set(d.listed()) == expected for d in members), timeout=10)
            assert time.monotonic() - healed <= 10

            # The stranger on the same network heard the announcements and got nothing.
            assert online(stranger) == set()
            assert stranger.listed() == []
            assert stranger.json("status")["discovery"]["members_found"] == 0

            # B gets a second address (another network): it is announced again by itself.
            extra = host_b.address.rsplit(".", 1)[0] + ".200"
            subprocess.run(
                ["ip", "-n", host_b.netns, "addr", "add", f"{extra}/24", "dev", host_b.link],
                check=True,
            )
            wait_for(lambda: extra in b.json("status")["discovery"]["announced"], timeout=15)

            # C is removed: A and B carry on with a new secret, C gets nothing new.
            c_id = c.json("status")["peer_id"]
            a.cli("remove", c_id[:12])
            a.cli("advertise", "--text", "after C left")
            wait_for(lambda: b"after C left".hex() in b.listed(), timeout=10)
            time.sleep(3)
            assert b"after C left".hex() not in c.listed()
        finally:
            for daemon in started:
                daemon.stop()
