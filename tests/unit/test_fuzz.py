"""The decoders under a short fuzz run, and the fuzz harness itself catching broken decoders.

The full run (a million inputs) is ``python -m natakanu_peer.faults fuzz``.
"""

from __future__ import annotations

import time

import pytest

from natakanu_peer.errors import RemoteProtocolError, UsageError
from natakanu_peer.faults.fuzz import (
    Report,
    Target,
    check_samples,
    decoder_targets,
    format_markdown,
    fuzz_all,
    fuzz_targets,
    mutate_bytes,
    mutate_text,
    split_inputs,
)

INPUTS = 30_000
DECODERS = {
    "gossip_messages.decode_message",
    "hash_exchange.decode_message",
    "hx4.decode_rpc",
    "hx4.decode_frame",
    "hx4.Hx4Connection.receive_data",
    "circle.decode_invitation",
    "circle.decode_update",
    "join_code.parse_code",
    "join_code.decode_request",
    "join_code.decode_answer",
    "link_auth.decode",
    "manifest.decode_manifest",
    "wire.decode_varint",
    "wire.VarintFramer.feed",
    "bulk.decode_offer",
}


@pytest.fixture(scope="module")
def report() -> Report:
    return fuzz_all(INPUTS, seed=1)


def test_every_decoder_gets_its_share_and_refuses_some_inputs(report: Report) -> None:
    assert {r.name for r in report.results} == DECODERS
    assert report.total_inputs == INPUTS
    for result in report.results:
        assert result.inputs >= INPUTS // 20, result.name
        assert result.inputs == result.rejected + result.accepted + result.other_exceptions
        # Mutants that are refused and mutants that pass: the inputs reach past the surface.
        assert result.rejected > 0, result.name
        assert result.accepted > 0, result.name


def test_no_decoder_raises_anything_but_its_declared_error(report: Report) -> None:
    assert report.other_exceptions == 0, "\n".join(report.failures())


def test_no_input_takes_a_second(report: Report) -> None:
    assert report.too_slow == 0, "\n".join(report.failures())
    assert all(r.slowest_seconds < 1.0 for r in report.results)


def test_the_report_is_a_markdown_table(report: Report) -> None:
    table = format_markdown(report)
    assert table.startswith("| decoder | inputs | declared-error rejections | accepted |")
    assert all(f"| {name} |" in table for name in DECODERS)
    assert f"Total: {INPUTS:,} inputs" in table


@pytest.mark.parametrize("target", decoder_targets(), ids=lambda t: t.name)
def test_every_valid_sample_decodes_and_round_trips(target: Target[bytes]) -> None:
    check_samples(target)


def test_the_same_seed_gives_the_same_run() -> None:
    targets = decoder_targets()[:3]
    first, second = (fuzz_targets(targets, 600, seed=5) for _ in range(2))
    third = fuzz_targets(targets, 600, seed=6)

    def counts(report: Report) -> list[tuple[int, int, int]]:
        return [(r.inputs, r.rejected, r.accepted) for r in report.results]

    assert counts(first) == counts(second) != counts(third)


def test_inputs_are_shared_by_weight_with_a_floor_for_every_decoder() -> None:
    counts = split_inputs(1_000_000, [3, 1, 1, 2])
    assert sum(counts) == 1_000_000
    assert min(counts) >= 50_000
    assert counts[0] > counts[3] > max(counts[1], counts[2])
    assert abs(counts[1] - counts[2]) <= 1
    assert sum(split_inputs(7, [1] * 15)) == 7


# ------------------------------------------------------------------ broken decoders


def indexes_past_the_end(data: bytes) -> int:
    """A decoder with the classic bug: the first byte is an offset, never checked."""
    if not data:
        raise RemoteProtocolError("empty")
    return data[data[0]]


def fragile_target() -> Target[bytes]:
    sample = bytes((1, 7, 9))
    return Target(
        "fragile", indexes_past_the_end, ((sample, 7),), (RemoteProtocolError,), mutate_bytes
    )


def test_an_undeclared_exception_is_reported_with_a_minimal_input() -> None:
    report = fuzz_targets([fragile_target()], 2_000, seed=0)
    assert not report.ok
    (result,) = report.results
    (found,) = result.unexpected
    assert found.exception == "IndexError"
    assert found.count == result.other_exceptions > 0
    assert found.location.startswith("tests/unit/test_fuzz.py:")
    assert found.line == "return data[data[0]]"
    assert len(found.minimal_input) == 1 and found.minimal_input != b"\x00"
    with pytest.raises(IndexError):
        indexes_past_the_end(bytes(found.minimal_input))
    assert f"(IndexError {found.count:,})" in format_markdown(report)
    assert any("fragile: IndexError" in line for line in report.failures())


def test_a_text_decoder_raising_value_error_is_reported() -> None:
    def parse_number(text: str) -> int:
        if not text.strip():
            raise UsageError("type a number")
        return int(text)  # ValueError on anything but digits: undeclared

    target = Target("number", parse_number, (("42", 42),), (UsageError,), mutate_text)
    report = fuzz_targets([target], 1_000, seed=0)
    found = report.results[0].unexpected
    assert {u.exception for u in found} == {"ValueError"}
    # "invalid literal" and "exceeds the limit (4300 digits)": one entry for each failure.
    literal = next(u for u in found if "invalid literal" in u.message)
    assert isinstance(literal.minimal_input, str) and len(literal.minimal_input) == 1


def test_an_input_over_the_time_limit_is_a_failure() -> None:
    def slow_on_ff(data: bytes) -> bytes:
        if b"\xff" in data:
            time.sleep(0.01)
        return data

    target = Target("slow", slow_on_ff, ((b"\x01\x02\x03", b"\x01\x02\x03"),), (), mutate_bytes)
    report = fuzz_targets([target], 300, seed=0, time_limit=0.005)
    (result,) = report.results
    assert not report.ok and result.too_slow and not result.unexpected
    assert all(isinstance(s.input, bytes) and b"\xff" in s.input for s in result.too_slow)
    assert result.slowest_seconds >= 0.01
    assert "over the limit" in "\n".join(report.failures())


def test_a_decoder_that_refuses_its_valid_sample_is_refused() -> None:
    def refuses_everything(data: bytes) -> None:
        raise RemoteProtocolError("no")

    target = Target("deaf", refuses_everything, ((b"ok", None),), (), mutate_bytes)
    with pytest.raises(AssertionError, match=r"deaf: valid sample #0 .* was refused"):
        fuzz_targets([target], 100, seed=0)


def test_a_decoder_that_decodes_its_sample_wrongly_is_refused() -> None:
    target = Target("wrong", lambda data: data[:1], ((b"ok", b"ok"),), (), mutate_bytes)
    with pytest.raises(AssertionError, match="decoded to b'o', not b'ok'"):
        fuzz_targets([target], 100, seed=0)


def test_an_encoder_that_does_not_round_trip_is_refused() -> None:
    target = Target(
        "lossy", bytes, ((b"ok", b"ok"),), (), mutate_bytes, encode=lambda value: value + b"!"
    )
    with pytest.raises(AssertionError, match="encoded again"):
        fuzz_targets([target], 100, seed=0)


def test_a_target_without_samples_is_refused() -> None:
    with pytest.raises(AssertionError, match="no valid sample"):
        fuzz_targets([Target("empty", bytes, (), (), mutate_bytes)], 100, seed=0)
