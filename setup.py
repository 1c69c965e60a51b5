"""Build step pyproject.toml cannot express: the application icon's one source lives in
``resources/icons/``, outside the package, and wheels must carry it beside the window's code.
Everything else about the package is declared in pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ICON = Path(__file__).parent / "resources" / "icons" / "natakanu-peer.svg"


class BuildWithIcon(build_py):  # type: ignore[misc]
    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads resources/ in place
            target = Path(self.build_lib) / "natakanu_peer" / "gui" / "icons"
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ICON, target / ICON.name)


setup(cmdclass={"build_py": BuildWithIcon})
