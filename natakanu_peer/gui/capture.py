"""Screenshots of the real window, for the README: main window, invitation, settings.

Started by ``natakanu-peer window --screenshots DIR`` (a hidden option used by
``tools/screenshots.py``): once the node runs and its lists are shown, the window saves
what a person would see, opens the invitation and the settings as a person would, saves
them, and quits. Nothing here changes the node's state.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from .window import MainWindow

SETTLE_SECONDS = 4.0


async def capture(window: MainWindow, folder: Path, language: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    while window.bridge.node is None:
        await asyncio.sleep(0.1)
    await asyncio.sleep(SETTLE_SECONDS)  # peers linked, manifests fetched, one poll or two
    _save(window, folder / f"main-{language}.png")
    window.tabs.setCurrentIndex(1)
    await asyncio.sleep(0.3)
    _save(window, folder / f"people-{language}.png")
    window.tabs.setCurrentIndex(0)
    window.invite()
    for _ in range(100):
        dialog = getattr(window, "invite_dialog", None)
        if dialog is not None and dialog.isVisible():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    _save(window.invite_dialog, folder / f"invite-{language}.png")
    window.invite_dialog.close()
    from .dialogs import SettingsDialog

    node = window.bridge.node
    assert node is not None and window.settings is not None
    settings = SettingsDialog(
        window.settings, node.paths.default_downloads, str(window.status.get("listen")), window
    )
    settings.show()
    await asyncio.sleep(0.3)
    _save(settings, folder / f"settings-{language}.png")
    settings.close()
    window.quit()


def _save(widget: QWidget, path: Path) -> None:
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write {path}")
