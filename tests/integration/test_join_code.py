"""Joining by a short code read aloud: found on the local network, one try, then gone.

mDNS is bound to 127.0.0.1 here: nothing is sent on the machine's real network.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .daemons import Daemon, wait_for


def test_a_newcomer_joins_with_the_words_it_was_told(tmp_path: Path, daemons) -> None:
    member = Daemon(tmp_path / "m", name="M", discovery_on="127.0.0.1").start()
    newcomer = Daemon(tmp_path / "n", name="N", discovery_on="127.0.0.1").start()
    daemons += [member, newcomer]
    member.cli("advertise", "--text", "welcome")
    code = member.cli("invite", "--code").strip()
    assert code.count("-") == 2 and code.split("-")[0].isdigit()

    said = newcomer.cli("join", "--code", code.upper().replace("-", " "))  # as heard
    assert "joined the circle: M's circle" in said
    wait_for(lambda: b"welcome".hex() in newcomer.listed(), timeout=15)


def test_a_wrong_word_fails_and_uses_the_code_up(tmp_path: Path, daemons) -> None:
    member = Daemon(tmp_path / "m", name="M", discovery_on="127.0.0.1").start()
    guesser = Daemon(tmp_path / "g", name="G", discovery_on="127.0.0.1").start()
    daemons += [member, guesser]
    code = member.cli("invite", "--code").strip()
    number, first, second = code.split("-")
    wrong = f"{number}-{first}-{'otter' if second != 'otter' else 'raven'}"

    with pytest.raises(AssertionError, match="do not match"):
        guesser.cli("join", "--code", wrong, "--from", member.address)
    # One try per code: even the right words are refused now.
    with pytest.raises(AssertionError, match="used already or has expired"):
        guesser.cli("join", "--code", code, "--from", member.address)
    assert guesser.json("circles")[0]["name"] == "G's circle"  # still only its own circle
    with pytest.raises(AssertionError, match="not a word of join codes"):
        guesser.cli("join", "--code", f"{number}-{first}-notaword")
    with pytest.raises(AssertionError, match="No member on this network"):
        guesser.cli("join", "--code", "998-river-moose")
