"""The window's dialogs: invite (text and QR code), join, settings, keeping everything.

Each dialog checks what a person typed and says in one sentence what to change, before
anything reaches the node; it returns plain values and never calls the node itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..app.settings import Settings


class QrCode(QWidget):
    """A QR code drawn by the window itself: dark modules on white, with a quiet zone."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import segno

        self._matrix = [list(row) for row in segno.make(text, error="l", boost_error=False).matrix]
        self.setMinimumSize(QSize(220, 220))
        self.setAccessibleName(self.tr("QR code of the invitation"))

    def modules(self) -> list[list[int]]:
        return self._matrix

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        count = len(self._matrix) + 8  # 4 modules of quiet zone on each side
        side = min(self.width(), self.height())
        unit = max(side // count, 1)
        left = (self.width() - unit * count) // 2
        top = (self.height() - unit * count) // 2
        painter.fillRect(left, top, unit * count, unit * count, QColor("white"))
        for y, row in enumerate(self._matrix):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(
                        left + (x + 4) * unit, top + (y + 4) * unit, unit, unit, QColor("black")
                    )
        painter.end()


class InviteDialog(QDialog):
    """Shows an invitation to copy or scan, and offers a short code to read aloud instead."""

    def __init__(self, circle: str, invitation: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Invite someone to %1").replace("%1", circle))
        self.invitation = invitation
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "Send this invitation to the person you invite (by message or on a USB key), "
                "or let them scan the code. Anyone who has it can join, so send it only to them."
            )
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(intro)
        self.qr = QrCode(invitation)
        layout.addWidget(self.qr, 1)
        self.text = QPlainTextEdit(invitation)
        self.text.setReadOnly(True)
        self.text.setMaximumHeight(90)
        self.text.setAccessibleName(self.tr("Invitation text"))
        layout.addWidget(self.text)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton(self.tr("&Copy the invitation"))
        self.copy_button.clicked.connect(self.copy)
        self.code_button = QPushButton(self.tr("Get a short &code instead"))
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.code_button)
        layout.addLayout(buttons)
        self.code_label = QLabel()
        self.code_label.setTextFormat(Qt.TextFormat.PlainText)
        self.code_label.setWordWrap(True)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.code_label)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.resize(460, 620)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.invitation)
        self.copy_button.setText(self.tr("Copied"))

    def show_code(self, code: str, minutes: int) -> None:
        self.code_label.setText(
            self.tr(
                "Read this code to one person near you, on the same Wi-Fi: %1\n"
                "It works once, for %2 minutes."
            )
            .replace("%1", code)
            .replace("%2", str(minutes))
        )


class JoinDialog(QDialog):
    """Join a circle: paste an invitation, or type the short code a member reads out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Join a circle"))
        layout = QVBoxLayout(self)
        self.tabs = QTabWidget()
        pasted = QWidget()
        pasted_layout = QVBoxLayout(pasted)
        pasted_layout.addWidget(QLabel(self.tr("Paste the invitation you were sent:")))
        self.invitation = QPlainTextEdit()
        self.invitation.setAccessibleName(self.tr("Invitation"))
        self.invitation.setPlaceholderText("NATAKANU1…")
        pasted_layout.addWidget(self.invitation)
        self.tabs.addTab(pasted, self.tr("&Invitation"))
        typed = QWidget()
        typed_layout = QFormLayout(typed)
        self.code = QLineEdit()
        self.code.setPlaceholderText("42-river-moose")
        self.code.setAccessibleName(self.tr("Join code"))
        typed_layout.addRow(self.tr("Code:"), self.code)
        self.address = QLineEdit()
        self.address.setPlaceholderText(self.tr("only if it is not found by itself"))
        self.address.setAccessibleName(self.tr("Member's address"))
        typed_layout.addRow(self.tr("Member's address:"), self.address)
        self.tabs.addTab(typed, self.tr("Short &code"))
        layout.addWidget(self.tabs)
        self.error = QLabel()
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("&Join"))
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(480, 300)

    def choice(self) -> tuple[str, str, str]:
        """("invitation", text, "") or ("code", code, address)."""
        if self.tabs.currentIndex() == 0:
            return "invitation", "".join(self.invitation.toPlainText().split()), ""
        return "code", self.code.text().strip().lower(), self.address.text().strip()

    def _check(self) -> None:
        from ..errors import UsageError
        from ..protocol.circle import decode_invitation
        from ..protocol.join_code import parse_code

        kind, text, address = self.choice()
        try:
            if kind == "invitation":
                if not text:
                    raise UsageError("")
                decode_invitation(text)
            else:
                parse_code(text)
        except (UsageError, ValueError):
            self.error.setText(
                self.tr(
                    "This invitation is not complete or was changed: copy all of it again, "
                    "from NATAKANU1 to the end."
                )
                if kind == "invitation"
                else self.tr(
                    "A code is a number and two words, like 42-river-moose: check it and "
                    "type it again."
                )
            )
            return
        if address and not _is_address(address):
            self.error.setText(
                self.tr("Write the address as numbers, a colon and a port: 192.168.1.20:4700.")
            )
            return
        self.accept()


def _error_line_and_buttons(
    dialog: QDialog, layout: QVBoxLayout, check: Callable[[], None]
) -> QLabel:
    """A line for what to change, then OK and Cancel (OK checks before accepting)."""
    error = QLabel()
    error.setTextFormat(Qt.TextFormat.PlainText)
    error.setWordWrap(True)
    error.setStyleSheet("color: #b3261e")
    layout.addWidget(error)
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
    )
    buttons.accepted.connect(check)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    return error


def _is_address(text: str) -> bool:
    host, _, port = text.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


class AddressDialog(QDialog):
    """Add a peer by hand, by its address."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add a peer by its address"))
        layout = QVBoxLayout(self)
        hint = QLabel(
            self.tr(
                "When a computer of your circle is not found by itself, type its address here. "
                "The other person finds it in their window, under Settings."
            )
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.address = QLineEdit()
        self.address.setPlaceholderText("192.168.1.20:4700")
        self.address.setAccessibleName(self.tr("Address"))
        layout.addWidget(self.address)
        self.error = _error_line_and_buttons(self, layout, self._check)

    def _check(self) -> None:
        if not _is_address(self.address.text().strip()):
            self.error.setText(
                self.tr("Write the address as numbers, a colon and a port: 192.168.1.20:4700.")
            )
            return
        self.accept()


class AddKeyDialog(QDialog):
    """Add an archive key by pasting it: hexadecimal, or any text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add a key"))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Paste the key (hexadecimal digits, or text):")))
        self.key = QLineEdit()
        self.key.setAccessibleName(self.tr("Key"))
        layout.addWidget(self.key)
        self.as_text = QCheckBox(self.tr("Share it as text, exactly as written"))
        layout.addWidget(self.as_text)
        self.error = _error_line_and_buttons(self, layout, self._check)

    def value(self) -> bytes:
        text = self.key.text().strip()
        if not self.as_text.isChecked():
            try:
                return bytes.fromhex(text)
            except ValueError:
                pass
        return text.encode("utf-8")

    def _check(self) -> None:
        value = self.value()
        if not value:
            self.error.setText(self.tr("The key is empty: paste it first."))
            return
        if len(value) > 1024:
            self.error.setText(self.tr("This key is too long: keys are at most 1024 bytes."))
            return
        self.accept()


class SettingsDialog(QDialog):
    """Name, downloads folder, language, tray, port, discovery, keeping everything."""

    def __init__(
        self,
        settings: Settings,
        default_downloads: Path,
        address_line: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self._settings = settings
        self._default_downloads = default_downloads
        form = QFormLayout()
        self.name = QLineEdit(settings.display_name)
        self.name.setMaxLength(64)
        self.name.setAccessibleName(self.tr("Your name"))
        form.addRow(self.tr("Your &name, as others see it:"), self.name)
        folder_row = QHBoxLayout()
        self.downloads = QLineEdit(settings.downloads_dir or str(default_downloads))
        self.downloads.setAccessibleName(self.tr("Downloads folder"))
        browse = QPushButton(self.tr("&Choose…"))
        browse.clicked.connect(self._browse)
        folder_row.addWidget(self.downloads, 1)
        folder_row.addWidget(browse)
        folder_label = QLabel(self.tr("&Downloads folder:"))
        folder_label.setBuddy(self.downloads)
        form.addRow(folder_label, folder_row)
        self.language = QComboBox()
        self.language.setAccessibleName(self.tr("Language"))
        for code, label in (
            ("", self.tr("Same as the system")),
            ("en", "English"),
            ("fr", "Français"),
        ):
            self.language.addItem(label, code)
        self.language.setCurrentIndex(max(self.language.findData(settings.language), 0))
        form.addRow(self.tr("&Language:"), self.language)
        self.start_hidden = QCheckBox(self.tr("Start hidden in the tray"))
        self.start_hidden.setChecked(settings.start_hidden)
        form.addRow("", self.start_hidden)
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setValue(settings.listen_port)
        self.port.setAccessibleName(self.tr("Listening port"))
        form.addRow(self.tr("Listening &port:"), self.port)
        self.discovery = QCheckBox(self.tr("Find the circle's computers on this network by itself"))
        self.discovery.setChecked(settings.discovery)
        form.addRow("", self.discovery)
        self.keep = QCheckBox(self.tr("Keep a copy of everything the circle shares"))
        self.keep.setChecked(settings.keep_everything)
        form.addRow("", self.keep)
        address = QLabel(address_line)
        address.setTextFormat(Qt.TextFormat.PlainText)
        address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        address.setWordWrap(True)
        form.addRow(self.tr("This computer's address:"), address)
        note = QLabel(self.tr("The language, port and discovery change at the next start."))
        note.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 380)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, self.tr("Downloads folder"), self.downloads.text()
        )
        if chosen:
            self.downloads.setText(chosen)

    def value(self) -> Settings:
        folder = self.downloads.text().strip()
        return replace(
            self._settings,
            display_name=self.name.text().strip(),
            downloads_dir="" if folder == str(self._default_downloads) else folder,
            language=str(self.language.currentData()),
            start_hidden=self.start_hidden.isChecked(),
            listen_port=self.port.value(),
            discovery=self.discovery.isChecked(),
            keep_everything=self.keep.isChecked(),
        )

    def _check(self) -> None:
        value = self.value()
        if value.downloads_dir and not Path(value.downloads_dir).is_absolute():
            self.error.setText(self.tr("Choose the downloads folder with the Choose… button."))
            return
        if 0 < value.listen_port < 1024:
            self.error.setText(self.tr("Choose a port from 1024 to 65535, or 0 for any free port."))
            return
        if not value.display_name.isprintable():
            self.error.setText(self.tr("Write your name on one line."))
            return
        self.accept()
