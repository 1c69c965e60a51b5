"""Refresh the translation sources from the code, then compile them for Qt.

``pyside6-lupdate`` collects every ``tr()`` string of ``natakanu_peer/gui`` into
``natakanu_fr.ts`` (all strings) and ``natakanu_en.ts`` (plural forms only; English is the
source language), keeping existing translations; ``pyside6-lrelease`` compiles them to the
``.qm`` files the application loads. Translate new strings (Qt Linguist, or any editor) and
run this again. Usage: ``python tools/update_translations.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

GUI = Path(__file__).resolve().parent.parent / "natakanu_peer" / "gui"


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).with_name(name))
    return found


def main() -> int:
    sources = sorted(str(p) for p in GUI.glob("*.py"))
    i18n = GUI / "i18n"
    for language, extra in (("fr", []), ("en", ["-pluralonly"])):
        ts = i18n / f"natakanu_{language}.ts"
        subprocess.run(
            [tool("pyside6-lupdate"), *sources, "-ts", str(ts), "-no-obsolete", *extra],
            check=True,
        )
        subprocess.run(
            [tool("pyside6-lrelease"), str(ts), "-qm", str(ts.with_suffix(".qm"))], check=True
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
