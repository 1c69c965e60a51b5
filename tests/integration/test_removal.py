"""Removing a member: the others get a new secret, the removed one gets nothing new, ever.

A, B, C and D are members; D is away when A removes C. C keeps dialling A and B with the
secret it knew; D comes back with that same old secret and is brought up to date.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .daemons import Daemon, online, wait_for


def peer_id(daemon: Daemon) -> str:
    return str(daemon.json("status")["peer_id"])


def test_a_removed_member_is_cut_off_and_the_others_carry_on(tmp_path: Path, daemons):
    a = Daemon(tmp_path / "a", name="A").start()
    daemons.append(a)
    b = Daemon(tmp_path / "b", name="B", peers=[a.address], circle_of=a).start()
    daemons.append(b)
    c = Daemon(tmp_path / "c", name="C", peers=[a.address, b.address], circle_of=a).start()
    daemons.append(c)
    d = Daemon(tmp_path / "d", name="D", peers=[a.address], circle_of=a).start()
    daemons.append(d)
    ids = {x.name: peer_id(x) for x in (a, b, c, d)}
    wait_for(lambda: online(a) >= {ids["B"], ids["C"], ids["D"]} and ids["B"] in online(c))
    d.stop()  # D is away during what follows

    said = a.cli("remove", ids["C"][:10])
    assert ids["C"][:16] in said and "new secret" in said

    wait_for(lambda: ids["C"] not in online(a) and ids["C"] not in online(b), timeout=10)
    wait_for(lambda: b.json("status")["circle"]["epoch"] == 1, timeout=10)
    a.cli("advertise", "--text", "after the removal")
    key = b"after the removal".hex()
    wait_for(lambda: key in b.listed(), timeout=10)

    # C keeps trying with the secret it had, at both addresses it knows: nothing comes back.
    time.sleep(4)
    assert key not in c.listed()
    assert online(c) == set()
    assert "not accepted in this circle" in a.log() + b.log()

    # D comes back knowing only the old secret; A recognises a member and updates it.
    d.start()
    wait_for(lambda: key in d.listed(), timeout=20)
    assert d.json("status")["circle"]["epoch"] == 1
    assert ids["C"] not in {p["peer_id"] for p in d.json("peers") if p["online"]}

    # And an invitation made now carries the new secret: C's old one no longer opens the door.
    fresh = Daemon(tmp_path / "e", name="E", peers=[a.address], circle_of=b).start()
    daemons.append(fresh)
    wait_for(lambda: key in fresh.listed(), timeout=10)


def test_removing_needs_a_clear_member_id(tmp_path: Path, daemons):
    a = Daemon(tmp_path / "a").start()
    daemons.append(a)
    done = a.cli("remove", "abc", check=False)
    assert done == ""
    with pytest.raises(AssertionError, match="first 8 characters"):
        a.cli("remove", "abc")
    with pytest.raises(AssertionError, match="first 8 characters"):
        a.cli("remove", "0123456789abcdef")
