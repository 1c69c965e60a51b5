"""Sets of whole numbers kept as sorted, disjoint, inclusive intervals.

The gossip uses them for the operation numbers of one author that a replica has covered:
an honest replica usually holds a single interval ``[1, n]``, so the set stays tiny.
This module must never know what the numbers mean.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator

Interval = tuple[int, int]  # inclusive bounds, start <= end


class IntervalSet:
    """A mutable set of integers stored as merged inclusive intervals."""

    __slots__ = ("_items",)

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self._items: list[Interval] = []
        for start, end in intervals:
            self.add(start, end)

    def __iter__(self) -> Iterator[Interval]:
        return iter(self._items)

    def __len__(self) -> int:
        """Number of intervals (not of integers)."""
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and self._items == other._items

    def __repr__(self) -> str:
        return f"IntervalSet({self._items!r})"

    def copy(self) -> IntervalSet:
        clone = IntervalSet()
        clone._items = list(self._items)
        return clone

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return tuple(self._items)

    @property
    def maximum(self) -> int:
        """Largest member, or 0 for the empty set."""
        return self._items[-1][1] if self._items else 0

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        i = bisect_right(self._items, (value, float("inf"))) - 1
        return i >= 0 and self._items[i][0] <= value <= self._items[i][1]

    def add(self, start: int, end: int) -> bool:
        """Add ``[start, end]``; return whether any new integer was added."""
        if start > end:
            return False
        items = self._items
        # Fast path: extending or appending at the end, the common case for in-order numbers.
        if not items or start > items[-1][1] + 1:
            items.append((start, end))
            return True
        last_start, last_end = items[-1]
        if start >= last_start:
            if end <= last_end:
                return False
            items[-1] = (last_start, end)
            return True
        lo = bisect_right(items, (start, -1))
        if lo > 0 and items[lo - 1][1] >= start - 1:
            lo -= 1
        hi = lo
        new_start, new_end = start, end
        while hi < len(items) and items[hi][0] <= end + 1:
            new_start = min(new_start, items[hi][0])
            new_end = max(new_end, items[hi][1])
            hi += 1
        merged = items[lo:hi]
        if (
            len(merged) == 1
            and merged[0] == (new_start, new_end)
            and (merged[0][0] <= start and merged[0][1] >= end)
        ):
            return False
        items[lo:hi] = [(new_start, new_end)]
        return True

    def update(self, other: Iterable[Interval]) -> bool:
        changed = False
        for start, end in other:
            changed = self.add(start, end) or changed
        return changed

    def minus(self, other: IntervalSet) -> list[Interval]:
        """The intervals of ``self`` that are not in ``other``."""
        result: list[Interval] = []
        theirs = other._items
        j = 0
        for start, end in self._items:
            cursor = start
            while j < len(theirs) and theirs[j][1] < cursor:
                j += 1
            k = j
            while k < len(theirs) and theirs[k][0] <= end:
                o_start, o_end = theirs[k]
                if o_start > cursor:
                    result.append((cursor, o_start - 1))
                cursor = max(cursor, o_end + 1)
                if cursor > end:
                    break
                k += 1
            if cursor <= end:
                result.append((cursor, end))
        return result

    def covers(self, start: int, end: int) -> bool:
        """Whether every integer of ``[start, end]`` is in the set."""
        i = bisect_right(self._items, (start, float("inf"))) - 1
        return i >= 0 and self._items[i][0] <= start and end <= self._items[i][1]
