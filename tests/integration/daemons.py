"""Real daemons for the integration tests: the fault suite's helpers, used as they are."""

from natakanu_peer.faults.peers import (
    PYTHON,
    Daemon,
    cli,
    online,
    wait_for,
    without_hints,
)

__all__ = ["PYTHON", "Daemon", "cli", "online", "wait_for", "without_hints"]
