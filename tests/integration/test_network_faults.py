"""Loss and delay, a flapping cable and a partition healed, between four daemons of one circle
in network namespaces: the short version of ``natakanu_peer.faults.network``.

After each fault every daemon lists the same keys (the deletes made during the partition
included), and the file fetched across the lossy, slow cables arrives byte-identical.
"""

from __future__ import annotations

import time

import pytest

from natakanu_peer.faults.network import can_run, run_network_faults


def test_all_peers_converge_after_loss_and_delay_flapping_and_a_partition() -> None:
    reason = can_run()  # root, ip and tc (and netem, or iptables to do without it)
    if reason is not None:
        pytest.skip(reason)
    started = time.monotonic()

    loss, flapping, partition = run_network_faults(quick=True)

    for result in (loss, flapping, partition):
        assert result["converged"], result
        assert result["met"], result
    assert loss["fetch_seconds"] is not None, loss
    assert loss["identical"], loss
    assert flapping["cuts"] >= 1, flapping
    assert partition["partition_held"], partition
    assert partition["deletes_stuck"], partition
    assert time.monotonic() - started < 90
