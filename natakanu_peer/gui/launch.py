"""Starting the window: Qt application, language, log file, event loop, node, and the end.

The window is shown first and the node started after, so that the first paint waits only
for Qt and the window's own modules (the network and storage modules load while it is on
screen). The node runs on the Qt event loop through qasync; closing the window (or Quit in
the tray) stops the node cleanly before the process ends.

This module must never hold application logic: it wires the parts together.
"""

from __future__ import annotations

import asyncio
import logging
import logging.handlers
import os
import sys
import time
from pathlib import Path
from typing import Any

I18N = Path(__file__).with_name("i18n")
# The icon's one source is ``resources/icons/natakanu-peer.svg``; wheels and bundles carry a
# copy beside this module (see setup.py and the packaging spec), a source checkout has only
# the original.
ICON_PLACES = (
    Path(__file__).with_name("icons") / "natakanu-peer.svg",
    Path(__file__).parents[2] / "resources" / "icons" / "natakanu-peer.svg",
)


def icon_path() -> Path | None:
    return next((place for place in ICON_PLACES if place.is_file()), None)


#: Fonts a bundle carries (the portable archive may land on a system without any).
BUNDLED_FONTS = Path(__file__).with_name("fonts")


def _fonts_for_bare_systems(app: Any) -> None:
    """Without any font on the system Qt draws every letter as an empty box: then use the
    fonts the bundle carries (DejaVu Sans covers Latin, French and Canadian syllabics)."""
    from PySide6.QtGui import QFont, QFontDatabase

    if QFontDatabase.families() or not BUNDLED_FONTS.is_dir():
        return
    families: list[str] = []
    for font in sorted(BUNDLED_FONTS.glob("*.ttf")):
        families += QFontDatabase.applicationFontFamilies(
            QFontDatabase.addApplicationFont(str(font))
        )
    if families:
        log.info("no font on this system; using the bundled %s", families[0])
        app.setFont(QFont(families[0]))


LOG_NAME = "natakanu-peer.log"

log = logging.getLogger(__name__)


def install_translators(app: Any, language: str) -> str:
    """Load the window's translation (and Qt's own, for standard buttons); the language used."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    locale = QLocale(language) if language else QLocale.system()
    chosen = "fr" if locale.language() == QLocale.Language.French else "en"
    QLocale.setDefault(
        QLocale(QLocale.Language.French if chosen == "fr" else QLocale.Language.English)
    )
    ours = QTranslator(app)
    if ours.load(str(I18N / f"natakanu_{chosen}.qm")):
        app.installTranslator(ours)
    qt = QTranslator(app)
    if chosen != "en" and qt.load(
        f"qtbase_{chosen}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    ):
        app.installTranslator(qt)
    app.setProperty("natakanu_translators", [ours, qt])  # kept alive with the application
    return chosen


def _log_to_file(data_dir: Path) -> None:
    """The log goes to a file in the data directory (what a helper asks for after a problem)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        data_dir / LOG_NAME, maxBytes=2_000_000, backupCount=2, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def run_window(
    data_dir: Path,
    *,
    listen: tuple[str, int] | None = None,
    exit_after_paint: bool = False,
    discovery: bool | None = None,
    discovery_interfaces: list[str] | None = None,
    screenshots: Path | None = None,
) -> int:
    """Show the window and run the node until Quit; the process's exit code.

    ``discovery``: None follows the settings; ``discovery_interfaces`` limits it."""
    os.environ.setdefault("QT_API", "pyside6")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from ..app.settings import read_settings_file

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Natakanu Peer")
    app.setOrganizationName("Natakanu")
    app.setDesktopFileName("natakanu-peer")
    app.setQuitOnLastWindowClosed(False)
    _fonts_for_bare_systems(app)
    settings = read_settings_file(data_dir)
    language = install_translators(app, settings.language)
    found = icon_path()
    icon = QIcon(str(found)) if found else QIcon()
    app.setWindowIcon(icon)

    from .bridge import NodeBridge
    from .window import MainWindow

    bridge = NodeBridge(data_dir, discovery=discovery, discovery_interfaces=discovery_interfaces)
    window = MainWindow(bridge, icon)

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                window.removeEventFilter(self)
                print(f"painted {time.monotonic():.6f}", flush=True)
                QTimer.singleShot(0, window.quit)
            return False

    if exit_after_paint:
        painted = FirstPaint(window)
        window.installEventFilter(painted)
    if not (settings.start_hidden and window.tray is not None) or exit_after_paint:
        window.show()

    import qasync

    _log_to_file(data_dir)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    def unexpected(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        log.error("unexpected: %s", context.get("message"), exc_info=context.get("exception"))

    loop.set_exception_handler(unexpected)
    previous_hook = sys.excepthook

    def on_crash(kind: Any, value: Any, trace: Any) -> None:
        log.error("a window callback failed", exc_info=(kind, value, trace))
        window.show_crash(f"{kind.__name__}: {value}")

    sys.excepthook = on_crash
    failure: list[str] = []

    async def main() -> None:
        from ..errors import UsageError

        window.quit_requested.connect(bridge.stop)
        if screenshots is not None:
            from .capture import capture

            def failed(task: asyncio.Task[None]) -> None:
                if task.exception() is not None:
                    log.error("the screenshots failed", exc_info=task.exception())
                    window.quit()

            shooting = asyncio.ensure_future(capture(window, screenshots, language))
            shooting.add_done_callback(failed)
        try:
            await bridge.run(listen)
        except UsageError as exc:
            failure.append(str(exc))

    try:
        loop.run_until_complete(main())
    finally:
        sys.excepthook = previous_hook
        loop.close()
    if failure:
        if not exit_after_paint:
            QMessageBox.critical(None, "Natakanu Peer", failure[0])
        print(f"natakanu-peer: {failure[0]}", file=sys.stderr)
        return 1
    return 0
