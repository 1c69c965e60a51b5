"""Members find each other on the local network with no address given; strangers do not.

mDNS is bound to 127.0.0.1 here: nothing is sent on the machine's real network.
"""

from __future__ import annotations

import time
from pathlib import Path

from .daemons import Daemon, online, wait_for, without_hints


def test_members_find_each_other_with_no_address_and_a_stranger_is_left_out(
    tmp_path: Path, daemons: list[Daemon]
):
    a = Daemon(tmp_path / "a", name="A", discovery_on="127.0.0.1").start()
    daemons.append(a)
    b = Daemon(
        tmp_path / "b", name="B", discovery_on="127.0.0.1", join=without_hints(a.invitation())
    ).start()
    daemons.append(b)
    stranger = Daemon(tmp_path / "s", name="S", discovery_on="127.0.0.1").start()
    daemons.append(stranger)
    a_id, b_id = a.json("status")["peer_id"], b.json("status")["peer_id"]

    started = time.monotonic()
    wait_for(lambda: b_id in online(a) and a_id in online(b), timeout=20)
    found_in = time.monotonic() - started
    a.cli("advertise", "--text", "film du lac")
    wait_for(lambda: b"film du lac".hex() in b.listed(), timeout=10)

    # The stranger heard the announcements too, but recognised nobody and got nothing.
    time.sleep(2)
    assert online(stranger) == set()
    assert stranger.listed() == []
    assert stranger.json("status")["discovery"]["members_found"] == 0
    assert a.json("status")["discovery"] == {
        "on": True,
        "members_found": 1,
        "announced": ["127.0.0.1"],
    }
    assert found_in < 20
