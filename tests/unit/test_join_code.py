"""Join codes: their words, one try each, expiry, and the key exchange behind them."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natakanu_peer.app.join_offers import JoinOffers, Newcomer, answer
from natakanu_peer.errors import RemoteProtocolError, UsageError
from natakanu_peer.protocol import join_code

INVITATION = "NATAKANU1" + "A" * 120


def test_codes_are_a_number_and_two_words_and_forgive_how_they_are_typed() -> None:
    assert len(join_code.WORDS) == 256 and len(set(join_code.WORDS)) == 256
    code = join_code.new_code(set())
    nameplate, normalised = join_code.parse_code(code)
    assert normalised == code and 1 <= nameplate <= join_code.MAX_NAMEPLATE
    assert join_code.parse_code(" 42 River  MOOSE ") == (42, "42-river-moose")
    for bad, says in [
        ("river-moose", "a number and two words"),
        ("0-river-moose", "from 1 to"),
        ("42-river-mooose", "not a word"),
        ("²-river-moose", "a number and two words"),  # a digit to isdigit(), not to int()
        ("1" * 4301 + "-river-moose", "from 1 to"),  # beyond int()'s own limit
    ]:
        with pytest.raises(UsageError, match=says):
            join_code.parse_code(bad)


def test_an_offer_is_taken_by_its_first_try_and_expires() -> None:
    now = [1000.0]
    offers = JoinOffers(clock=lambda: now[0])
    first = offers.create(INVITATION)
    second = offers.create(INVITATION)
    one, _ = join_code.parse_code(first.code)
    two, _ = join_code.parse_code(second.code)
    assert one != two and offers.waiting() == sorted([one, two])
    assert offers.take(one) == first
    assert offers.take(one) is None  # used up, right or wrong
    now[0] += join_code.CODE_SECONDS
    assert offers.take(two) is None  # ten minutes later, gone
    assert offers.waiting() == []


def test_the_right_words_open_the_invitation_and_wrong_ones_learn_nothing() -> None:
    offers = JoinOffers()
    offer = offers.create(INVITATION)
    newcomer = Newcomer(offer.code)
    assert newcomer.invitation(answer(offer, newcomer.request())) == INVITATION

    nameplate, first, second = offer.code.split("-")
    wrong = Newcomer(f"{nameplate}-{first}-{'otter' if second != 'otter' else 'raven'}")
    sealed = answer(offer, wrong.request())
    assert INVITATION.encode() not in sealed
    with pytest.raises(UsageError, match="do not match"):
        wrong.invitation(sealed)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_anything_a_stranger_sends_a_member_fails_as_declared(data: bytes) -> None:
    offer = JoinOffers().create(INVITATION)
    assert answer(offer, Newcomer(offer.code).request())  # the harness works
    with contextlib.suppress(RemoteProtocolError):
        answer(offer, data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_anything_a_false_member_answers_fails_as_declared(data: bytes) -> None:
    newcomer = Newcomer("42-river-moose")
    newcomer.request()
    with contextlib.suppress(RemoteProtocolError, UsageError):
        newcomer.invitation(data)
