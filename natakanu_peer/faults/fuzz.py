"""Fuzzing of every decoder that reads what a peer or a person hands in.

Each decoder of a wire message or of typed text gets inputs made by mutating valid samples
(bit flips, boundary bytes, truncation, duplicated slices, random insertions, huge varints,
splices of two samples, random bytes or random Unicode), and must either decode them or raise
the one error it declares (``RemoteProtocolError`` for wire messages, the ``UsageError``
subclass its docstring names for typed text). Any other exception, and any input that takes
more than the time limit, is a failure, reported with the smallest input found that still
raises it. Before any mutation, every decoder must decode its valid samples to the expected
values (and round-trip them through its encoder when it has one): a harness that feeds a
decoder nothing but refusals would otherwise pass without testing anything.

The same seed gives the same inputs, on every machine.

This module must never be imported by the application, touch the disk or the network, use
randomness other than its seeded generators, or depend on anything but the standard library
and the decoders it tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from ..errors import RemoteProtocolError, UsageError
from ..net import bulk
from ..protocol import circle, gossip_messages, hash_exchange, hx4, join_code, limits, link_auth
from ..protocol import manifest as manifest_codec
from ..protocol.circle import CircleKeys, CircleUpdate, Invitation
from ..protocol.gossip_messages import (
    AuthorBatch,
    Delta,
    Hello,
    Operation,
    OpKind,
    Summary,
    Vector,
    VectorEntry,
)
from ..protocol.hash_exchange import Close, Deliver, Id, NotHere, Provide, Request, Seen, Since
from ..protocol.hx4 import Frame, FrameType, Rpc, RpcType
from ..protocol.link_auth import Challenge, Knock, Proof
from ..protocol.manifest import CHUNK_SIZE, Manifest, ManifestFile, media_type_for
from ..protocol.wire import VarintFramer, decode_varint, encode_varint

T = TypeVar("T", bytes, str)

#: An input is refused as too slow past this many seconds.
TIME_LIMIT_SECONDS = 1.0
#: Mutated inputs are cut to this length, so duplication cannot grow them without bound.
MAX_INPUT_LENGTH = 1 << 16
#: Accepted mutants kept per decoder as further starting points (they reach deeper states).
CORPUS_SIZE = 64
#: Most decoder calls spent shrinking one failing input.
SHRINK_ATTEMPTS = 20_000

_PACKAGE = Path(__file__).resolve().parents[1]
#: Quoted text and numbers in an exception's message: the values, not the kind of failure.
_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")
_FAULTS = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------ targets


@dataclass(frozen=True)
class Target(Generic[T]):
    """One decoder, how to make inputs for it, and which error it may raise."""

    name: str
    decode: Callable[[T], object]
    #: Valid inputs with what each decodes to; every mutation starts from one of them.
    samples: tuple[tuple[T, object], ...]
    #: The only exceptions the decoder may raise, whatever its input.
    declared: tuple[type[Exception], ...]
    #: ``mutate_bytes`` or ``mutate_text``.
    mutate: Callable[[random.Random, T, Sequence[T]], T]
    #: The matching encoder, taking a decoded value; checked to round-trip every sample.
    encode: Callable[[Any], T] | None = None
    #: Whether every sample is exactly what ``encode`` makes of its decoded value.
    canonical: bool = True
    #: A mutation aware of the input's structure (checksums, JSON, framing), used for half
    #: of the inputs: byte noise alone would rarely get past the outer layer.
    structured: Callable[[random.Random, T], T] | None = None
    #: Share of the inputs, beyond the minimum every decoder gets.
    weight: int = 1


# ------------------------------------------------------------------------------- report


@dataclass
class Unexpected:
    """One kind of undeclared exception: its type and the project line that raised it."""

    exception: str
    location: str
    line: str
    message: str
    count: int
    first_input: bytes | str
    minimal_input: bytes | str


@dataclass
class SlowInput:
    seconds: float
    input: bytes | str


@dataclass
class DecoderResult:
    name: str
    declared: tuple[str, ...]
    inputs: int = 0
    rejected: int = 0
    accepted: int = 0
    rejections_by_type: dict[str, int] = field(default_factory=dict)
    unexpected: list[Unexpected] = field(default_factory=list)
    slowest_seconds: float = 0.0
    slowest_input: bytes | str = b""
    too_slow: list[SlowInput] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def other_exceptions(self) -> int:
        return sum(u.count for u in self.unexpected)

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.too_slow


@dataclass
class Report:
    seed: int
    time_limit: float
    results: list[DecoderResult]
    wall_seconds: float = 0.0

    @property
    def total_inputs(self) -> int:
        return sum(r.inputs for r in self.results)

    @property
    def other_exceptions(self) -> int:
        return sum(r.other_exceptions for r in self.results)

    @property
    def too_slow(self) -> int:
        return sum(len(r.too_slow) for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def failures(self) -> list[str]:
        """One sentence per distinct failure, with the smallest input that shows it."""
        lines: list[str] = []
        for result in self.results:
            for u in result.unexpected:
                lines.append(
                    f"{result.name}: {u.exception} at {u.location} `{u.line}` "
                    f"({u.count:,} inputs): {u.message}; minimal input: "
                    f"{describe(u.minimal_input)}"
                )
            for slow in result.too_slow[:5]:
                lines.append(
                    f"{result.name}: {slow.seconds * 1000:,.0f} ms on one input, over the "
                    f"limit of {self.time_limit * 1000:,.0f} ms: {describe(slow.input)}"
                )
        return lines


def describe(data: bytes | str, limit: int = 400) -> str:
    """An input as hex (bytes) or as a Python expression (text), runs of one character
    written as multiplications so that a 5,000-digit number stays readable."""
    if isinstance(data, bytes):
        shown = data.hex()
        if len(shown) > limit:
            shown = f"{shown[:limit]}... ({len(data):,} bytes)"
        return f"hex {shown or '(empty)'}"
    pieces: list[str] = []
    plain = ""
    i = 0
    while i < len(data):
        j = i
        while j < len(data) and data[j] == data[i]:
            j += 1
        if j - i >= 8:
            if plain:
                pieces.append(repr(plain))
                plain = ""
            pieces.append(f"{data[i]!r} * {j - i}")
        else:
            plain += data[i:j]
        i = j
    if plain or not pieces:
        pieces.append(repr(plain))
    text = " + ".join(pieces)
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(data):,} characters)"
    raw = data.encode("utf-8", "surrogatepass")
    if len(raw) > 64:  # the expression alone is readable; such hex would not be
        return text
    return f"{text} (UTF-8 hex {raw.hex() or '(empty)'})"


def format_markdown(report: Report) -> str:
    """The report as a Markdown table, its totals, and one line per failure."""
    out = [
        "| decoder | inputs | declared-error rejections | accepted | other exceptions "
        "| slowest input (ms) |",
        "|---|--:|--:|--:|---|--:|",
    ]
    for r in report.results:
        kinds = Counter[str]()
        for u in r.unexpected:
            kinds[u.exception] += u.count
        other = f"{r.other_exceptions:,}"
        if kinds:
            other += " (" + ", ".join(f"{name} {n:,}" for name, n in kinds.items()) + ")"
        out.append(
            f"| {r.name} | {r.inputs:,} | {r.rejected:,} | {r.accepted:,} | {other} "
            f"| {r.slowest_seconds * 1000:.2f} |"
        )
    slowest = max((r.slowest_seconds for r in report.results), default=0.0)
    out.append(
        f"| **total** | {report.total_inputs:,} | {sum(r.rejected for r in report.results):,} "
        f"| {sum(r.accepted for r in report.results):,} | {report.other_exceptions:,} "
        f"| {slowest * 1000:.2f} |"
    )
    out.append("")
    unusual = [r for r in report.results if r.declared != ("RemoteProtocolError",)]
    legend = "Declared error: RemoteProtocolError"
    if unusual:
        legend += ", except " + "; ".join(f"{r.name} ({' or '.join(r.declared)})" for r in unusual)
    out.append(legend + ".")
    out.append(
        f"Total: {report.total_inputs:,} inputs, {report.other_exceptions:,} other exceptions, "
        f"{report.too_slow:,} inputs over {report.time_limit:g} s; "
        f"wall time {report.wall_seconds:.1f} s (seed {report.seed})."
    )
    failures = report.failures()
    if failures:
        out += ["", "Failures:", ""]
        out += [f"- {line}" for line in failures]
    return "\n".join(out)


# ---------------------------------------------------------------------- byte mutations

_BOUNDARY_BYTES = (0x00, 0x01, 0x7E, 0x7F, 0x80, 0x81, 0xFE, 0xFF)
_LIMITS = (
    limits.MAX_KEY_BYTES,
    limits.MAX_TOPIC_BYTES,
    limits.MAX_GOSSIP_FRAME_BYTES,
    limits.MAX_OPS_PER_MESSAGE,
    limits.MAX_AUTHORS,
    limits.MAX_INTERVALS_PER_AUTHOR,
    limits.MAX_OPS_PER_AUTHOR,
    limits.MAX_HASH_TEXT_BYTES,
    limits.MAX_EXCHANGE_ID_BYTES,
    limits.MAX_HASHES_PER_MESSAGE,
    limits.MAX_CONTENT_BYTES,
    limits.MAX_SEQUENCE,
    limits.MAX_HX4_FRAME_BYTES,
    limits.MAX_HX4_STREAM_NAME_BYTES,
    circle.MAX_EPOCH,
    circle.MAX_REMOVED,
    join_code.MAX_NAMEPLATE,
    link_auth.MAX_DISPLAY_NAME_BYTES,
)
#: Numbers written as varints: type and length boundaries, the protocol's limits and their
#: neighbours, and numbers no varint of at most 64 bits can hold.
_NUMBERS = tuple(
    sorted(
        {0, 1, 2, 127, 128, 255, 256, 16383, 16384, 65535, 65536}
        | {2**k + d for k in (31, 32, 53, 63, 64, 70) for d in (-1, 0, 1)}
        | {n + d for n in _LIMITS for d in (-1, 0, 1, 2)}
    )
)

_ByteOp = Callable[[random.Random, bytearray, Sequence[bytes]], bytearray]


def _leb128(value: int) -> bytes:
    # The project's encoder refuses what does not fit 64 bits; this one writes anything.
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _span(rng: random.Random, size: int) -> tuple[int, int]:
    start = rng.randrange(size + 1)
    length = rng.choice((1, 1, 2, 4, 8, 16, 64, 256))
    return start, min(size, start + length)


def _flip_bits(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    for _ in range(rng.randint(1, 4)):
        buf[rng.randrange(len(buf))] ^= 1 << rng.randrange(8)
    return buf


def _boundary_byte(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    start = rng.randrange(len(buf))
    value = rng.choice(_BOUNDARY_BYTES)
    for i in range(start, min(len(buf), start + rng.choice((1, 1, 1, 2, 4, 8)))):
        buf[i] = value
    return buf


def _add_to_byte(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    i = rng.randrange(len(buf))
    buf[i] = (buf[i] + rng.choice((-1, 1)) * rng.randint(1, 35)) % 256
    return buf


def _truncate(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    cut = rng.randrange(len(buf) + 1)
    if rng.random() < 0.8:
        del buf[cut:]
    else:
        del buf[:cut]
    return buf


def _delete_slice(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    start, end = _span(rng, len(buf))
    del buf[start:end]
    return buf


def _duplicate_slice(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    start, end = _span(rng, len(buf))
    at = rng.randrange(len(buf) + 1)
    buf[at:at] = buf[start:end] * rng.choice((1, 1, 1, 2, 3, 16))
    return buf


def _insert_random(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    at = rng.randrange(len(buf) + 1)
    buf[at:at] = rng.randbytes(rng.choice((1, 1, 2, 4, 8, 16)))
    return buf


def _huge_varint(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    choice = rng.random()
    if choice < 0.7:
        encoded = _leb128(rng.choice(_NUMBERS))
    elif choice < 0.85:  # more continuation bytes than any varint may have
        encoded = b"\xff" * rng.randint(9, 12) + bytes((rng.randrange(128),))
    else:  # a non-minimal spelling of a small number
        encoded = bytes((rng.randrange(128) | 0x80,)) + b"\x80" * rng.randint(0, 8) + b"\x00"
    at = rng.randrange(len(buf) + 1)
    if rng.random() < 0.5:
        buf[at : at + len(encoded)] = encoded
    else:
        buf[at:at] = encoded
    return buf


def _splice(rng: random.Random, buf: bytearray, pool: Sequence[bytes]) -> bytearray:
    other = rng.choice(pool)
    return buf[: rng.randrange(len(buf) + 1)] + other[rng.randrange(len(other) + 1) :]


def _random_length(rng: random.Random) -> int:
    return rng.choice((rng.randint(0, 8), rng.randint(0, 64), rng.randint(0, 512), 4096))


_BYTE_OPS: tuple[_ByteOp, ...] = (
    _flip_bits,
    _flip_bits,
    _boundary_byte,
    _boundary_byte,
    _add_to_byte,
    _truncate,
    _delete_slice,
    _duplicate_slice,
    _insert_random,
    _huge_varint,
    _huge_varint,
    _splice,
)
#: Operations that make sense on an empty input.
_GROWING: tuple[_ByteOp, ...] = (_insert_random, _huge_varint, _splice)
_STACK = (1, 1, 1, 1, 2, 2, 3, 4, 6)


def mutate_bytes(rng: random.Random, data: bytes, pool: Sequence[bytes]) -> bytes:
    """A mutant of ``data``: one to six stacked mutations, or now and then random bytes."""
    if rng.random() < 0.03:
        return rng.randbytes(rng.randint(0, _random_length(rng)))
    buf = bytearray(data)
    for _ in range(rng.choice(_STACK)):
        op = rng.choice(_BYTE_OPS if buf else _GROWING)
        buf = op(rng, buf, pool)
    return bytes(buf[:MAX_INPUT_LENGTH])


# ---------------------------------------------------------------------- text mutations

_WHITESPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u3000"
#: Characters that trip text handling: digits of other scripts and superscripts (which
#: ``str.isdigit`` accepts), letters whose case mapping changes their length, combining
#: marks, invisible and direction controls, lone surrogates, the ends of the code space.
_INTERESTING: tuple[str, ...] = (
    *"0123456789-_:./\\%[]",
    *"\u0663\u0966\uff11\u00b2\u00b3\u00b9\u2460\u216b\u07c0\U0001d7d8\u2070\u00bd",
    *"\u00df\u0130\u0131\ufb03\u212a\u03a3\u03c2\u1e9e\u0149",
    *"\u0301\u0308\u0327\u200b\u200c\u200d\ufeff\u202e\u2066\u061c",
    *"\x00\x7f\ud800\udfff\ufffd\uffff\U0010ffff\U0001f9ab\u1403\u00e9",
    *_WHITESPACE,
)

_TextOp = Callable[[random.Random, str, Sequence[str]], str]


def _character(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(_INTERESTING)
    if roll < 0.8:
        return chr(rng.randrange(0x20, 0x7F))
    return chr(rng.randrange(0x110000))


def _random_text(rng: random.Random, length: int) -> str:
    return "".join(_character(rng) for _ in range(length))


def _t_replace(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    i = rng.randrange(len(text))
    return text[:i] + _character(rng) + text[i + 1 :]


def _t_insert(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    at = rng.randrange(len(text) + 1)
    return text[:at] + _random_text(rng, rng.choice((1, 1, 2, 4))) + text[at:]


def _t_flip(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    i = rng.randrange(len(text))
    flipped = ord(text[i]) ^ (1 << rng.randrange(21))
    return text[:i] + chr(flipped % 0x110000) + text[i + 1 :]


def _t_truncate(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    cut = rng.randrange(len(text) + 1)
    return text[:cut] if rng.random() < 0.8 else text[cut:]


def _t_delete(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    start, end = _span(rng, len(text))
    return text[:start] + text[end:]


def _t_duplicate(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    start, end = _span(rng, len(text))
    at = rng.randrange(len(text) + 1)
    return text[:at] + text[start:end] * rng.choice((1, 1, 2, 16)) + text[at:]


def _t_case(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    start, end = _span(rng, len(text))
    change = rng.choice((str.upper, str.lower, str.swapcase, str.casefold, str.title))
    return text[:start] + change(text[start:end]) + text[end:]


def _t_whitespace(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    at = rng.randrange(len(text) + 1)
    spaces = "".join(rng.choice(_WHITESPACE) for _ in range(rng.randint(1, 3)))
    return text[:at] + spaces + text[at:]


def _t_huge_number(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    # The text counterpart of huge varints: numbers around every length a parser may cap.
    length = rng.choice((1, 2, 3, 4, 10, 20, 64, 4300, 4301, 5000))
    digits = "".join(rng.choice("0123456789") for _ in range(length))
    number = rng.choice((digits, "9" * length, "0" * length, "-" + digits, digits + "e9"))
    start, end = _span(rng, len(text))
    if rng.random() < 0.5:
        end = start
    return text[:start] + number + text[end:]


def _t_splice(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    other = rng.choice(pool)
    return text[: rng.randrange(len(text) + 1)] + other[rng.randrange(len(other) + 1) :]


_TEXT_OPS: tuple[_TextOp, ...] = (
    _t_replace,
    _t_replace,
    _t_insert,
    _t_flip,
    _t_truncate,
    _t_delete,
    _t_duplicate,
    _t_case,
    _t_whitespace,
    _t_huge_number,
    _t_splice,
)
_TEXT_GROWING: tuple[_TextOp, ...] = (_t_insert, _t_whitespace, _t_huge_number, _t_splice)


def mutate_text(rng: random.Random, text: str, pool: Sequence[str]) -> str:
    """A mutant of ``text``, character by character (any code point, surrogates included)."""
    if rng.random() < 0.03:
        return _random_text(rng, rng.randint(0, _random_length(rng)))
    for _ in range(rng.choice(_STACK)):
        op = rng.choice(_TEXT_OPS if text else _TEXT_GROWING)
        text = op(rng, text, pool)
    return text[:MAX_INPUT_LENGTH]


# ------------------------------------------------------------------------------ running


def check_samples(target: Target[T]) -> None:
    """``AssertionError`` unless every valid sample decodes to its value and round-trips."""
    if not target.samples:
        raise AssertionError(f"{target.name} has no valid sample to start from")
    for index, (data, expected) in enumerate(target.samples):
        where = f"{target.name}: valid sample #{index} ({describe(data, 120)})"
        try:
            decoded = target.decode(data)
        except Exception as exc:
            raise AssertionError(f"{where} was refused: {type(exc).__name__}: {exc}") from exc
        if decoded != expected:
            raise AssertionError(f"{where} decoded to {decoded!r}, not {expected!r}")
        if target.encode is None:
            continue
        again = target.encode(decoded)
        if target.canonical and again != data:
            raise AssertionError(f"{where} was encoded again as {describe(again, 120)}")
        try:
            round_trip = target.decode(again)
        except Exception as exc:
            raise AssertionError(
                f"{where} did not round-trip: its encoding was refused: {exc!r}"
            ) from exc
        if round_trip != expected:
            raise AssertionError(f"{where} did not round-trip: got {round_trip!r}")


def _origin(exc: BaseException) -> tuple[str, str]:
    """The project line an exception came from (else its innermost line), and its code.

    An ``int()`` or ``json`` failure is reported where the project called it, which is where
    it should have been caught.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?", ""
    chosen = frames[-1]
    for frame in reversed(frames):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(_PACKAGE) and not path.is_relative_to(_FAULTS):
            chosen = frame
            break
    path = Path(chosen.filename).resolve()
    shown = path.relative_to(_PACKAGE.parent) if path.is_relative_to(_PACKAGE.parent) else path
    return f"{shown}:{chosen.lineno}", (chosen.line or "").strip()


def _kind(exc: BaseException, location: str) -> tuple[str, str, str]:
    """What tells two failures apart: type, line, and message without its values.

    One line can fail in two ways (``int()`` of a superscript digit, and of 5,000 digits);
    each gets its own entry and its own minimal input.
    """
    shape = _VALUES.sub("_", str(exc))
    return type(exc).__name__, location, shape


def _shrink(target: Target[T], data: T, key: tuple[str, str, str]) -> T:
    """A smaller input raising the same exception at the same line (delta debugging)."""

    def fails(candidate: T) -> bool:
        try:
            target.decode(candidate)
        except target.declared:
            return False
        except Exception as exc:
            return _kind(exc, _origin(exc)[0]) == key
        return False

    budget = SHRINK_ATTEMPTS
    chunk = max(1, len(data) // 2)
    while budget > 0:
        i, removed = 0, False
        while i < len(data) and budget > 0:
            candidate = data[:i] + data[i + chunk :]
            budget -= 1
            if fails(candidate):
                data, removed = candidate, True
            else:
                i += chunk
        if not removed:
            if chunk == 1:
                break
            chunk //= 2
    return data


def _fuzz_target(
    target: Target[T], count: int, rng: random.Random, time_limit: float
) -> DecoderResult:
    result = DecoderResult(target.name, tuple(e.__name__ for e in target.declared))
    seeds = [data for data, _ in target.samples]
    corpus: list[T] = []
    rejections = Counter[str]()
    unexpected: dict[tuple[str, str, str], Unexpected] = {}
    started = time.perf_counter()
    for _ in range(count):
        base = rng.choice(corpus) if corpus and rng.random() < 0.3 else rng.choice(seeds)
        if target.structured is not None and rng.random() < 0.5:
            data = target.structured(rng, base)
        else:
            data = target.mutate(rng, base, seeds)
        error: Exception | None = None
        start = time.perf_counter()
        try:
            target.decode(data)
        except Exception as exc:
            error = exc
        elapsed = time.perf_counter() - start
        if error is None:
            result.accepted += 1
            if len(corpus) < CORPUS_SIZE:
                corpus.append(data)
            else:
                corpus[rng.randrange(CORPUS_SIZE)] = data
        elif isinstance(error, target.declared):
            result.rejected += 1
            rejections[type(error).__name__] += 1
        else:
            location, line = _origin(error)
            key = _kind(error, location)
            if key in unexpected:
                unexpected[key].count += 1
            else:
                unexpected[key] = Unexpected(key[0], location, line, str(error), 1, data, data)
        error = None  # drop the traceback and the frames it holds
        if elapsed > result.slowest_seconds:
            result.slowest_seconds, result.slowest_input = elapsed, data
        if elapsed > time_limit:
            result.too_slow.append(SlowInput(elapsed, data))
    result.inputs = count
    result.seconds = time.perf_counter() - started
    result.rejections_by_type = dict(rejections)
    for key, found in unexpected.items():
        first: Any = found.first_input  # the type T this target works on
        found.minimal_input = _shrink(target, first, key)
    result.unexpected = list(unexpected.values())
    return result


def split_inputs(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` shared by weight, every share at least ``total // 20``; the sum is ``total``."""
    n = len(weights)
    if n == 0:
        return []
    floor = min(total // 20, total // n)
    counts = [floor] * n
    rest = total - floor * n
    weight_sum = sum(weights)
    counts = [c + rest * w // weight_sum for c, w in zip(counts, weights, strict=True)]
    for i in range(total - sum(counts)):
        counts[i % n] += 1
    return counts


def fuzz_targets(
    targets: Sequence[Target[Any]],
    total_inputs: int,
    seed: int,
    *,
    time_limit: float = TIME_LIMIT_SECONDS,
    progress: Callable[[DecoderResult], None] | None = None,
) -> Report:
    """Check every target's samples (``AssertionError`` if one fails), then fuzz them all."""
    started = time.perf_counter()
    for target in targets:
        check_samples(target)
    report = Report(seed, time_limit, [])
    counts = split_inputs(total_inputs, [t.weight for t in targets])
    for target, count in zip(targets, counts, strict=True):
        # One generator per decoder, seeded by its name: adding a decoder changes no other's.
        rng = random.Random(f"{seed}/{target.name}")
        result = _fuzz_target(target, count, rng, time_limit)
        report.results.append(result)
        if progress is not None:
            progress(result)
    report.wall_seconds = time.perf_counter() - started
    return report


def fuzz_all(
    total_inputs: int,
    seed: int,
    *,
    time_limit: float = TIME_LIMIT_SECONDS,
    progress: Callable[[DecoderResult], None] | None = None,
) -> Report:
    """Fuzz every decoder of the project with ``total_inputs`` inputs in all."""
    return fuzz_targets(
        decoder_targets(), total_inputs, seed, time_limit=time_limit, progress=progress
    )


# ------------------------------------------------------------------ the project's decoders

_PROTOCOL = (RemoteProtocolError,)


def _hex_hash(content: bytes) -> str:
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def _gossip_target() -> Target[bytes]:

    alice, bob = bytes(range(32)), bytes(range(32, 64))
    signature = bytes(range(64, 128))
    batch = AuthorBatch(
        alice,
        ((1, 3), (6, 9)),
        (
            Operation(alice, 1, OpKind.ADVERTISE, b"NM\x01" + bytes(32), signature),
            Operation(alice, 3, OpKind.DELETE, b"archive-key", signature),
            Operation(alice, 7, OpKind.ADVERTISE, b"k", signature),
        ),
    )
    messages: list[gossip_messages.GossipMessage] = [
        Hello("natakanu-circle:00112233445566778899aabbccddeeff"),
        Hello("caf\u00e9", version=2),
        Summary(bytes(range(16)), reply=True),
        Vector((VectorEntry(alice, ((1, 300),), 2**64 - 1), VectorEntry(bob, (), 0)), False),
        Delta((batch, AuthorBatch(bob, ((2, 2),), ())), (VectorEntry(bob, ((1, 1),), 5),)),
        Delta(()),
    ]
    return Target(
        "gossip_messages.decode_message",
        gossip_messages.decode_message,
        tuple((gossip_messages.encode_message(m), m) for m in messages),
        _PROTOCOL,
        mutate_bytes,
        gossip_messages.encode_message,
        weight=3,
    )


def _hash_exchange_target() -> Target[bytes]:

    a, b = _hex_hash(b"alpha"), _hex_hash(b"beta")
    messages: list[hash_exchange.AnyMessage] = [
        Provide((a, b), position=7),
        Provide(()),
        Provide((a,), position=-1),
        Request((b,)),
        Deliver(a, 3, b"alpha"),
        NotHere((a, b)),
        Id("peer \u1403"),
        Since(-1),
        Seen(limits.MAX_SEQUENCE),
        Close(),
    ]
    return Target(
        "hash_exchange.decode_message",
        hash_exchange.decode_message,
        tuple((hash_exchange.encode_message(m), m) for m in messages),
        _PROTOCOL,
        mutate_bytes,
        hash_exchange.encode_message,
        weight=2,
    )


def _rpc_target() -> Target[bytes]:

    a, b = _hex_hash(b"alpha"), _hex_hash(b"beta")
    rpcs = [
        Rpc(RpcType.AVAILABLE, hashes=(a, b)),
        Rpc(RpcType.REQUEST, hashes=(a,)),
        Rpc(RpcType.HASHES, mapping=((a, 1), (b, 2**32 - 1))),
        Rpc(RpcType.HASHES),
        Rpc(RpcType.SINCE, sequence=0),
        Rpc(RpcType.SEEN, sequence=300),
        Rpc(RpcType.CLOSE),
        Rpc(RpcType.ID, hashes=("peer-\u00e9",)),
    ]
    return Target(
        "hx4.decode_rpc",
        hx4.decode_rpc,
        tuple((hx4.encode_rpc(r), r) for r in rpcs),
        _PROTOCOL,
        mutate_bytes,
        hx4.encode_rpc,
        weight=2,
    )


def _frame_target() -> Target[bytes]:

    frames = [
        Frame(1, FrameType.DATA, "0", b"\x00\x00"),
        Frame(2, FrameType.DATA, None, bytes(100)),
        Frame(-3, FrameType.END),
        Frame(2**31 - 1, FrameType.ERROR, "ffffffff", b""),
        Frame(-(2**31), FrameType.END, "1"),
    ]
    return Target(
        "hx4.decode_frame",
        hx4.decode_frame,
        tuple((hx4.encode_frame(f), f) for f in frames),
        _PROTOCOL,
        mutate_bytes,
        hx4.encode_frame,
    )


_HASH_A, _HASH_B, _HASH_C = (_hex_hash(w) for w in (b"alpha", b"beta", b"gamma"))


def _hx4_stream(data: bytes) -> list[hash_exchange.AnyMessage]:
    """What a connection that asked for A and B makes of ``data``, fed in two halves."""
    connection = hx4.Hx4Connection()
    connection.send(hash_exchange.Request((_HASH_A, _HASH_B)))  # lets a HASHES answer it
    half = len(data) // 2
    messages = connection.receive_data(data[:half])
    messages += connection.receive_data(data[half:])
    messages += connection.receive_eof()
    return messages


def _stream_of(frames: Sequence[hx4.Frame]) -> bytes:
    return b"".join(VarintFramer.frame(hx4.encode_frame(f)) for f in frames)


def _stream_target() -> Target[bytes]:

    def rpc(rpc: Rpc, first: bool = False) -> Frame:
        return Frame(1, FrameType.DATA, hx4.RPC_STREAM_NAME if first else None, hx4.encode_rpc(rpc))

    busy = [
        rpc(Rpc(RpcType.ID, hashes=("peer-b",)), first=True),
        rpc(Rpc(RpcType.AVAILABLE, hashes=(_HASH_A, _HASH_C))),
        rpc(Rpc(RpcType.REQUEST, hashes=(_HASH_C,))),
        rpc(Rpc(RpcType.HASHES, mapping=((_HASH_A, 1),))),
        Frame(2, FrameType.DATA, "2", b"alp"),
        Frame(2, FrameType.DATA, None, b"ha"),
        Frame(2, FrameType.END),
        rpc(Rpc(RpcType.SINCE, sequence=5)),
        rpc(Rpc(RpcType.SEEN, sequence=0)),
        rpc(Rpc(RpcType.CLOSE)),
    ]
    busy_messages = [
        Id("peer-b"),
        Provide((_HASH_A, _HASH_C)),
        Request((_HASH_C,)),
        NotHere((_HASH_B,)),
        Deliver(_HASH_A, 1, b"alpha"),
        Since(4),
        Seen(-1),
        Close(),
    ]
    ended = [
        rpc(Rpc(RpcType.AVAILABLE), first=True),
        rpc(Rpc(RpcType.HASHES, mapping=((_HASH_A, 0), (_HASH_B, 6)))),
        Frame(2, FrameType.END, "1"),
        Frame(3, FrameType.DATA, "7", b"part"),
        Frame(3, FrameType.ERROR),
        Frame(-1, FrameType.END),
        rpc(Rpc(RpcType.CLOSE)),
    ]
    ended_messages = [Provide(()), Deliver(_HASH_A, 0, b""), NotHere((_HASH_B,)), Close()]
    samples: tuple[tuple[bytes, object], ...] = (
        (_stream_of(busy), busy_messages),
        (_stream_of(ended), ended_messages),
    )
    pool = [data for data, _ in samples]

    def mutate_frames(rng: random.Random, data: bytes) -> bytes:
        # Frame by frame with lengths made right again, so the mutation reaches the frames,
        # the RPCs inside them and the connection's state rather than the length prefixes.
        try:
            frames = VarintFramer(MAX_INPUT_LENGTH).feed(data)
        except RemoteProtocolError:  # an accepted input may end in an unfinished frame
            frames = []
        if not frames:
            return mutate_bytes(rng, data, pool)
        i = rng.randrange(len(frames))
        roll = rng.random()
        if roll < 0.15:
            del frames[i]
        elif roll < 0.3:
            frames.insert(rng.randrange(len(frames) + 1), frames[i])
        elif roll < 0.4:
            j = rng.randrange(len(frames))
            frames[i], frames[j] = frames[j], frames[i]
        else:
            try:
                frame = hx4.decode_frame(frames[i])
            except RemoteProtocolError:
                frame = None
            if frame is not None and frame.data is not None and rng.random() < 0.6:
                data_pool = [frame.data, hx4.encode_rpc(Rpc(RpcType.HASHES))]
                mutated = Frame(
                    frame.channel, frame.kind, frame.name, mutate_bytes(rng, frame.data, data_pool)
                )
                frames[i] = hx4.encode_frame(mutated)
            else:
                frames[i] = mutate_bytes(rng, frames[i], frames)
        return b"".join(VarintFramer.frame(f) for f in frames)

    return Target(
        "hx4.Hx4Connection.receive_data",
        _hx4_stream,
        samples,
        _PROTOCOL,
        mutate_bytes,
        structured=mutate_frames,
        weight=3,
    )


def _invitation_target() -> Target[str]:

    invitations = [
        Invitation(
            "Biblioth\u00e8que du village",
            CircleKeys.from_secret(bytes(range(32))),
            bytes(range(100, 132)),
            ("192.168.1.20:4455", "[fe80::1%eth0]:4455", "peer-b.local:80"),
        ),
        Invitation(
            "\u14c0\u1426\u1403\u152d\u140d\u140f\u1423",
            CircleKeys.of("00112233445566778899aabbccddeeff", 7, bytes(32)),
            bytes(32),
        ),
    ]
    texts = [circle.encode_invitation(i) for i in invitations]
    canonical = [(text, i) for text, i in zip(texts, invitations, strict=True)]
    # Spaces, line breaks and case do not matter to the decoder: a pasted invitation.
    spaced = " ".join(texts[0][i : i + 4] for i in range(0, len(texts[0]), 4))
    pasted = (f"  {spaced.lower()}\n", invitations[0])
    broken = (texts[1][:40] + "\r\n" + texts[1][40:], invitations[1])
    samples: tuple[tuple[str, object], ...] = (*canonical, pasted, broken)
    bodies = [_invitation_body(text) for text in texts]

    def mutate_body(rng: random.Random, text: str) -> str:
        # The body with a check made right again: byte noise alone never passes the check.
        body = _invitation_body(text)
        body = mutate_bytes(rng, body, bodies)
        check = hashlib.blake2s(body, digest_size=8).digest()
        encoded = base64.b32encode(body + check).decode("ascii").rstrip("=")
        return circle.INVITATION_PREFIX + encoded

    return Target(
        "circle.decode_invitation",
        circle.decode_invitation,
        samples,
        (circle.InvitationError, RemoteProtocolError),
        mutate_text,
        circle.encode_invitation,
        canonical=False,
        structured=mutate_body,
        weight=2,
    )


def _invitation_body(text: str) -> bytes:
    """The body of a text the decoder accepted (or of a sample), without its check."""
    payload = "".join(text.split()).upper()[len(circle.INVITATION_PREFIX) :]
    return base64.b32decode(payload + "=" * (-len(payload) % 8))[:-8]


def _update_target() -> Target[bytes]:

    keys = CircleKeys.of("00112233445566778899aabbccddeeff", 3, bytes(range(32)))
    updates = [
        CircleUpdate(
            keys,
            frozenset({b"\x01" * 32}),
            b"\x02" * 32,
            b"\x03" * 64,
            frozenset({b"\x04" * 32, b"\x05" * 32}),
        ),
        CircleUpdate(CircleKeys.from_secret(bytes(32)), frozenset(), bytes(32), bytes(64)),
    ]
    return Target(
        "circle.decode_update",
        circle.decode_update,
        tuple((circle.encode_update(u), u) for u in updates),
        _PROTOCOL,
        mutate_bytes,
        circle.encode_update,
    )


def _parse_code_target() -> Target[str]:
    samples: tuple[tuple[str, object], ...] = (
        ("42-river-moose", (42, "42-river-moose")),
        (" 7 Lake OWL\t", (7, "7-lake-owl")),
        ("999-walleye-acorn", (999, "999-walleye-acorn")),
        ("1--acorn--dragonfly-", (1, "1-acorn-dragonfly")),
    )
    return Target(
        "join_code.parse_code",
        join_code.parse_code,
        samples,
        (UsageError,),
        mutate_text,
    )


def _request_target() -> Target[bytes]:
    values = [(42, bytes(range(33))), (999, b"\xff" * 33), (0, bytes(33))]
    return Target(
        "join_code.decode_request",
        join_code.decode_request,
        tuple((join_code.encode_request(*v), v) for v in values),
        _PROTOCOL,
        mutate_bytes,
        lambda value: join_code.encode_request(*value),
    )


def _answer_target() -> Target[bytes]:
    values = [
        (bytes(range(33)), bytes(range(12)), bytes(range(200))),
        (b"\x02" * 33, bytes(12), bytes(17)),
        (bytes(33), b"\xff" * 12, bytes(join_code.MAX_SEALED_BYTES)),
    ]
    return Target(
        "join_code.decode_answer",
        join_code.decode_answer,
        tuple((join_code.encode_answer(*v), v) for v in values),
        _PROTOCOL,
        mutate_bytes,
        lambda value: join_code.encode_answer(*value),
    )


def _link_auth_target() -> Target[bytes]:

    messages: list[link_auth.Message] = [
        Challenge(bytes(range(32))),
        Knock(bytes(range(32)), bytes(range(32, 64))),
        Proof(bytes(range(32)), bytes(32), bytes(range(64)), "Ana's laptop", 4455),
        Proof(b"\xff" * 32, b"\x01" * 32, bytes(64), "", None),
        Proof(bytes(32), bytes(32), bytes(64), "\u14c0\u1426 \U0001f9ab" * 10, 65535),
    ]
    return Target(
        "link_auth.decode",
        link_auth.decode,
        tuple((link_auth.encode(m), m) for m in messages),
        _PROTOCOL,
        mutate_bytes,
        link_auth.encode,
    )


#: JSON values put in place of a manifest's: wrong types, edge numbers, and names that are
#: unsafe, unportable or not in normal form.
_JSON_VALUES: tuple[object, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1,
    2,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    limits.MAX_FILE_BYTES,
    limits.MAX_FILE_BYTES + 1,
    2**63,
    2**64,
    10**30,
    0.5,
    4194304.0,
    float("inf"),
    float("nan"),
    [],
    {},
    [[[[]]]],
    {"path": "a"},
    "",
    " ",
    ".",
    "..",
    "a/../b",
    "/etc/passwd",
    "C:x",
    "a\\b",
    "x.",
    "x ",
    "CON",
    "nul.txt",
    "com\u00b9",
    "a//b",
    "A.TXT",
    "e\u0301t\u00e9",
    "\u202etxt.exe",
    "\ud800",
    "\x00",
    "a" * 256,
    "a/" * 40 + "a",
    "file",
    "folder",
    "blake3",
    "sha256",
    "text/plain",
    "Text/Plain",
    "0" * 64,
    "f" * 64,
    "F" * 64,
    "0" * 63,
)
_MANIFEST_FIELDS = ("chunk_size", "files", "hash", "kind", "name", "version", "chunks", "path")


def _json_places(document: object) -> list[tuple[dict[str, object] | list[object], Any]]:
    """Every (container, key or index) of a JSON document, breadth first."""
    places: list[tuple[dict[str, object] | list[object], Any]] = []
    todo = [document]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                places.append((node, key))
                todo.append(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                places.append((node, index))
                todo.append(value)
    return places


def _mutate_json(rng: random.Random, document: object, texts: Sequence[str]) -> object:
    places = _json_places(document)
    if not places or rng.random() < 0.02:
        return rng.choice(_JSON_VALUES)
    container, key = rng.choice(places)
    value = container[key]
    roll = rng.random()
    if roll < 0.3:
        new: object = rng.choice(_JSON_VALUES)
    elif isinstance(value, str) and roll < 0.6:
        new = mutate_text(rng, value, texts)
    elif isinstance(value, int) and not isinstance(value, bool) and roll < 0.6:
        new = rng.choice((value + 1, value - 1, -value, value * 2, value // 2, 2**64 - value))
    elif isinstance(value, list) and value and roll < 0.7:
        new = list(value)
        if rng.random() < 0.5:
            new.insert(rng.randrange(len(new) + 1), rng.choice(new))
        else:
            rng.shuffle(new)
    elif roll < 0.8:
        del container[key]
        return document
    else:
        if isinstance(container, dict):
            container[rng.choice((*_MANIFEST_FIELDS, "extra"))] = rng.choice(_JSON_VALUES)
        else:
            container.insert(rng.randrange(len(container) + 1), rng.choice(_JSON_VALUES))
        return document
    container[key] = new
    return document


def _manifest_target() -> Target[bytes]:

    def file(path: str, size: int, first: int = 0) -> ManifestFile:
        count = manifest_codec.chunk_count_for(size)
        digests = tuple(f"{first + i:064x}" for i in range(count))
        return ManifestFile(path, size, media_type_for(path), digests)

    manifests = [
        Manifest("song.ogg", False, (file("song.ogg", 5),)),
        Manifest(
            "\u14c0\u1426\u1403\u152d\u140d\u140f\u1423",
            True,
            (
                file("Montr\u00e9al/\u00e9t\u00e9 2024.mp4", 2 * CHUNK_SIZE + 5, 1),
                file("empty.txt", 0),
                file("\u1403\u14c4\u1483\u144e\u1450\u1466/notes.pdf", CHUNK_SIZE, 10),
            ),
        ),
        Manifest("archive.tar.gz", False, (file("archive.tar.gz", CHUNK_SIZE + 1, 99),)),
    ]
    samples = tuple((manifest_codec.encode_manifest(m), m) for m in manifests)
    texts = [m.name for m in manifests] + [f.path for m in manifests for f in m.files]

    def mutate_document(rng: random.Random, data: bytes) -> bytes:
        # Changes made to the JSON document, written back canonically: byte noise alone
        # is refused as malformed JSON long before the names are checked.
        try:
            document: object = json.loads(data)
        except ValueError:
            return mutate_bytes(rng, data, [d for d, _ in samples])
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            document = _mutate_json(rng, document, texts)
        text = json.dumps(
            document, ensure_ascii=rng.random() < 0.2, sort_keys=True, separators=(",", ":")
        )
        return text.encode("utf-8", "surrogatepass")

    return Target(
        "manifest.decode_manifest",
        manifest_codec.decode_manifest,
        samples,
        _PROTOCOL,
        mutate_bytes,
        manifest_codec.encode_manifest,
        structured=mutate_document,
        weight=3,
    )


def _varint_target() -> Target[bytes]:
    values = [0, 1, 127, 128, 300, 16384, 2**32 - 1, 2**63, 2**64 - 1]
    return Target(
        "wire.decode_varint",
        decode_varint,
        tuple((encode_varint(v), (v, len(encode_varint(v)))) for v in values),
        _PROTOCOL,
        mutate_bytes,
        lambda value: encode_varint(value[0]),
    )


def _framer_feed(data: bytes) -> list[bytes]:
    """The frames hash-exchange 4's framer finds in ``data``, fed in two halves."""
    framer = VarintFramer(limits.MAX_HX4_FRAME_BYTES, skip_empty=True)
    half = len(data) // 2
    return framer.feed(data[:half]) + framer.feed(data[half:])


def _framer_target() -> Target[bytes]:
    values = [[b"a"], [b"frame one", bytes(200), b"\x80"], [bytes(range(256)) * 2]]
    return Target(
        "wire.VarintFramer.feed",
        _framer_feed,
        tuple((b"".join(VarintFramer.frame(f) for f in v), v) for v in values),
        _PROTOCOL,
        mutate_bytes,
        lambda frames: b"".join(VarintFramer.frame(f) for f in frames),
    )


def _offer_target() -> Target[bytes]:
    values = [(4455, bytes(range(32))), (1, b"\xff" * 32), (65535, bytes(32))]
    return Target(
        "bulk.decode_offer",
        bulk.decode_offer,
        tuple((bulk.encode_offer(*v), v) for v in values),
        _PROTOCOL,
        mutate_bytes,
        lambda value: bulk.encode_offer(*value),
    )


def decoder_targets() -> list[Target[Any]]:
    """Every decoder of what a peer sends or a person types, with valid samples."""
    return [
        _gossip_target(),
        _hash_exchange_target(),
        _rpc_target(),
        _frame_target(),
        _stream_target(),
        _invitation_target(),
        _update_target(),
        _parse_code_target(),
        _request_target(),
        _answer_target(),
        _link_auth_target(),
        _manifest_target(),
        _varint_target(),
        _framer_target(),
        _offer_target(),
    ]
