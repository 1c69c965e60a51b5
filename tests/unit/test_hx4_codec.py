"""The hash-exchange 4 wire format, byte for byte, and the native codec: whatever comes in."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natakanu_peer.errors import RemoteProtocolError
from natakanu_peer.protocol import limits
from natakanu_peer.protocol.hash_exchange import (
    AnyMessage,
    Available,
    Close,
    Closed,
    Deliver,
    Events,
    HashExchange,
    Id,
    Message,
    NotHere,
    Provide,
    Request,
    Response,
    Seen,
    Send,
    ServeRequested,
    Since,
    decode_message,
    encode_message,
)
from natakanu_peer.protocol.hx4 import (
    Frame,
    FrameType,
    Hx4Connection,
    Rpc,
    RpcType,
    decode_frame,
    decode_rpc,
    encode_frame,
    encode_rpc,
)
from natakanu_peer.protocol.wire import VarintFramer, encode_varint


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


YO, HI = sha1(b"yo"), sha1(b"hi")


def ascii_hex(text: str) -> str:
    return text.encode().hex()


def unhex(spaced: str) -> bytes:
    return bytes.fromhex(spaced.replace(" ", "").replace("|", ""))


# A real session between two npm hash-exchange 4.0.1 peers (Node 20), captured on the pipe.
# C: id("C"), since(-1), provides "yo"; S provides "hi"; each requests what is available and
# closes after its response. Frames are "length|body"; <YO> and <HI> stand for the SHA-1 hex.
CAPTURE_C_TO_S = [
    "0c|0802 120130 2205 0006 0a0143",  # channel 1 named "0": ID ["C"]
    "08|0802 2204 0003 1800",  # SINCE 0 (since(-1))
    "30|0802 222c 0000 0a28 <YO>",  # AVAILABLE [yo]
    "30|0802 222c 0001 0a28 <HI>",  # REQUEST [hi]
    "34|0802 2230 0002 122c 0228 <YO> 0801",  # HASHES [(yo, 1)]
    "09|0804 120132 2202 796f",  # channel 2 named "2" (hex of seq 1 + 1): DATA "yo"
    "04|0804 1802",  # channel 2: END
    "06|0802 2202 0004",  # CLOSE
]
CAPTURE_S_TO_C = [
    "33|0802 120130 222c 0000 0a28 <HI>",  # channel 1 named "0": AVAILABLE [hi]
    "30|0802 222c 0001 0a28 <YO>",  # REQUEST [yo]
    "34|0802 2230 0002 122c 0228 <HI> 0801",  # HASHES [(hi, 1)]
    "09|0804 120132 2202 6869",  # channel 2 named "2": DATA "hi"
    "04|0804 1802",  # END
    "06|0802 2202 0004",  # CLOSE
]


def capture(lines: list[str]) -> bytes:
    text = " ".join(lines).replace("<YO>", ascii_hex(YO)).replace("<HI>", ascii_hex(HI))
    return unhex(text)


class Peer:
    """A HashExchange speaking hash-exchange 4, run as the seed README's example."""

    def __init__(self, messages: list[bytes]) -> None:
        self.exchange = HashExchange()
        self.wire = Hx4Connection()
        self.contents = {sha1(m): m for m in messages}
        self.events: Events = []

    def apply(self, events: Events) -> None:
        exchange = self.exchange
        for event in events:
            if isinstance(event, Send):
                self.wire.send(event.message)
                continue
            self.events.append(event)
            match event:
                case Available(hashes) if not exchange.local_closed:
                    self.apply(exchange.request(hashes))
                case ServeRequested(hash_):
                    self.apply(exchange.respond(hash_, self.contents[hash_]))
                case Response() if exchange.outstanding == 0 and not exchange.local_closed:
                    self.apply(exchange.close())

    def feed(self, data: bytes, *, byte_by_byte: bool = False) -> None:
        """Feed ``data`` a byte or a frame at a time, acting on each piece before the next.

        Never all at once: the bytes of a capture answer what this side said in between.
        """
        pieces = [data[i : i + 1] for i in range(len(data))] if byte_by_byte else frames_of(data)
        for piece in pieces:
            for message in self.wire.receive_data(piece):
                self.apply(self.exchange.receive(message))


def frames_of(data: bytes) -> list[bytes]:
    return [VarintFramer.frame(f) for f in VarintFramer(limits.MAX_HX4_FRAME_BYTES).feed(data)]


# ------------------------------------------------------------------ byte for byte


def test_the_captured_frames_decode_to_the_rpcs_they_carry() -> None:
    frames = VarintFramer(limits.MAX_HX4_FRAME_BYTES).feed(capture(CAPTURE_C_TO_S))
    decoded = [decode_frame(f) for f in frames]
    assert decoded[0] == Frame(1, FrameType.DATA, "0", encode_rpc(Rpc(RpcType.ID, ("C",))))
    assert decode_rpc(decoded[1].data or b"") == Rpc(RpcType.SINCE, sequence=0)
    assert decode_rpc(decoded[4].data or b"") == Rpc(RpcType.HASHES, mapping=((YO, 1),))
    assert decoded[5] == Frame(2, FrameType.DATA, "2", b"yo")
    assert decoded[6] == Frame(2, FrameType.END)
    assert decode_rpc(decoded[7].data or b"") == Rpc(RpcType.CLOSE)


def test_each_captured_frame_is_what_our_encoder_writes() -> None:
    frames = [
        Frame(1, FrameType.DATA, "0", encode_rpc(Rpc(RpcType.ID, ("C",)))),
        Frame(1, data=encode_rpc(Rpc(RpcType.SINCE, sequence=0))),
        Frame(1, data=encode_rpc(Rpc(RpcType.AVAILABLE, (YO,)))),
        Frame(1, data=encode_rpc(Rpc(RpcType.REQUEST, (HI,)))),
        Frame(1, data=encode_rpc(Rpc(RpcType.HASHES, mapping=((YO, 1),)))),
        Frame(2, FrameType.DATA, "2", b"yo"),
        Frame(2, FrameType.END),
        Frame(1, data=encode_rpc(Rpc(RpcType.CLOSE))),
    ]
    written = b"".join(VarintFramer.frame(encode_frame(f)) for f in frames)
    assert written.hex() == capture(CAPTURE_C_TO_S).hex()


@pytest.mark.parametrize("byte_by_byte", [False, True])
def test_our_client_answers_the_npm_server_with_the_npm_clients_exact_bytes(
    byte_by_byte: bool,
) -> None:
    client = Peer([b"yo"])
    client.apply(client.exchange.id("C"))
    client.apply(client.exchange.since(-1))
    client.apply(client.exchange.provide([YO]))
    client.feed(capture(CAPTURE_S_TO_C), byte_by_byte=byte_by_byte)
    assert client.wire.data_to_send().hex() == capture(CAPTURE_C_TO_S).hex()
    assert Response(HI, b"hi", 1) in client.events
    assert client.events[-1] == Closed()


def test_our_server_answers_the_npm_client_with_the_npm_servers_exact_bytes() -> None:
    server = Peer([b"hi"])
    server.apply(server.exchange.provide([HI]))
    server.feed(capture(CAPTURE_C_TO_S), byte_by_byte=True)
    assert server.wire.data_to_send().hex() == capture(CAPTURE_S_TO_C).hex()
    assert Response(YO, b"yo", 1) in server.events
    assert server.events[-1] == Closed()


# -------------------------------------------------------------------- round trips

MESSAGES: list[AnyMessage] = [
    Provide((YO, HI)),
    Provide(()),
    Request((YO,)),
    Deliver(YO, 0, b"yo"),
    Deliver(HI, limits.MAX_SEQUENCE, b""),
    NotHere((HI,)),
    Id("peer é"),
    Since(-1),
    Seen(limits.MAX_SEQUENCE),
    Close(),
]


@pytest.mark.parametrize("message", MESSAGES, ids=repr)
def test_every_native_message_survives_encoding_and_decoding(message: AnyMessage) -> None:
    assert decode_message(encode_message(message)) == message


RPCS = [
    Rpc(RpcType.AVAILABLE, (YO, HI)),
    Rpc(RpcType.REQUEST, ()),
    Rpc(RpcType.HASHES, mapping=((YO, 0), (HI, 2**32 - 1))),
    Rpc(RpcType.SINCE, sequence=0),
    Rpc(RpcType.SEEN, sequence=2**32 - 1),
    Rpc(RpcType.CLOSE),
    Rpc(RpcType.ID, ("x" * limits.MAX_EXCHANGE_ID_BYTES,)),
]


@pytest.mark.parametrize("rpc", RPCS, ids=lambda r: r.kind.name)
def test_every_rpc_survives_encoding_and_decoding(rpc: Rpc) -> None:
    assert decode_rpc(encode_rpc(rpc)) == rpc


@pytest.mark.parametrize(
    "frame",
    [
        Frame(1, FrameType.DATA, "0", b"\x00\x04"),
        Frame(-3, FrameType.END),
        Frame(2**31 - 1, FrameType.ERROR, None, b"oops"),
        Frame(-(2**31), FrameType.DATA, "ffffffff", b""),
    ],
    ids=repr,
)
def test_every_frame_survives_encoding_and_decoding(frame: Frame) -> None:
    assert decode_frame(encode_frame(frame)) == frame


def test_unknown_protobuf_fields_are_skipped_as_protobuf_requires() -> None:
    extra = unhex("28 05  31 0102030405060708  3a 02 6869  45 01020304")  # fields 5, 6, 7, 8
    assert decode_rpc(encode_rpc(Rpc(RpcType.CLOSE)) + extra) == Rpc(RpcType.CLOSE)
    assert decode_frame(encode_frame(Frame(1, data=b"")) + extra) == Frame(1, data=b"")


# ------------------------------------------------------------------- refused input


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "without a type"),
        ("00 07", "unknown RPC type"),
        ("02 00", "not a varint"),  # field 0 length-delimited
        ("00 06", "instead of one"),  # ID with no value
        ("00 06 0a 01 41 0a 01 42", "instead of one"),
        ("00 04 0a 01 41", "CLOSE RPC carries hashes"),
        ("00 00 18 01", "AVAILABLE RPC carries a sequence"),
        ("00 03 12 04 02 00 08 01", "SINCE RPC carries a mapping"),
        ("00 02 12 02 08 01", "without its hash"),
        ("00 03 18 80 80 80 80 10", "does not fit 32 bits"),
        ("00 00 0a 02 ff fe", "not valid UTF-8"),
        ("00 00 0b", "wire type 3"),
        ("00 00 0a 05 41", "exceeds the limit of 2"),
        ("00 00 0a 81" + " 41" * 129, "exceeds the limit"),
    ],
)
def test_a_malformed_rpc_is_refused_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(RemoteProtocolError, match=reason):
        decode_rpc(unhex(body))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("12 01 30", "without a channel"),
        ("08 00", "channel 0"),
        ("08 02 18 04", "unknown frame type"),
        ("08 80 80 80 80 10", "does not fit 32 bits"),
        ("08 02 12 11" + " 30" * 17, "stream name"),
        ("08 02 22", "truncated"),
    ],
)
def test_a_malformed_frame_is_refused_with_a_reason(body: str, reason: str) -> None:
    with pytest.raises(RemoteProtocolError, match=reason):
        decode_frame(unhex(body))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "truncated"),
        (b"\x09", "unknown"),
        (b"\x01\x01\x05abc", "truncated"),
        (b"\x05\x02\xff\xfe", "UTF-8"),
        (b"\x08\x00", "unexpected bytes"),
        (b"\x06" + encode_varint(2**32), "exceeds"),
        (b"\x01" + encode_varint(limits.MAX_HASHES_PER_MESSAGE + 1), "exceeds"),
    ],
)
def test_a_malformed_native_message_is_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(RemoteProtocolError, match=reason):
        decode_message(data)


def rpc_frame(rpc: Rpc, *, name: str | None = None) -> bytes:
    return VarintFramer.frame(encode_frame(Frame(1, FrameType.DATA, name, encode_rpc(rpc))))


def opened(rpc: Rpc) -> bytes:
    """The peer's first RPC frame: it names the RPC stream."""
    return rpc_frame(rpc, name="0")


def frame(channel: int, kind: FrameType, name: str | None, data: bytes | None) -> bytes:
    return VarintFramer.frame(encode_frame(Frame(channel, kind, name, data)))


@pytest.mark.parametrize(
    ("stream", "reason"),
    [
        (b"\xff" * 11, "varint"),
        (encode_varint(limits.MAX_HX4_FRAME_BYTES + 1), "exceeds the limit"),
        (rpc_frame(Rpc(RpcType.CLOSE)), "without a name"),
        (frame(2, FrameType.DATA, "2", b"x"), "never announced"),
        (frame(2, FrameType.DATA, "0x", b"x"), "not the name of a content stream"),
        (opened(Rpc(RpcType.CLOSE)) + frame(2, FrameType.DATA, "0", b""), "second RPC"),
        (opened(Rpc(RpcType.CLOSE)) + frame(1, FrameType.END, None, None), "ended its RPC"),
        (frame(-1, FrameType.DATA, None, b"x"), "never writes back"),
        (opened(Rpc(RpcType.HASHES)), "without a REQUEST"),
        (frame(1, FrameType.DATA, "0", None), "without data"),
    ],
)
def test_a_hostile_byte_stream_is_refused_with_a_reason(stream: bytes, reason: str) -> None:
    with pytest.raises(RemoteProtocolError, match=reason):
        Hx4Connection().receive_data(stream)


def test_a_link_that_failed_keeps_failing() -> None:
    connection = Hx4Connection()
    with pytest.raises(RemoteProtocolError):
        connection.receive_data(b"\x02\x08\x00")
    with pytest.raises(RemoteProtocolError, match="already failed"):
        connection.receive_data(opened(Rpc(RpcType.CLOSE)))


# ---------------------------------------------------------- what the wire must rebuild


def test_hashes_left_out_of_a_hashes_answer_come_out_as_not_here() -> None:
    connection = Hx4Connection()
    connection.send(Request((YO, HI)))
    answer = opened(Rpc(RpcType.HASHES, mapping=((HI, 5),)))
    assert connection.receive_data(answer) == [NotHere((YO,))]
    content = frame(2, FrameType.DATA, "6", b"hi") + frame(2, FrameType.END, None, None)
    assert connection.receive_data(content) == [Deliver(HI, 5, b"hi")]


def test_a_content_stream_ended_with_error_comes_out_as_not_here() -> None:
    connection = Hx4Connection()
    connection.send(Request((HI,)))
    connection.receive_data(opened(Rpc(RpcType.HASHES, mapping=((HI, 1),))))
    assert connection.receive_data(frame(2, FrameType.ERROR, "2", b"EIO")) == [NotHere((HI,))]


def test_an_empty_content_stream_opens_and_ends_in_one_frame() -> None:
    connection = Hx4Connection()
    empty = sha1(b"")
    connection.send(Request((empty,)))
    connection.receive_data(opened(Rpc(RpcType.HASHES, mapping=((empty, 1),))))
    assert connection.receive_data(frame(2, FrameType.END, "2", None)) == [Deliver(empty, 1, b"")]


def test_a_hashes_answer_that_maps_something_not_asked_is_refused() -> None:
    connection = Hx4Connection()
    connection.send(Request((YO,)))
    with pytest.raises(RemoteProtocolError, match="not asked for"):
        connection.receive_data(opened(Rpc(RpcType.HASHES, mapping=((HI, 1),))))


def test_a_sequence_announced_twice_at_once_is_refused() -> None:
    connection = Hx4Connection()
    connection.send(Request((YO, HI)))
    with pytest.raises(RemoteProtocolError, match="already in use"):
        connection.receive_data(opened(Rpc(RpcType.HASHES, mapping=((YO, 1), (HI, 1)))))


def test_our_answers_wait_for_their_whole_request_then_go_out_like_the_seeds() -> None:
    connection = Hx4Connection()
    a, b, c = sha1(b"a"), sha1(b"b"), sha1(b"c")
    assert connection.receive_data(opened(Rpc(RpcType.REQUEST, (a, b, c)))) == [Request((a, b, c))]
    connection.send(Deliver(a, 1, b"a"))
    connection.send(NotHere((b,)))
    assert connection.data_to_send() == b""  # c is not answered yet
    connection.send(Deliver(c, 7, b""))
    expected = [
        Frame(1, FrameType.DATA, "0", encode_rpc(Rpc(RpcType.HASHES, mapping=((a, 1), (c, 7))))),
        Frame(2, FrameType.DATA, "2", b"a"),  # every stream of the answer is opened first:
        Frame(2, FrameType.END),
        Frame(3, FrameType.END, "8"),  # slot 2 for c, whose empty content needs no DATA
    ]
    assert connection.data_to_send() == b"".join(
        VarintFramer.frame(encode_frame(f)) for f in expected
    )
    # The streams ended, so the next answer takes slot 1 (channel 2) again.
    connection.receive_data(rpc_frame(Rpc(RpcType.REQUEST, (a,))))
    connection.send(Deliver(a, 2, b"a"))
    sent = VarintFramer(limits.MAX_HX4_FRAME_BYTES).feed(connection.data_to_send())
    assert decode_frame(sent[1]) == Frame(2, FrameType.DATA, "3", b"a")


def test_answers_go_out_in_the_order_of_the_requests() -> None:
    connection = Hx4Connection()
    a, b = sha1(b"a"), sha1(b"b")
    connection.receive_data(opened(Rpc(RpcType.REQUEST, (a,))))
    connection.receive_data(rpc_frame(Rpc(RpcType.REQUEST, (b,))))
    connection.send(NotHere((b,)))
    assert connection.data_to_send() == b""  # b's answer waits behind a's
    connection.send(NotHere((a,)))
    frames = VarintFramer(limits.MAX_HX4_FRAME_BYTES).feed(connection.data_to_send())
    assert [decode_rpc(decode_frame(f).data or b"") for f in frames] == [
        Rpc(RpcType.HASHES),
        Rpc(RpcType.HASHES),
    ]


def test_large_content_is_cut_into_chunks() -> None:
    connection = Hx4Connection()
    content = bytes(range(256)) * (limits.HX4_CHUNK_BYTES // 128)
    connection.receive_data(opened(Rpc(RpcType.REQUEST, (sha1(content),))))
    connection.send(Deliver(sha1(content), 1, content))
    frames = VarintFramer(limits.MAX_HX4_FRAME_BYTES).feed(connection.data_to_send())
    data = [decode_frame(f) for f in frames[1:]]
    assert [f.name for f in data] == ["2", None, None]
    assert b"".join(f.data or b"" for f in data) == content


def test_after_the_peers_close_only_hashes_answers_are_read() -> None:
    connection = Hx4Connection()
    connection.send(Request((YO,)))
    assert connection.receive_data(opened(Rpc(RpcType.CLOSE))) == [Close()]
    later = rpc_frame(Rpc(RpcType.AVAILABLE, (HI,))) + rpc_frame(Rpc(RpcType.REQUEST, (HI,)))
    assert connection.receive_data(later) == []
    answer = rpc_frame(Rpc(RpcType.HASHES, mapping=((YO, 1),)))
    assert connection.receive_data(answer) == []
    content = frame(2, FrameType.DATA, "2", b"yo") + frame(2, FrameType.END, None, None)
    assert connection.receive_data(content) == [Deliver(YO, 1, b"yo")]


def test_the_end_of_the_stream_after_our_close_stands_for_the_peers_close() -> None:
    connection = Hx4Connection()
    assert connection.receive_eof() == []  # not closed by us: the link was simply lost
    connection.send(Close())
    assert connection.receive_eof() == [Close()]
    assert connection.receive_eof() == []


def test_the_end_of_the_stream_is_no_close_while_we_owe_the_peer_an_answer() -> None:
    connection = Hx4Connection()
    connection.receive_data(opened(Rpc(RpcType.REQUEST, (YO,))))
    connection.send(Close())
    assert connection.receive_eof() == []


def test_too_many_streams_open_at_once_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_HX4_OPEN_STREAMS", 2)
    connection = Hx4Connection()
    connection.send(Request((YO, HI)))
    connection.receive_data(opened(Rpc(RpcType.HASHES, mapping=((YO, 1), (HI, 2)))))
    connection.receive_data(frame(2, FrameType.DATA, "2", b"y"))
    with pytest.raises(RemoteProtocolError, match="more than 2 streams"):
        connection.receive_data(frame(3, FrameType.DATA, "3", b"h"))


def test_content_beyond_the_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_CONTENT_BYTES", 3)
    connection = Hx4Connection()
    connection.send(Request((YO,)))
    connection.receive_data(opened(Rpc(RpcType.HASHES, mapping=((YO, 1),))))
    connection.receive_data(frame(2, FrameType.DATA, "2", b"yo"))
    with pytest.raises(RemoteProtocolError, match="exceeds the limit"):
        connection.receive_data(frame(2, FrameType.DATA, None, b"yo"))


def test_content_held_for_all_streams_together_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_HX4_BUFFERED_BYTES", 3)
    connection = Hx4Connection()
    connection.send(Request((YO, HI)))
    connection.receive_data(opened(Rpc(RpcType.HASHES, mapping=((YO, 1), (HI, 2)))))
    connection.receive_data(frame(2, FrameType.DATA, "2", b"yo"))
    assert connection.buffered == 2
    with pytest.raises(RemoteProtocolError, match="unfinished content"):
        connection.receive_data(frame(3, FrameType.DATA, "3", b"hi"))


def test_requests_waiting_for_our_answers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_HX4_PENDING_REQUESTS", 1)
    connection = Hx4Connection()
    connection.receive_data(opened(Rpc(RpcType.REQUEST, (YO,))))
    with pytest.raises(RemoteProtocolError, match="REQUESTs waiting"):
        connection.receive_data(rpc_frame(Rpc(RpcType.REQUEST, (HI,))))


# ------------------------------------------------------------- anything at all, fuzzed

VALID_STREAM = capture(CAPTURE_S_TO_C)


def fresh_connection() -> Hx4Connection:
    """A connection in the state the capture expects: it provided "yo" and asked for "hi"."""
    connection = Hx4Connection()
    connection.send(Provide((YO,)))
    connection.send(Request((HI,)))
    return connection


def test_the_fuzzing_harness_starts_from_input_that_decodes() -> None:
    # If this fails, the properties below would pass while testing nothing.
    assert fresh_connection().receive_data(VALID_STREAM)[:2] == [Provide((HI,)), Request((YO,))]
    assert decode_message(encode_message(Deliver(YO, 1, b"yo"))) == Deliver(YO, 1, b"yo")
    assert decode_rpc(encode_rpc(Rpc(RpcType.ID, ("C",)))).hashes == ("C",)
    assert decode_frame(encode_frame(Frame(1, name="0"))).name == "0"


def decode_or_refuse(decode: Callable[[bytes], object], data: bytes) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode(data)


frames_strategy = st.builds(
    lambda channel, kind, name, data: VarintFramer.frame(
        encode_frame(Frame(channel, kind, name, data))
    ),
    st.sampled_from([1, 2, 3, -1, -2, 2**31 - 1]),
    st.sampled_from(list(FrameType)),
    st.sampled_from([None, "0", "2", "3", "ff", "", "02"]),
    st.one_of(
        st.none(),
        st.binary(max_size=40),
        st.builds(
            lambda kind, hashes, mapping, seq: encode_rpc(Rpc(kind, hashes, mapping, seq)),
            st.sampled_from(list(RpcType)),
            st.lists(st.sampled_from([YO, HI, "C"]), max_size=3).map(tuple),
            st.lists(st.tuples(st.sampled_from([YO, HI]), st.integers(0, 3)), max_size=2).map(
                tuple
            ),
            st.one_of(st.none(), st.integers(0, 2**32 - 1)),
        ),
    ),
)
streams_strategy = st.lists(st.one_of(st.binary(max_size=20), frames_strategy), max_size=8).map(
    b"".join
)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_any_bytes_give_the_decoders_a_value_or_a_remote_protocol_error(data: bytes) -> None:
    for decode in (decode_message, decode_rpc, decode_frame):
        decode_or_refuse(decode, data)
        decode_or_refuse(decode, VALID_STREAM[1:] + data)


def feed(connection: Hx4Connection, data: bytes, *, byte_by_byte: bool) -> None:
    pieces = [data[i : i + 1] for i in range(len(data))] if byte_by_byte else [data]
    try:
        for piece in pieces:
            messages = connection.receive_data(piece)
            assert all(isinstance(m, Message) for m in messages)
        connection.receive_eof()
    except RemoteProtocolError:
        pass


@settings(max_examples=300)
@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_give_the_connection_messages_or_a_remote_protocol_error(
    data: bytes, byte_by_byte: bool
) -> None:
    feed(fresh_connection(), data, byte_by_byte=byte_by_byte)
    feed(fresh_connection(), VALID_STREAM[:60] + data, byte_by_byte=byte_by_byte)


@settings(max_examples=300)
@given(streams_strategy, st.booleans())
def test_any_sequence_of_frames_gives_messages_or_a_remote_protocol_error(
    data: bytes, byte_by_byte: bool
) -> None:
    feed(fresh_connection(), data, byte_by_byte=byte_by_byte)
    # After the capture's first frame the RPC stream is open: frames reach the RPC decoder.
    feed(fresh_connection(), VALID_STREAM[:52] + data, byte_by_byte=byte_by_byte)


@settings(max_examples=200)
@given(streams_strategy)
def test_a_state_machine_behind_the_connection_raises_nothing_but_remote_errors(
    data: bytes,
) -> None:
    peer = Peer([b"yo"])
    peer.apply(peer.exchange.provide([YO]))
    peer.apply(peer.exchange.request([HI]))
    with contextlib.suppress(RemoteProtocolError):
        peer.feed(VALID_STREAM[:52] + data, byte_by_byte=True)
