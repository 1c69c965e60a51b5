"""A member of the circle that floods, lies and sends garbage: the short version of
``natakanu_peer.faults.hostile`` (five-second floods).

For each scenario (flooding operations, requests and connections, wrong content, oversized
and malformed frames, names escaping the downloads folder), the honest daemon stays up, an
honest transfer beside it completes byte-identical, the hostile member is refused or what it
sent is rejected, and the honest daemon's memory grows at most 100 MB over idle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from natakanu_peer.faults.hostile import markdown_table, run_hostile

SCENARIOS = [
    "flooding operations",
    "flooding requests",
    "flooding connections",
    "wrong content",
    "oversized and malformed frames",
    "traversal names",
]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    found = run_hostile(Path(tmp_path_factory.mktemp("hostile")), quick=True)
    print(markdown_table(found))
    assert [r["scenario"] for r in found] == SCENARIOS
    return {r["scenario"]: r for r in found}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_honest_daemon_stays_up_and_keeps_serving(results, scenario):
    result = results[scenario]
    assert result["alive"], result
    assert result["honest_ok"], result


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_hostile_member_is_stopped_within_the_memory_bound(results, scenario):
    result = results[scenario]
    assert result["met"], result
