"""The gossip codec: every message round-trips; any byte string decodes or is refused cleanly."""

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natakanu_peer.errors import LocalProtocolError, RemoteProtocolError
from natakanu_peer.protocol import limits
from natakanu_peer.protocol.gossip_messages import (
    AuthorBatch,
    Delta,
    Hello,
    Operation,
    OpKind,
    Summary,
    Vector,
    VectorEntry,
    decode_message,
    encode_message,
)

authors = st.binary(min_size=32, max_size=32)


@st.composite
def interval_lists(draw, max_intervals=4):
    intervals, end = [], 0
    for _ in range(draw(st.integers(0, max_intervals))):
        start = end + 1 + draw(st.integers(0, 50))
        end = start + draw(st.integers(0, 50))
        intervals.append((start, end))
    return tuple(intervals)


entries = st.builds(VectorEntry, authors, interval_lists(), st.integers(0, (1 << 64) - 1))


@st.composite
def batches(draw):
    author = draw(authors)
    covered = draw(interval_lists(max_intervals=3))
    numbers = sorted({n for s, e in covered for n in range(s, e + 1)})
    chosen = sorted(draw(st.sets(st.sampled_from(numbers), max_size=5))) if numbers else []
    ops = tuple(
        Operation(
            author,
            seq,
            draw(st.sampled_from(OpKind)),
            draw(st.binary(min_size=1, max_size=40)),
            draw(st.binary(min_size=64, max_size=64)),
        )
        for seq in chosen
    )
    return AuthorBatch(author, covered, ops)


def unique_by(key):
    return lambda items: len({key(i) for i in items}) == len(items)


messages = st.one_of(
    st.builds(Hello, st.text(min_size=1, max_size=20), st.integers(0, 1000)),
    st.builds(Summary, st.binary(min_size=16, max_size=16), st.booleans()),
    st.builds(
        Vector,
        st.lists(entries, max_size=4).filter(unique_by(lambda e: e.author)).map(tuple),
        st.booleans(),
    ),
    st.builds(
        Delta,
        st.lists(batches(), max_size=3).filter(unique_by(lambda b: b.author)).map(tuple),
        st.lists(entries, max_size=3).filter(unique_by(lambda e: e.author)).map(tuple),
    ),
)


@given(messages)
def test_every_message_survives_encoding_and_decoding(message):
    assert decode_message(encode_message(message)) == message


def test_the_fuzz_harness_sees_valid_samples_decode():
    sample = encode_message(Summary(b"\x01" * 16, reply=True))
    assert decode_message(sample) == Summary(b"\x01" * 16, True)


@settings(max_examples=2000)
@given(st.binary(max_size=300))
def test_any_byte_string_decodes_or_raises_the_protocol_error(data):
    with contextlib.suppress(RemoteProtocolError):
        decode_message(data)


@settings(max_examples=1000)
@given(messages, st.data())
def test_damaged_valid_messages_decode_or_raise_the_protocol_error(message, data):
    raw = bytearray(encode_message(message))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["flip", "cut", "grow"]))
        if action == "flip" and raw:
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= data.draw(st.integers(1, 255))
        elif action == "cut" and raw:
            del raw[data.draw(st.integers(0, len(raw) - 1)) :]
        else:
            raw += data.draw(st.binary(min_size=1, max_size=8))
    with contextlib.suppress(RemoteProtocolError):
        decode_message(bytes(raw))


def test_numbers_beyond_the_per_author_quota_are_refused():
    author = b"a" * 32
    beyond = limits.MAX_OPS_PER_AUTHOR + 1
    op = Operation(author, beyond, OpKind.ADVERTISE, b"k", bytes(64))
    raw = encode_message(Delta((AuthorBatch(author, ((beyond, beyond),), (op,)),)))
    with pytest.raises(RemoteProtocolError, match="quota"):
        decode_message(raw)


def test_an_operation_outside_the_vouched_intervals_is_refused():
    author = b"a" * 32
    op = Operation(author, 9, OpKind.ADVERTISE, b"k", bytes(64))
    raw = encode_message(Delta((AuthorBatch(author, ((1, 2),), (op,)),)))
    with pytest.raises(RemoteProtocolError, match="outside"):
        decode_message(raw)


def test_oversized_keys_and_frames_are_refused():
    author = b"a" * 32
    op = Operation(author, 1, OpKind.ADVERTISE, b"k" * (limits.MAX_KEY_BYTES + 1), bytes(64))
    with pytest.raises(RemoteProtocolError, match="key"):
        decode_message(encode_message(Delta((AuthorBatch(author, ((1, 1),), (op,)),))))
    with pytest.raises(RemoteProtocolError, match="over the limit"):
        decode_message(b"\x02" + bytes(limits.MAX_GOSSIP_FRAME_BYTES))


def test_encoding_a_message_over_the_frame_limit_is_our_own_error():
    entries = tuple(
        VectorEntry(i.to_bytes(32, "big"), tuple((k * 3 + 1, k * 3 + 2) for k in range(64)), 0)
        for i in range(limits.MAX_AUTHORS)
    )
    with pytest.raises(LocalProtocolError):
        encode_message(Vector(entries))
