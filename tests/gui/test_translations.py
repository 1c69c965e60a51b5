"""French is complete: every string of the window is translated, the compiled files match
their sources, and a French window shows no English. Names in syllabics display."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtGui import QFont, QIcon, QTextLayout
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QLineEdit,
    QTabWidget,
    QWidget,
)

from natakanu_peer.app.settings import Settings
from natakanu_peer.gui import dialogs
from natakanu_peer.gui.bridge import NodeBridge
from natakanu_peer.gui.launch import I18N, install_translators
from natakanu_peer.gui.window import MainWindow

GUI = I18N.parent


def messages(ts: Path) -> list[ElementTree.Element]:
    return list(ElementTree.parse(ts).getroot().iter("message"))


def tool(name: str) -> str:
    return shutil.which(name) or str(Path(sys.executable).with_name(name))


def test_every_french_message_is_translated():
    found = messages(I18N / "natakanu_fr.ts")
    assert len(found) > 150
    missing = []
    for message in found:
        translation = message.find("translation")
        assert translation is not None
        forms = [f.text for f in translation.findall("numerusform")] or [translation.text]
        if translation.get("type") in ("unfinished", "vanished", "obsolete") or not all(forms):
            missing.append(message.findtext("source"))
    assert missing == []


def test_every_string_of_the_code_is_in_the_translation_sources(tmp_path):
    copy = tmp_path / "natakanu_fr.ts"
    shutil.copy(I18N / "natakanu_fr.ts", copy)
    sources = sorted(str(p) for p in GUI.glob("*.py"))
    done = subprocess.run(
        [tool("pyside6-lupdate"), *sources, "-ts", str(copy), "-no-obsolete"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "(0 new and" in done.stdout, "run tools/update_translations.py and translate"
    before = {m.findtext("source") for m in messages(I18N / "natakanu_fr.ts")}
    after = {m.findtext("source") for m in messages(copy)}
    assert after == before, "strings changed: run tools/update_translations.py"


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_compiled_translations_match_their_sources(tmp_path, language):
    compiled = tmp_path / f"natakanu_{language}.qm"
    subprocess.run(
        [tool("pyside6-lrelease"), str(I18N / f"natakanu_{language}.ts"), "-qm", str(compiled)],
        capture_output=True,
        check=True,
    )
    assert compiled.read_bytes() == (I18N / f"natakanu_{language}.qm").read_bytes()


def visible_texts(widget: QWidget) -> list[str]:
    texts = [widget.windowTitle()] if widget.isWindow() else []
    for child in widget.findChildren(QWidget):
        if isinstance(child, QAbstractButton | QLabel):
            texts.append(child.text())
        elif isinstance(child, QLineEdit):
            texts.append(child.placeholderText())
        elif isinstance(child, QTabWidget):
            texts += [child.tabText(i) for i in range(child.count())]
        if child.accessibleName():
            texts.append(child.accessibleName())
    return [t for t in texts if t.strip()]


#: Shown as they are in every language: names, examples of what to type, the key format.
SAME_IN_EVERY_LANGUAGE = {
    "Natakanu Peer",
    "English",
    "Français",
    "NATAKANU1…",
    "42-river-moose",
    "192.168.1.20:4700",
    "Invitation",
    "&Invitation",
    "Transferts",
}


def test_a_french_window_shows_no_english(tmp_path, qtbot):
    app = QApplication.instance()
    previous = QLocale()
    assert install_translators(app, "fr") == "fr"
    try:
        french = set()
        for m in messages(I18N / "natakanu_fr.ts"):
            translation = m.find("translation")
            french |= {f.text for f in translation.findall("numerusform")} or {translation.text}
        qt_buttons = {
            QCoreApplication.translate("QPlatformTheme", text)
            for text in ("OK", "&OK", "Save", "&Save", "Cancel", "&Cancel", "Close", "&Close")
        } | {QCoreApplication.translate("QTabBar", t) for t in ("Scroll Left", "Scroll Right")}
        assert "Annuler" in qt_buttons or "&Annuler" in qt_buttons
        window = MainWindow(NodeBridge(tmp_path / "me"), QIcon())
        qtbot.addWidget(window)
        shown = visible_texts(window)
        shown += [a.text() for a in window.actions()]
        horizontal = Qt.Orientation.Horizontal
        for model in (window.keys, window.peers, window.transfers):
            shown += [model.headerData(c, horizontal) for c in range(model.columnCount())]
        for dialog in (
            dialogs.InviteDialog("X", "NATAKANU1ABC", window),
            dialogs.JoinDialog(window),
            dialogs.AddKeyDialog(window),
            dialogs.AddressDialog(window),
            dialogs.SettingsDialog(Settings(), tmp_path, "", window),
        ):
            shown += visible_texts(dialog)

        def plain(text: str) -> str:  # without accelerators and the closing colon
            return text.replace("&", "").replace("…", "").strip().rstrip(":").strip()

        known = {plain(t) for t in french}

        def explained(text: str) -> bool:
            bare = text.strip()
            return (
                plain(bare) in known
                or bare in qt_buttons
                or bare in SAME_IN_EVERY_LANGUAGE
                or bare.endswith(" X")  # a title naming the circle
                or bare == str(tmp_path)
            )

        # Whatever is neither a translation nor a name came from code that skipped tr().
        unexplained = [text for text in shown if not explained(text)]
        assert unexplained == []
        sentence = window.status_sentence({"peers_online": 2, "circle": {"name": "X"}})
        assert sentence.startswith("2 ordinateurs")
    finally:
        for translator in app.property("natakanu_translators") or []:
            app.removeTranslator(translator)
        QLocale.setDefault(previous)


def test_names_in_syllabics_are_drawn_with_real_glyphs(qtbot):
    name = "ᑲᑿ ᐊᓂᔅ ᐃᓄᒃᑎᑐᑦ"
    layout = QTextLayout(name, QFont())
    layout.beginLayout()
    layout.createLine()
    layout.endLayout()
    glyphs = [index for run in layout.glyphRuns() for index in run.glyphIndexes()]
    assert len(glyphs) >= len(name.replace(" ", ""))
    assert 0 not in glyphs, "a syllabic would show as an empty box"
