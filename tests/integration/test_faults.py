"""The fault suite's short version: a few SIGKILLs at random moments, and a disk that fills
up during a download. (The full suite: ``python -m natakanu_peer.faults``.)"""

from __future__ import annotations

import os

import pytest

from natakanu_peer.faults.disk import run_disk_full
from natakanu_peer.faults.kills import markdown, run_kills


def test_daemons_killed_at_random_moments_lose_nothing_they_acknowledged(tmp_path):
    report = run_kills(tmp_path, kills=6, seed=7, file_mb=(8, 48))
    print(markdown(report))
    assert report.kills == 6
    assert report.integrity_failures == []
    assert report.corrupt_files == []
    assert report.lost_keys == [] and report.keys_acknowledged > 0
    assert report.fetches > 0 and report.fetches_incomplete == []
    assert report.most_again_in_one <= 1  # chunks downloaded again per interrupted download
    assert report.converged


@pytest.mark.skipif(os.geteuid() != 0, reason="the disk-full fault mounts a tmpfs (root only)")
def test_a_disk_filling_up_stops_the_download_with_advice_and_it_resumes(tmp_path):
    report = run_disk_full(tmp_path, file_mb=64, disk_mb=80)
    assert report.stopped_with_message, report.message
    assert "full" in report.message and "free some space" in report.message
    assert report.half_written_shown == []
    assert report.resumed_identical
