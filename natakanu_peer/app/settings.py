"""A person's settings: kept in the state file, read at start, changed from the window.

Each setting has a default that suits someone who never opens the settings: their computer's
language, downloads in the usual Downloads folder, discovery on, the usual port. Values read
back are checked, so a hand-edited or damaged row falls back to the default instead of
stopping the application. This module must never import Qt.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..storage import state
from ..storage.database import Database

log = logging.getLogger(__name__)

_ROW = "preferences"
DEFAULT_PORT = 4700
LANGUAGES = ("", "en", "fr")  # "" follows the system


@dataclass(frozen=True)
class Settings:
    display_name: str = ""
    downloads_dir: str = ""  # "" is the platform's Downloads folder (see DataPaths)
    language: str = ""
    start_hidden: bool = False
    listen_port: int = DEFAULT_PORT
    discovery: bool = True
    #: Keep a copy of everything the circle shares (a "super peer" for the others).
    keep_everything: bool = False
    #: The one-time explanation that closing the window keeps sharing was shown.
    tray_explained: bool = False

    def checked(self) -> Settings:
        """The same settings, or a sentence saying what to change."""
        name = self.display_name.strip()
        if len(name) > 64 or not (name.isprintable() or not name):
            raise UsageError("Choose a name of at most 64 letters, on one line.")
        if self.language not in LANGUAGES:
            raise UsageError("Choose English, French, or the system's language.")
        if not 0 <= self.listen_port < 65536:
            raise UsageError("A port is a number from 1024 to 65535 (0: any free port).")
        if 0 < self.listen_port < 1024:
            raise UsageError("Ports below 1024 need an administrator; choose 1024 to 65535.")
        if self.downloads_dir and not Path(self.downloads_dir).is_absolute():
            raise UsageError("Choose the downloads folder with its full path.")
        return replace(self, display_name=name)


def read_settings_file(data_dir: Path) -> Settings:
    """The settings, read straight from the state file before the node opens it (the
    window needs its language and port first); the defaults when there is none yet."""
    from ..storage.paths import DataPaths

    path = DataPaths(data_dir).database
    if not path.exists():
        return Settings()
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            row = conn.execute("SELECT value FROM settings WHERE name = ?", (_ROW,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        log.warning("the settings could not be read (%s); using the defaults", exc)
        return Settings()
    return _parse(None if row is None else str(row[0]))


async def load_settings(db: Database) -> Settings:
    return _parse(await db.call(state.get_setting, _ROW))


def _parse(text: str | None) -> Settings:
    if text is None:
        return Settings()
    try:
        stored = json.loads(text)
        known = {f.name: f.type for f in fields(Settings)}
        values: dict[str, Any] = {
            k: v
            for k, v in stored.items()
            if k in known and isinstance(v, type(getattr(Settings(), k)))
        }
        return Settings(**values).checked()
    except (ValueError, TypeError, AttributeError, UsageError) as exc:
        log.warning("the saved settings could not be read (%s); using the defaults", exc)
        return Settings()


async def save_settings(db: Database, settings: Settings) -> Settings:
    checked = settings.checked()
    await db.call(state.set_setting, _ROW, json.dumps(asdict(checked), ensure_ascii=False))
    return checked
