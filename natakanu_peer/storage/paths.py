"""Every path the application uses, derived from one data directory.

The data directory is ``--data-dir DIR``, else ``$NATAKANU_DATA_DIR``, else the platform's
user data folder (platformdirs, application name ``natakanu-peer``). Nothing else in the
project builds a path of its own: tests redirect everything by giving a data directory.
This module must never open or write files except creating the folders it names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "natakanu-peer"
ENV_DATA_DIR = "NATAKANU_DATA_DIR"


def resolve_data_dir(cli_value: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """The data directory chosen by the command line, the environment, or the platform."""
    if cli_value:
        return Path(cli_value).expanduser().absolute()
    if environ.get(ENV_DATA_DIR):
        return Path(environ[ENV_DATA_DIR]).expanduser().absolute()
    return platformdirs.user_data_path(APP_NAME)


@dataclass(frozen=True)
class DataPaths:
    """The files and folders of one data directory."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "state.db"

    @property
    def identity_key(self) -> Path:
        """The private Ed25519 seed: readable by the owner only."""
        return self.root / "identity.key"

    @property
    def control(self) -> Path:
        """Address and token of the running node's control API: readable by the owner only."""
        return self.root / "control.json"

    @property
    def lock(self) -> Path:
        """Held by the running node, so two nodes never share one data directory."""
        return self.root / "node.lock"

    @property
    def partial(self) -> Path:
        """Downloads in progress (partial files), on the same disk as the state."""
        return self.root / "partial"

    @property
    def relay(self) -> Path:
        """Content fetched only to pass it on to peers that cannot reach its source."""
        return self.root / "relay"

    @property
    def default_downloads(self) -> Path:
        """Where finished downloads go unless the settings or ``--to`` say otherwise.

        With the platform's data folder: the user's Downloads folder, in "Natakanu Peer".
        With a data directory of one's own (tests, several peers on one machine): inside it.
        """
        if self.root == platformdirs.user_data_path(APP_NAME):
            return platformdirs.user_downloads_path() / "Natakanu Peer"
        return self.root / "downloads"

    def ensure(self) -> None:
        """Create the data directory and its private folders (mode 0700)."""
        for folder in (self.root, self.partial):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
