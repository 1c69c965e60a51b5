"""What the integration tests share: daemons that are always stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .daemons import Daemon


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons a test starts go here; those still running are stopped after it."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        if daemon.process is not None and daemon.process.poll() is None:
            daemon.stop()
