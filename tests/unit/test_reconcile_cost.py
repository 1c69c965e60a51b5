"""Reconciliation cost grows with the difference between two peers, not with their sets."""

from natakanu_peer.bench.reconcile import reconcile


def test_peers_in_sync_agree_in_one_round_trip_and_under_200_bytes():
    result = reconcile(2_000, 0)
    assert result.converged
    assert result.bytes <= 200 and result.round_trips <= 1


def test_ten_times_more_keys_costs_about_the_same_for_the_same_difference():
    small, large = reconcile(1_000, 10), reconcile(10_000, 10)
    assert small.converged and large.converged
    assert large.dat_gossip_bytes > 9 * small.dat_gossip_bytes
    assert large.bytes < 1.1 * small.bytes
    assert large.round_trips <= 2


def test_holes_anywhere_in_the_histories_cost_about_one_operation_each():
    result = reconcile(5_000, 500, "scattered")
    assert result.converged
    assert result.bytes / 500 < 200
