"""The daemon asks the C allocator to keep chunk-sized buffers (see runtime.keep_large_buffers)."""

import sys

from natakanu_peer.app.runtime import keep_large_buffers


def test_the_allocator_accepts_the_tuning_where_it_exists() -> None:
    assert keep_large_buffers() is sys.platform.startswith("linux")
