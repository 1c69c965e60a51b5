"""The Qt binding we install runs on this system, and survives a busy qasync event loop.

PySide6 6.12.0 under Python < 3.12 drops a reference to None on every ``killTimer`` call,
which crashes qasync within seconds; the dependency pin avoids it and this test guards it.
"""

import asyncio
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import qasync
from PySide6.QtWidgets import QApplication


def test_qasync_runs_fifty_thousand_callbacks_without_crashing():
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    done = 0

    async def busy() -> None:
        nonlocal done
        for _ in range(50_000):
            await asyncio.sleep(0)
            done += 1

    try:
        loop.run_until_complete(busy())
    finally:
        loop.close()
    assert done == 50_000
