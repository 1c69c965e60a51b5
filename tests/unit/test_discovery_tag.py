"""Discovery tags: members recognise them, nobody else can, and noise never raises."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from natakanu_peer.protocol.circle import CircleKeys
from natakanu_peer.protocol.discovery_tag import TAG_CHARS, make_tag, recognise

CIRCLE = CircleKeys.generate()


def test_a_member_recognises_a_tag_for_its_port_and_nobody_else_does() -> None:
    tag = make_tag(CIRCLE, 4700)
    assert len(tag) == TAG_CHARS and tag == tag.lower()
    assert recognise(CIRCLE, tag, 4700)
    assert not recognise(CIRCLE, tag, 4701)  # moved to another port: not the same announcement
    assert not recognise(CircleKeys.generate(), tag, 4700)
    assert not recognise(CIRCLE.next_epoch(), tag, 4700)  # after a removal, a new tag is needed


def test_two_tags_of_one_circle_share_nothing_an_outsider_could_link() -> None:
    tags = {make_tag(CIRCLE, 4700) for _ in range(100)}
    assert len(tags) == 100
    assert CIRCLE.circle_id not in "".join(tags)


@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(max_size=64), st.binary(max_size=64), st.integers(), st.none()), st.data())
def test_anything_heard_on_the_network_is_a_plain_no(tag, data) -> None:
    assert recognise(CIRCLE, make_tag(CIRCLE, 9), 9)  # the harness works
    port = data.draw(st.one_of(st.integers(-5, 70000), st.text(max_size=5), st.none()))
    assert recognise(CIRCLE, tag, port) is False
