"""GUI tests run offscreen, on the Qt event loop through qasync, with pytest-qt's qtbot."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

import pytest
import pytestqt.plugin
import qasync
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from natakanu_peer.gui.bridge import NodeBridge
from natakanu_peer.gui.window import MainWindow

_loops: list[qasync.QEventLoop] = []


def _qasync_loop() -> qasync.QEventLoop:
    loop = qasync.QEventLoop(QApplication.instance() or QApplication([]))
    _loops[:] = [loop]
    return loop


def pytest_asyncio_loop_factories(config: Any, item: Any) -> dict[str, Callable[[], Any]]:
    return {"qasync": _qasync_loop}


def _process_events_as_the_loop() -> None:
    """pytest-qt processes Qt events between a test's phases, when the asyncio loop is not
    running. qasync runs its callbacks from Qt timers, so a task may step there, and anything
    that asks for the running loop (an ``asyncio.Event``, a sleep) then fails. The loop is
    marked running for that moment, as it is whenever the application processes events."""
    app = QApplication.instance()
    if app is None:
        return
    loop = _loops[0] if _loops and not _loops[0].is_closed() else None
    if loop is None or asyncio._get_running_loop() is not None:
        app.processEvents()
        return
    asyncio._set_running_loop(loop)
    try:
        app.processEvents()
    finally:
        asyncio._set_running_loop(None)


pytestqt.plugin._process_events = _process_events_as_the_loop  # type: ignore[attr-defined]


async def until(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Wait on the running loop (so the window and the nodes go on) until ``condition``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = condition()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)


class RunningWindow:
    """A real main window with its node, on 127.0.0.1, discovery off."""

    def __init__(self, data_dir: Path) -> None:
        self.bridge = NodeBridge(data_dir, discovery=False)
        self.window = MainWindow(self.bridge, QIcon())
        self.task: asyncio.Task[None] | None = None
        self.stopped = False

    async def start(self) -> RunningWindow:
        self.task = asyncio.ensure_future(self.bridge.run(("127.0.0.1", 0)))
        await until(lambda: self.bridge.ready and self.window.settings is not None)
        self.window.show()
        return self

    @property
    def node(self) -> Any:
        assert self.bridge.node is not None
        return self.bridge.node

    async def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.bridge.stop()
        if self.task is not None:
            await self.task
        self.window.quitting = True
        self.window.close()
        self.window.deleteLater()


@pytest.fixture
async def windows(tmp_path: Path) -> AsyncIterator[Callable[[str], Any]]:
    """Start windows by name (each with its own data directory); all stopped at the end."""
    started: list[RunningWindow] = []

    async def start(name: str) -> RunningWindow:
        running = await RunningWindow(tmp_path / name).start()
        started.append(running)
        return running

    yield start
    for running in reversed(started):
        await running.stop()
