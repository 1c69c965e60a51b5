"""The hash exchange state machine: the seed's scenarios, in memory and over both wires."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import pytest

from natakanu_peer.errors import LocalProtocolError, RemoteProtocolError, UsageError
from natakanu_peer.hashing import BLAKE3, algorithm_named
from natakanu_peer.protocol import limits
from natakanu_peer.protocol.hash_exchange import (
    SHA1,
    SHA256,
    AnyEvent,
    AnyMessage,
    Available,
    Close,
    Closed,
    Deliver,
    Events,
    HashAlgorithm,
    HashExchange,
    Id,
    IdReceived,
    NotHere,
    NotHereReceived,
    Provide,
    Request,
    RequestReceived,
    Response,
    Seen,
    SeenReceived,
    Send,
    ServeRequested,
    Since,
    SinceReceived,
    decode_message,
    encode_message,
    encode_message_parts,
)
from natakanu_peer.protocol.hx4 import Hx4Connection


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


# ------------------------------------------------------------------- two sides in memory

React = Callable[["Side", AnyEvent], Events]
E = TypeVar("E", bound=AnyEvent)


@dataclass
class Side:
    """One application around a HashExchange: it keeps what happened and what it must send."""

    name: str
    messages: list[str]
    algorithm: HashAlgorithm = SHA1
    seqs: dict[str, int] = field(default_factory=dict)  # explicit seq per hash, if any
    react: React | None = None
    declines: bool = False  # answer every serve request with "not here"
    max_in_flight: int = limits.MAX_REQUESTS_IN_FLIGHT
    exchange: HashExchange = field(init=False)
    events: list[AnyEvent] = field(default_factory=list)
    outbox: list[AnyMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.exchange = HashExchange(self.algorithm, max_in_flight=self.max_in_flight)
        self.contents = {self.algorithm.hash_of(m.encode()): m.encode() for m in self.messages}

    @property
    def keys(self) -> list[str]:
        return list(self.contents)

    def apply(self, events: Events) -> None:
        for event in events:
            if isinstance(event, Send):
                self.outbox.append(event.message)
                continue
            self.events.append(event)
            self.apply(seed_example(self, event))
            if self.react is not None:
                self.apply(self.react(self, event))

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


def seed_example(side: Side, event: AnyEvent) -> Events:
    """What the seed README's example does: request all that is available, serve what's asked."""
    match event:
        case Available(hashes):
            return side.exchange.request(hashes)
        case ServeRequested(hash_) if side.declines:
            return side.exchange.decline(hash_)
        case ServeRequested(hash_):
            return side.exchange.respond(hash_, side.contents[hash_], side.seqs.get(hash_))
    return []


class Wire:
    """Carries one message from one side to the other; subclasses say how."""

    def carry(self, message: AnyMessage, sender: Side, receiver: Side) -> list[AnyMessage]:
        return [message]


class NativeWire(Wire):
    def carry(self, message: AnyMessage, sender: Side, receiver: Side) -> list[AnyMessage]:
        return [decode_message(encode_message(message))]


class Hx4Wire(Wire):
    """Through the hash-exchange 4 byte format, delivered one byte at a time."""

    def __init__(self) -> None:
        self.connections: dict[str, Hx4Connection] = {}

    def _of(self, side: Side) -> Hx4Connection:
        return self.connections.setdefault(side.name, Hx4Connection())

    def carry(self, message: AnyMessage, sender: Side, receiver: Side) -> list[AnyMessage]:
        outgoing = self._of(sender)
        outgoing.send(message)
        data = outgoing.data_to_send()
        incoming = self._of(receiver)
        out: list[AnyMessage] = []
        for i in range(len(data)):
            out += incoming.receive_data(data[i : i + 1])
        return out


WIRES = {"memory": Wire, "native": NativeWire, "hx4": Hx4Wire}


@pytest.fixture(params=list(WIRES))
def wire(request: pytest.FixtureRequest) -> Wire:
    return WIRES[request.param]()


def run(a: Side, b: Side, wire: Wire) -> None:
    """Deliver messages both ways, in order, until neither side has anything to say."""
    for _ in range(10_000):
        for sender, receiver in ((a, b), (b, a)):
            while sender.outbox:
                message = sender.outbox.pop(0)
                for arrived in wire.carry(message, sender, receiver):
                    receiver.apply(receiver.exchange.receive(arrived))
        if not a.outbox and not b.outbox:
            return
    raise AssertionError("the two sides never fell quiet")


def start(*sides: Side) -> None:
    for side in sides:
        side.apply(side.exchange.provide(side.keys))


A_MESSAGES = ["hey yo", "WHATEVER", "beep"]
B_MESSAGES = ["beep", "boop", "hey yo"]


# ------------------------------------------------------------------ the seed's scenarios


def test_exchange_offers_each_side_only_what_it_lacks_and_delivers_it(wire: Wire) -> None:
    a, b = Side("A", A_MESSAGES), Side("B", B_MESSAGES)
    start(a, b)
    run(a, b, wire)
    assert a.of(Available) == [Available((sha1("boop"),))]
    assert b.of(Available) == [Available((sha1("WHATEVER"),))]
    assert a.of(Response) == [Response(sha1("boop"), b"boop", 1)]
    assert b.of(Response) == [Response(sha1("WHATEVER"), b"WHATEVER", 1)]


def close_after_last_response(side: Side, event: AnyEvent) -> Events:
    if isinstance(event, Response) and side.exchange.outstanding == 0:
        return side.exchange.close()
    return []


def test_both_sides_report_closed_once_after_closing_after_their_last_response(
    wire: Wire,
) -> None:
    a = Side("A", A_MESSAGES, react=close_after_last_response)
    b = Side("B", B_MESSAGES, react=close_after_last_response)
    start(a, b)
    run(a, b, wire)
    for side in (a, b):
        assert side.of(Closed) == [Closed()]
        assert side.events.index(Closed()) > side.events.index(side.of(Response)[0])
        assert side.exchange.closed


def provide_after_since(side: Side, event: AnyEvent) -> Events:
    if isinstance(event, SinceReceived):
        return side.exchange.provide(side.keys[event.seq :])
    return []


SINCE_A = ["hey yo", "WHATEVER", "beep", "zoom"]
SINCE_B = ["boop", "beep", "hey yo"]


def test_since_makes_each_side_provide_only_what_comes_after_the_position(wire: Wire) -> None:
    a = Side("A", SINCE_A, react=provide_after_since)
    b = Side("B", SINCE_B, react=provide_after_since)
    a.apply(a.exchange.since(1))
    b.apply(b.exchange.since(2))
    run(a, b, wire)
    assert a.of(SinceReceived) == [SinceReceived(2)]
    assert b.of(SinceReceived) == [SinceReceived(1)]
    assert a.of(Available) == [Available((sha1("hey yo"),))]
    assert b.of(Available) == [Available((sha1("zoom"),))]
    assert [r.content for r in a.of(Response)] == [b"hey yo"]
    assert [r.content for r in b.of(Response)] == [b"zoom"]


def test_a_response_carries_the_sequence_number_its_sender_gave(wire: Wire) -> None:
    positions_a = {sha1(m): i + 1 for i, m in enumerate(SINCE_A)}
    positions_b = {sha1(m): i + 1 for i, m in enumerate(SINCE_B)}
    a = Side("A", SINCE_A, seqs=positions_a, react=provide_after_since)
    b = Side("B", SINCE_B, seqs=positions_b, react=provide_after_since)
    a.apply(a.exchange.since(1))
    b.apply(b.exchange.since(2))
    run(a, b, wire)
    assert a.of(Response) == [Response(sha1("hey yo"), b"hey yo", 3)]
    assert b.of(Response) == [Response(sha1("zoom"), b"zoom", 4)]


def test_seen_acknowledgements_arrive_with_the_acknowledged_sequence(wire: Wire) -> None:
    def react(since_on_id: int) -> React:
        def on(side: Side, event: AnyEvent) -> Events:
            match event:
                case IdReceived():
                    return side.exchange.since(since_on_id)
                case SinceReceived(seq):
                    return side.exchange.provide(side.keys[seq:])
                case Response(seq=seq):
                    return side.exchange.seen(seq)
            return []

        return on

    a = Side("A", SINCE_A, seqs=dict.fromkeys(map(sha1, SINCE_A), 2), react=react(1))
    b = Side("B", SINCE_B, seqs=dict.fromkeys(map(sha1, SINCE_B), 1), react=react(2))
    a.apply(a.exchange.id("A"))
    b.apply(b.exchange.id("B"))
    run(a, b, wire)
    assert a.of(IdReceived) == [IdReceived("B")]
    assert b.of(IdReceived) == [IdReceived("A")]
    assert a.of(Response) == [Response(sha1("hey yo"), b"hey yo", 1)]
    assert b.of(Response) == [Response(sha1("zoom"), b"zoom", 2)]
    assert a.of(SeenReceived) == [SeenReceived(2)]
    assert b.of(SeenReceived) == [SeenReceived(1)]


def test_other_hash_algorithms_drive_the_same_exchange(wire: Wire) -> None:
    for algorithm in (SHA256, BLAKE3, algorithm_named("sha1")):
        a, b = Side("A", A_MESSAGES, algorithm), Side("B", B_MESSAGES, algorithm)
        start(a, b)
        run(a, b, wire)
        assert a.of(Response) == [Response(algorithm.hash_of(b"boop"), b"boop", 1)]


def test_an_unknown_algorithm_name_is_a_usage_error_naming_the_choices() -> None:
    with pytest.raises(UsageError, match="blake3, sha1, sha256"):
        algorithm_named("md5")


# ------------------------------------------------------------------------ not here


def test_a_request_for_something_not_provided_is_answered_not_here(wire: Wire) -> None:
    a, b = Side("A", []), Side("B", ["kept back", "shared"])
    b.apply(b.exchange.provide([sha1("shared")]))  # B has "kept back" but does not provide it
    a.apply(a.exchange.request([sha1("kept back"), sha1("shared"), sha1("nowhere")]))
    run(a, b, wire)
    assert a.of(Response) == [Response(sha1("shared"), b"shared", 1)]
    assert a.of(NotHereReceived) == [
        NotHereReceived(sha1("kept back")),
        NotHereReceived(sha1("nowhere")),
    ]
    assert a.exchange.outstanding == 0


def test_a_declined_serve_request_reaches_the_requester_as_not_here(wire: Wire) -> None:
    a, b = Side("A", []), Side("B", ["lost"], declines=True)
    b.apply(b.exchange.provide(b.keys))
    a.apply(a.exchange.request([sha1("lost")]))
    run(a, b, wire)
    assert b.of(ServeRequested) == [ServeRequested(sha1("lost"))]
    assert a.of(NotHereReceived) == [NotHereReceived(sha1("lost"))]
    assert a.of(Response) == []


def test_an_empty_request_still_goes_out_and_is_reported_to_the_peer() -> None:
    a, b = HashExchange(), HashExchange()
    assert a.request([]) == [Send(Request(()))]
    assert b.receive(Request(())) == [RequestReceived(())]


# ------------------------------------------------------------------ a dishonest peer


def asked(exchange: HashExchange, *texts: str) -> list[str]:
    hashes = [sha1(t) for t in texts]
    exchange.request(hashes)
    return hashes


def test_content_that_does_not_match_its_hash_is_refused_before_it_is_reported() -> None:
    a = HashExchange()
    (wanted,) = asked(a, "real")
    with pytest.raises(RemoteProtocolError, match="does not match"):
        a.receive(Deliver(wanted, 1, b"forged"))
    assert a.outstanding == 1  # nothing was taken from the forged delivery


def test_a_delivery_that_was_never_requested_is_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="not awaited"):
        HashExchange().receive(Deliver(sha1("x"), 1, b"x"))


def test_a_second_delivery_of_the_same_hash_is_refused() -> None:
    a = HashExchange()
    (wanted,) = asked(a, "x")
    a.receive(Deliver(wanted, 1, b"x"))
    with pytest.raises(RemoteProtocolError, match="not awaited"):
        a.receive(Deliver(wanted, 2, b"x"))


def test_a_sequence_number_used_twice_by_the_peer_is_refused() -> None:
    a = HashExchange()
    first, second = asked(a, "x", "y")
    a.receive(Deliver(first, 7, b"x"))
    with pytest.raises(RemoteProtocolError, match="used twice"):
        a.receive(Deliver(second, 7, b"y"))


def test_not_here_for_something_never_requested_is_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="not awaited"):
        HashExchange().receive(NotHere((sha1("x"),)))


@pytest.mark.parametrize(
    "hash_",
    [sha1("x").upper(), sha1("x")[:-1], hashlib.sha256(b"x").hexdigest(), "not a hash", ""],
)
def test_a_provided_hash_that_is_not_a_well_spelled_hash_is_refused(hash_: str) -> None:
    with pytest.raises(RemoteProtocolError, match="not a sha1 hash"):
        HashExchange().receive(Provide((hash_,)))


@pytest.mark.parametrize("seq", [-2, limits.MAX_SEQUENCE + 1])
def test_since_or_seen_out_of_range_from_the_peer_is_refused(seq: int) -> None:
    for message in (Since(seq), Seen(seq)):
        with pytest.raises(RemoteProtocolError, match="outside"):
            HashExchange().receive(message)


def test_an_overlong_id_from_the_peer_is_refused() -> None:
    with pytest.raises(RemoteProtocolError, match="longer"):
        HashExchange().receive(Id("x" * (limits.MAX_EXCHANGE_ID_BYTES + 1)))


# ---------------------------------------------------------------------- in flight


def requests_in(events: Events) -> list[tuple[str, ...]]:
    sent = [e.message for e in events if isinstance(e, Send)]
    return [m.hashes for m in sent if isinstance(m, Request)]


def test_our_requests_beyond_the_bound_wait_and_go_out_in_batches_as_answers_come() -> None:
    a = HashExchange(max_in_flight=4)
    texts = [f"m{i}" for i in range(10)]
    batches = requests_in(a.request([sha1(t) for t in texts]))
    assert batches == [tuple(sha1(t) for t in texts[:4])]
    for seq, text in enumerate(texts, start=1):  # the peer answers in order, one by one
        assert a.in_flight <= 4
        batches += requests_in(a.receive(Deliver(sha1(text), seq, text.encode())))
    assert [h for batch in batches for h in batch] == [sha1(t) for t in texts]
    assert [len(batch) for batch in batches] == [4, 2, 2, 2]  # refilled at half the window
    assert a.outstanding == 0


def test_a_peer_with_more_requests_waiting_at_us_than_the_bound_is_refused() -> None:
    b = HashExchange(max_in_flight=4)
    hashes = [sha1(f"m{i}") for i in range(5)]
    b.provide(hashes)
    events = b.receive(Request(tuple(hashes[:4])))
    assert events[1:] == [ServeRequested(h) for h in hashes[:4]]
    with pytest.raises(RemoteProtocolError, match="more than 4 requests"):
        b.receive(Request((hashes[4],)))


def test_a_hash_requested_again_while_waiting_is_served_once() -> None:
    b = HashExchange()
    b.provide([sha1("x")])
    assert ServeRequested(sha1("x")) in b.receive(Request((sha1("x"),)))
    assert b.receive(Request((sha1("x"),))) == [RequestReceived(())]
    assert b.serving == 1


# ------------------------------------------------------------------------- closing


def test_after_the_peer_closes_only_answers_to_our_requests_are_taken() -> None:
    a = HashExchange()
    (wanted,) = asked(a, "late")
    a.receive(Close())
    for message in (Provide((sha1("y"),)), Request((sha1("y"),)), Id("x"), Since(1), Close()):
        assert a.receive(message) == []
    assert a.receive(Deliver(wanted, 1, b"late")) == [Response(wanted, b"late", 1)]


def test_closed_is_reported_once_and_then_everything_is_ignored() -> None:
    a = HashExchange()
    a.provide([sha1("x")])
    assert a.close() == [Send(Close())]
    assert a.receive(Close()) == [Closed()]
    assert a.receive(Close()) == []
    assert a.receive(Request((sha1("x"),))) == []
    assert a.respond(sha1("x"), b"x") == []  # a late answer has nobody to go to


def test_closing_drops_queued_requests_but_still_serves_the_peer() -> None:
    a = HashExchange(max_in_flight=2)
    a.provide([sha1("mine")])
    a.request([sha1(t) for t in "abcd"])
    a.close()
    assert a.outstanding == 2  # the two in flight; the queued two are dropped
    events = a.receive(Request((sha1("mine"),)))
    assert ServeRequested(sha1("mine")) in events
    assert a.respond(sha1("mine"), b"mine") == [Send(Deliver(sha1("mine"), 1, b"mine"))]


# -------------------------------------------------------------------------- misuse


@pytest.mark.parametrize("seq", [-2, limits.MAX_SEQUENCE + 1, True, 1.5, "1"])
def test_since_and_seen_take_only_integers_from_minus_one(seq: object) -> None:
    exchange = HashExchange()
    with pytest.raises(LocalProtocolError):
        exchange.since(seq)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        exchange.seen(seq)  # type: ignore[arg-type]


def test_since_and_seen_accept_minus_one() -> None:
    exchange = HashExchange()
    assert exchange.since(-1) == [Send(Since(-1))]
    assert exchange.seen(-1) == [Send(Seen(-1))]


@pytest.mark.parametrize("call", ["provide", "request", "id", "since", "seen", "close"])
def test_our_own_calls_after_close_are_misuse(call: str) -> None:
    exchange = HashExchange()
    exchange.close()
    argument: object = {"provide": [], "request": [], "id": "x", "since": 1, "seen": 1}.get(call)
    method = getattr(exchange, call)
    with pytest.raises(LocalProtocolError):
        method() if call == "close" else method(argument)


def test_providing_or_requesting_a_malformed_hash_is_misuse() -> None:
    exchange = HashExchange()
    with pytest.raises(LocalProtocolError, match="not a sha1 hash"):
        exchange.provide(["nope"])
    with pytest.raises(LocalProtocolError, match="not a single string"):
        exchange.request(sha1("x"))


def test_responding_to_a_hash_nobody_asked_for_is_misuse() -> None:
    with pytest.raises(LocalProtocolError, match="no request"):
        HashExchange().respond(sha1("x"), b"x")


def test_responding_with_content_that_does_not_match_is_misuse() -> None:
    exchange = HashExchange()
    exchange.provide([sha1("x")])
    exchange.receive(Request((sha1("x"),)))
    with pytest.raises(LocalProtocolError, match="does not match"):
        exchange.respond(sha1("x"), b"y")


def test_sequence_numbers_are_unique_within_an_exchange() -> None:
    exchange = HashExchange()
    exchange.provide([sha1("x"), sha1("y"), sha1("z")])
    exchange.receive(Request((sha1("x"), sha1("y"), sha1("z"))))
    assert exchange.respond(sha1("x"), b"x", 2) == [Send(Deliver(sha1("x"), 2, b"x"))]
    assert exchange.respond(sha1("y"), b"y") == [Send(Deliver(sha1("y"), 1, b"y"))]
    with pytest.raises(LocalProtocolError, match="already used"):
        exchange.respond(sha1("z"), b"z", 1)
    assert exchange.respond(sha1("z"), b"z") == [Send(Deliver(sha1("z"), 3, b"z"))]


def test_an_id_that_is_too_long_is_misuse() -> None:
    with pytest.raises(LocalProtocolError, match="longer"):
        HashExchange().id("x" * (limits.MAX_EXCHANGE_ID_BYTES + 1))


def test_a_provide_can_say_where_it_ends_in_the_senders_numbering() -> None:
    provider, receiver = HashExchange(), HashExchange()
    hashes = [SHA1.hash_of(b"one"), SHA1.hash_of(b"two")]
    sent = [e.message for e in provider.provide(hashes, position=41) if isinstance(e, Send)]
    assert sent == [Provide(tuple(hashes), 41)]
    decoded = decode_message(encode_message(sent[0]))
    assert decoded == Provide(tuple(hashes), 41)
    assert receiver.receive(decoded) == [Available(tuple(hashes), 41)]
    assert decode_message(encode_message(Provide(()))) == Provide((), None)


def test_a_message_in_pieces_is_the_message_and_decodes_from_a_view() -> None:
    content = bytes(range(256)) * 40
    messages = [
        Provide((SHA1.hash_of(b"one"),), 7),
        Deliver(SHA1.hash_of(content), 3, content),
        Deliver(SHA1.hash_of(b""), 1, b""),
        Id("kitchen"),
    ]
    for message in messages:
        parts = encode_message_parts(message)
        whole = b"".join(parts)
        assert whole == encode_message(message)
        framed = memoryview(b"\x02" + whole)[1:]  # as a link hands it over: no copy made
        assert decode_message(framed) == message
    # The content of a delivery is handed over as it is, not copied into the head.
    assert encode_message_parts(messages[1])[-1] is content


def test_a_response_checked_by_the_caller_is_not_hashed_again() -> None:
    exchange = HashExchange()
    exchange.provide([sha1("z")])
    exchange.receive(Request((sha1("z"),)))
    # The default checks the content; a caller that checked it itself may say so.
    with pytest.raises(LocalProtocolError, match="does not match"):
        exchange.respond(sha1("z"), b"not z")
    assert exchange.respond(sha1("z"), b"z", checked=True) == [Send(Deliver(sha1("z"), 1, b"z"))]
