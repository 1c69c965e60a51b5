"""Interval sets behave exactly like Python sets of integers."""

import itertools

from hypothesis import given
from hypothesis import strategies as st

from natakanu_peer.protocol.intervals import IntervalSet

spans = st.lists(
    st.tuples(st.integers(1, 60), st.integers(0, 8)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=12,
)


def as_set(intervals):
    return {n for start, end in intervals for n in range(start, end + 1)}


@given(spans)
def test_adding_intervals_covers_exactly_their_numbers_merged_and_sorted(items):
    s = IntervalSet(items)
    assert as_set(s) == as_set(items)
    flat = list(s)
    for (_, end), (start, _) in itertools.pairwise(flat):
        assert start > end + 1, "neighbouring intervals must be merged"


@given(spans, spans)
def test_minus_is_set_difference(a, b):
    assert as_set(IntervalSet(a).minus(IntervalSet(b))) == as_set(a) - as_set(b)


@given(spans, st.integers(0, 70), st.integers(0, 70))
def test_membership_and_cover_agree_with_sets(items, x, y):
    s = IntervalSet(items)
    numbers = as_set(items)
    assert (x in s) == (x in numbers)
    lo, hi = min(x, y), max(x, y)
    if lo >= 1:
        assert s.covers(lo, hi) == all(n in numbers for n in range(lo, hi + 1))


@given(spans, st.tuples(st.integers(1, 60), st.integers(0, 8)))
def test_add_reports_whether_anything_was_new(items, extra):
    s = IntervalSet(items)
    start, end = extra[0], extra[0] + extra[1]
    before = as_set(s)
    assert s.add(start, end) == bool(set(range(start, end + 1)) - before)
