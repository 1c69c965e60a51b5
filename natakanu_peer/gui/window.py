"""The main window: the circle's items, its people and the transfers, at a glance.

Everything a person does here goes to the bridge as a job; what the node reports comes
back as snapshots into the models. The window shows expected failures as a sentence and
bugs in a dialog. Files and folders dropped anywhere on it are shared.

This module must never touch the node, the disk or the network itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QIcon,
    QKeySequence,
    QPainter,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QSystemTrayIcon,
    QTableView,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from .models import (
    PROGRESS_ROLE,
    ROW_ROLE,
    KeysModel,
    PeersModel,
    TransfersModel,
)
from .text import size_text

if TYPE_CHECKING:
    from ..app.settings import Settings
    from .bridge import NodeBridge

log = logging.getLogger(__name__)

#: After this long with no peer found, the status line says what to try.
LONELY_SECONDS = 60.0


class ProgressDelegate(QStyledItemDelegate):
    """Draws a progress bar behind a cell's text when the model gives a progress."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        progress = index.data(PROGRESS_ROLE)
        if progress is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = QRect(option.rect).adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum, bar.progress = 0, 100, int(progress)
        bar.text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        bar.textVisible = True
        bar.palette = option.palette
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


def _table(model: Any, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSortingEnabled(True)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 10)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.setTabKeyNavigation(False)
    return view


class MainWindow(QMainWindow):
    """The application's one window."""

    quit_requested = Signal()

    def __init__(self, bridge: NodeBridge, icon: QIcon) -> None:
        super().__init__()
        self.bridge = bridge
        self.settings: Settings | None = None
        self.status: dict[str, Any] = {}
        self.quitting = False
        self._started_at = time.monotonic()
        self.setWindowTitle("Natakanu Peer")
        self.setWindowIcon(icon)
        self.setAcceptDrops(True)
        self.resize(1000, 640)

        self.keys = KeysModel(self)
        self.peers = PeersModel(self)
        self.transfers = TransfersModel(self)
        self._build_actions()
        self._build_toolbar()
        self._build_tabs()
        self._build_status()
        self.tray = self._build_tray(icon)
        self._connect()
        self._update_actions()

    # ------------------------------------------------------------------ building

    def _action(self, text: str, slot: Any, shortcut: Any = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.share_action = self._action(
            self.tr("&Share…"),
            self.choose_and_share,
            QKeySequence.StandardKey.Open,
            self.tr("Share files with your circle (you can also drop them on the window)"),
        )
        self.share_folder_action = self._action(
            self.tr("Share a &folder…"), self.choose_folder_and_share, "Ctrl+Shift+O"
        )
        self.download_action = self._action(
            self.tr("&Download"), self.download_selected, "Ctrl+D", self.tr("Save the item here")
        )
        self.open_action = self._action(self.tr("&Open"), self.open_selected, "Return")
        self.reveal_action = self._action(
            self.tr("Show in &folder"), self.reveal_selected, "Ctrl+Shift+R"
        )
        self.pause_action = self._action(self.tr("&Pause"), self.pause_selected, "Ctrl+P")
        self.resume_action = self._action(self.tr("&Resume"), self.resume_selected, "Ctrl+R")
        self.cancel_action = self._action(
            self.tr("&Cancel download"), self.cancel_selected, "Ctrl+Shift+X"
        )
        self.copy_action = self._action(
            self.tr("&Copy key"), self.copy_selected, QKeySequence.StandardKey.Copy
        )
        self.add_key_action = self._action(self.tr("&Add a key…"), self.add_key, "Ctrl+K")
        self.delete_action = self._action(
            self.tr("&Delete"), self.delete_selected, QKeySequence.StandardKey.Delete
        )
        self.hide_action = self._action(self.tr("&Hide here"), self.hide_selected, "Ctrl+H")
        self.invite_action = self._action(self.tr("&Invite…"), self.invite, "Ctrl+I")
        self.join_action = self._action(self.tr("&Join a circle…"), self.join, "Ctrl+J")
        self.new_circle_action = self._action(
            self.tr("&New circle…"), self.new_circle, "Ctrl+Shift+N"
        )
        self.add_peer_action = self._action(
            self.tr("Add a peer by &address…"), self.add_peer, "Ctrl+Shift+A"
        )
        self.settings_action = self._action(
            self.tr("Se&ttings…"), self.open_settings, QKeySequence.StandardKey.Preferences
        )
        self.quit_action = self._action(self.tr("&Quit"), self.quit, QKeySequence.StandardKey.Quit)

    def _build_toolbar(self) -> None:
        bar = QToolBar(self.tr("Actions"))
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(bar)
        for action in (
            self.share_action,
            self.download_action,
            self.open_action,
            self.pause_action,
            self.resume_action,
            self.invite_action,
            self.join_action,
            self.settings_action,
        ):
            bar.addAction(action)
        bar.addSeparator()
        bar.addWidget(QLabel(self.tr("Circle:") + " "))
        self.circle_box = QComboBox()
        self.circle_box.setAccessibleName(self.tr("Circle"))
        self.circle_box.setMinimumWidth(160)
        self.circle_box.activated.connect(self._circle_chosen)
        bar.addWidget(self.circle_box)
        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        for action in (self.share_action, self.share_folder_action, self.add_key_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addAction(self.quit_action)
        item_menu = menu.addMenu(self.tr("&Item"))
        for action in self._item_actions():
            item_menu.addAction(action)
        circle_menu = menu.addMenu(self.tr("&Circle"))
        for action in (
            self.invite_action,
            self.join_action,
            self.new_circle_action,
            self.add_peer_action,
        ):
            circle_menu.addAction(action)

    def _item_actions(self) -> list[QAction]:
        return [
            self.download_action,
            self.open_action,
            self.reveal_action,
            self.pause_action,
            self.resume_action,
            self.cancel_action,
            self.copy_action,
            self.delete_action,
            self.hide_action,
        ]

    def _build_tabs(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(self.tr("Sections"))
        items = QWidget()
        items_layout = QVBoxLayout(items)
        filter_row = QHBoxLayout()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(self.tr("Filter by name, person or key"))
        self.filter_edit.setAccessibleName(self.tr("Filter"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.keys.set_text)
        self.show_hidden = QCheckBox(self.tr("Show hidden"))
        self.show_hidden.toggled.connect(self.keys.set_show_hidden)
        filter_row.addWidget(self.filter_edit, 1)
        filter_row.addWidget(self.show_hidden)
        items_layout.addLayout(filter_row)
        self.keys_view = _table(self.keys, self.tr("Shared items and keys"))
        self.keys_view.setItemDelegateForColumn(KeysModel.STATE, ProgressDelegate(self.keys_view))
        self.keys_view.sortByColumn(KeysModel.WHEN, Qt.SortOrder.DescendingOrder)
        self.keys_view.setColumnWidth(KeysModel.NAME, 320)
        self.keys_view.setColumnWidth(KeysModel.SIZE, 90)
        self.keys_view.setColumnWidth(KeysModel.SHARERS, 150)
        self.keys_view.setColumnWidth(KeysModel.WHEN, 130)
        self.keys_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.keys_view.customContextMenuRequested.connect(self._item_menu)
        self.keys_view.doubleClicked.connect(lambda _: self._activate_selected())
        items_layout.addWidget(self.keys_view)
        self.drop_hint = QLabel(
            self.tr("Drop files or folders here to share them with your circle.")
        )
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        items_layout.addWidget(self.drop_hint)
        self.tabs.addTab(items, self.tr("&Items"))

        people = QWidget()
        people_layout = QVBoxLayout(people)
        self.peers_view = _table(self.peers, self.tr("People of the circle"))
        self.peers_view.setColumnWidth(PeersModel.NAME, 200)
        self.peers_view.setColumnWidth(PeersModel.ADDRESS, 170)
        self.peers_view.setColumnWidth(PeersModel.SEEN, 170)
        people_layout.addWidget(self.peers_view)
        add_row = QHBoxLayout()
        add_button = QPushButton(self.add_peer_action.text())
        add_button.clicked.connect(self.add_peer)
        invite_button = QPushButton(self.invite_action.text())
        invite_button.clicked.connect(self.invite)
        add_row.addWidget(add_button)
        add_row.addWidget(invite_button)
        add_row.addStretch(1)
        people_layout.addLayout(add_row)
        self.tabs.addTab(people, self.tr("&People"))

        transfers = QWidget()
        transfers_layout = QVBoxLayout(transfers)
        self.transfers_view = _table(self.transfers, self.tr("Transfers"))
        self.transfers_view.setSortingEnabled(False)
        self.transfers_view.setItemDelegateForColumn(
            TransfersModel.PROGRESS, ProgressDelegate(self.transfers_view)
        )
        self.transfers_view.setColumnWidth(TransfersModel.NAME, 320)
        self.transfers_view.setColumnWidth(TransfersModel.PROGRESS, 260)
        transfers_layout.addWidget(self.transfers_view)
        row = QHBoxLayout()
        for action in (self.pause_action, self.resume_action, self.cancel_action):
            button = QPushButton(action.text())
            button.clicked.connect(action.trigger)
            row.addWidget(button)
        pause_all = QPushButton(self.tr("Pause &all"))
        pause_all.clicked.connect(self.pause_all)
        row.addWidget(pause_all)
        row.addStretch(1)
        transfers_layout.addLayout(row)
        self.tabs.addTab(transfers, self.tr("&Transfers"))
        self.setCentralWidget(self.tabs)

    def _build_status(self) -> None:
        self.status_label = QLabel(self.tr("Starting…"))
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setWordWrap(True)
        self.statusBar().addWidget(self.status_label, 1)

    def _build_tray(self, icon: QIcon) -> QSystemTrayIcon | None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None
        tray = QSystemTrayIcon(icon, self)
        tray.setToolTip("Natakanu Peer")
        menu = QMenu(self)
        show = menu.addAction(self.tr("Show the window"))
        show.triggered.connect(self.bring_back)
        pause = menu.addAction(self.tr("Pause all downloads"))
        pause.triggered.connect(self.pause_all)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        tray.setContextMenu(menu)
        tray.activated.connect(
            lambda reason: (
                self.bring_back() if reason == QSystemTrayIcon.ActivationReason.Trigger else None
            )
        )
        tray.show()
        return tray

    def _connect(self) -> None:
        bridge = self.bridge
        bridge.keys_updated.connect(self.keys.upsert)
        bridge.keys_removed.connect(self.keys.remove)
        bridge.keys_reset.connect(self.keys.clear)
        bridge.peers_changed.connect(self.peers.replace_all)
        bridge.transfers_changed.connect(self._on_transfers)
        bridge.status_changed.connect(self._on_status)
        bridge.circles_changed.connect(self._on_circles)
        bridge.settings_changed.connect(self._on_settings)
        bridge.failed.connect(self.show_failure)
        bridge.crashed.connect(self.show_crash)
        bridge.download_done.connect(self._on_download_done)
        bridge.new_items.connect(self._on_new_items)
        bridge.job_done.connect(lambda label, result: bridge.refresh())
        self.keys_view.selectionModel().selectionChanged.connect(lambda *_: self._update_actions())
        self.transfers_view.selectionModel().selectionChanged.connect(
            lambda *_: self._update_actions()
        )
        self.tabs.currentChanged.connect(lambda _: self._update_actions())

    # ------------------------------------------------------------------ from the bridge

    def _on_transfers(self, rows: list[dict[str, Any]]) -> None:
        self.transfers.replace_all(rows)
        self.keys.set_transfers(rows)
        self._update_actions()

    def _on_settings(self, settings: Settings) -> None:
        self.settings = settings

    def _on_circles(self, circles: list[dict[str, Any]]) -> None:
        self.circle_box.clear()
        for circle in circles:
            self.circle_box.addItem(str(circle["name"]), circle["id"])
            if circle["active"]:
                self.circle_box.setCurrentIndex(self.circle_box.count() - 1)

    def _on_status(self, status: dict[str, Any]) -> None:
        self.status = status
        self.status_label.setText(self.status_sentence(status))

    def status_sentence(self, status: dict[str, Any]) -> str:
        online = int(status.get("peers_online", 0))
        circle = str(status.get("circle", {}).get("name", ""))
        if online:
            text = self.tr("%n computer(s) of %1 connected.", "", online).replace("%1", circle)
        elif not status.get("discovery", {}).get("on", True):
            text = self.tr(
                "Looking for nobody on the network (discovery is off): add a peer by its "
                "address, or turn discovery on in the settings."
            )
        elif time.monotonic() - self._started_at < LONELY_SECONDS:
            text = self.tr("Looking for the computers of %1 on this network…").replace("%1", circle)
        else:
            text = self.tr(
                "No computer of %1 found yet. Check that you are on the same Wi-Fi, that "
                "a firewall lets Natakanu Peer through, or add a peer by its address."
            ).replace("%1", circle)
        if status.get("listen_note"):
            text += " " + self.tr("The chosen port was taken; another one is used.")
        return text

    def _on_download_done(self, name: str, path: str) -> None:
        self.notify(self.tr("Download complete"), self.tr("%1 is saved.").replace("%1", name))

    def _on_new_items(self, names: list[str]) -> None:
        if len(names) == 1:
            message = self.tr("New in your circle: %1").replace("%1", names[0])
        else:
            message = self.tr("%n new item(s) in your circle.", "", len(names))
        self.notify(self.tr("New in your circle"), message)

    def notify(self, title: str, message: str) -> None:
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Information, 6000)
        else:
            self.statusBar().showMessage(message, 8000)

    def show_failure(self, sentence: str) -> None:
        # Never a blocking dialog here: this may run inside an asyncio task.
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("This did not work"))
        box.setText(sentence)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.failure_box = box
        box.show()

    def show_crash(self, detail: str) -> None:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle(self.tr("Something went wrong"))
        box.setText(
            self.tr(
                "Natakanu Peer met an error it did not expect. Your files and shared items are "
                "safe. If it happens again, send the log file to the people who help you."
            )
        )
        box.setDetailedText(detail)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()

    # ------------------------------------------------------------------ selection

    def selected_rows(self) -> list[Any]:
        """The rows selected in the tab shown: items (``KeyRow``) or transfers (dicts), both
        read with ``row["field"]`` and ``row.get("field")``."""
        view = self.transfers_view if self.tabs.currentIndex() == 2 else self.keys_view
        rows = [index.data(ROW_ROLE) for index in view.selectionModel().selectedRows()]
        return [r for r in rows if r]

    def _selected_hashes(self) -> list[str]:
        return [str(row["hash"]) for row in self.selected_rows() if row.get("hash")]

    def _update_actions(self) -> None:
        rows = self.selected_rows()
        on_items = self.tabs.currentIndex() == 0
        states = {self._state_of(r) for r in rows}
        self.download_action.setEnabled(on_items and bool(states & {"available", "looking"}))
        self.open_action.setEnabled(on_items and bool(states & {"saved", "shared"}))
        self.reveal_action.setEnabled(on_items and bool(states & {"saved", "shared"}))
        self.pause_action.setEnabled("downloading" in states)
        self.resume_action.setEnabled("paused" in states)
        self.cancel_action.setEnabled(bool(states & {"downloading", "paused", "looking-dl"}))
        self.copy_action.setEnabled(on_items and bool(rows))
        self.delete_action.setEnabled(on_items and any(r.get("mine") for r in rows))
        self.hide_action.setEnabled(on_items and any(not r.get("mine") for r in rows))
        any_hidden = any(r.get("hidden") for r in rows)
        self.hide_action.setText(self.tr("S&how again") if any_hidden else self.tr("&Hide here"))

    def _state_of(self, row: dict[str, Any]) -> str:
        if row.get("kind") == "download":
            return "downloading" if row.get("state") != "paused" else "paused"
        if row.get("kind") == "share":
            return "preparing"
        transfer = self.transfers.row(row.get("hash"))
        if transfer is not None:
            return "downloading" if transfer.get("state") != "paused" else "paused"
        return str(row.get("state"))

    def _activate_selected(self) -> None:
        states = {self._state_of(r) for r in self.selected_rows()}
        if states & {"saved", "shared"}:
            self.open_selected()
        elif states & {"available", "looking"}:
            self.download_selected()

    def _item_menu(self, position: Any) -> None:
        menu = QMenu(self)
        for action in self._item_actions():
            if action.isEnabled():
                menu.addAction(action)
        if not menu.isEmpty():
            menu.exec(self.keys_view.viewport().mapToGlobal(position))

    # ------------------------------------------------------------------ actions

    def share_paths(self, paths: list[Path]) -> None:
        missing = [p for p in paths if not p.exists()]
        if missing:
            self.show_failure(
                self.tr("%1 cannot be found; it may have been moved.").replace(
                    "%1", str(missing[0])
                )
            )
            return
        self.bridge.share(paths)
        self.tabs.setCurrentIndex(2 if sum(_size_hint(p) for p in paths) > 200_000_000 else 0)

    def choose_and_share(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Share files"))
        if files:
            self.share_paths([Path(f) for f in files])

    def choose_folder_and_share(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Share a folder"))
        if folder:
            self.share_paths([Path(folder)])

    def download_selected(self) -> None:
        for row in self.selected_rows():
            if row.get("hash") and self._state_of(row) in ("available", "looking"):
                key = row["key"]
                self.bridge.submit("download", on_node("download", key))
        self.bridge.refresh()

    def _paths_selected(self) -> list[Path]:
        return [Path(r["path"]) for r in self.selected_rows() if r.get("path")]

    def open_selected(self) -> None:
        for path in self._paths_selected():
            if not path.exists():
                self.show_failure(
                    self.tr("%1 is no longer there; it was moved or deleted.").replace(
                        "%1", str(path)
                    )
                )
                continue
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def reveal_selected(self) -> None:
        for path in self._paths_selected():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))

    def pause_selected(self) -> None:
        for hash_ in self._selected_hashes():
            self.bridge.submit("pause", on_node("pause_download", hash_))

    def resume_selected(self) -> None:
        for hash_ in self._selected_hashes():
            self.bridge.submit("resume", on_node("resume_download", hash_))

    def cancel_selected(self) -> None:
        hashes = self._selected_hashes()
        if not hashes:
            return
        answer = QMessageBox.question(
            self,
            self.tr("Cancel the download?"),
            self.tr("What was downloaded so far is deleted. Cancel the download?"),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        for hash_ in hashes:
            self.bridge.submit("cancel", on_node("cancel_download", hash_))

    def pause_all(self) -> None:
        for row in self.transfers.rows():
            if row.get("kind") == "download" and row.get("state") == "downloading":
                self.bridge.submit("pause", on_node("pause_download", row["hash"]))

    def copy_selected(self) -> None:
        keys = [r["key"].hex() for r in self.selected_rows() if r.get("key")]
        if keys:
            QGuiApplication.clipboard().setText("\n".join(keys))
            self.statusBar().showMessage(self.tr("Key copied."), 3000)

    def add_key(self) -> None:
        from .dialogs import AddKeyDialog

        dialog = AddKeyDialog(self)
        if dialog.exec():
            key = dialog.value()
            self.bridge.submit("advertise", lambda node: node.advertise(key))

    def delete_selected(self) -> None:
        mine = [r for r in self.selected_rows() if r.get("mine")]
        if not mine:
            return
        names = ", ".join(self.keys.label(r) for r in mine[:3])
        answer = QMessageBox.question(
            self,
            self.tr("Stop sharing?"),
            self.tr(
                "Stop sharing %1 with your circle? Your files stay on this computer; the "
                "others will no longer see it in the list."
            ).replace("%1", names),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        for row in mine:
            self.bridge.submit("delete", on_node("delete", row["key"]))

    def hide_selected(self) -> None:
        rows = [r for r in self.selected_rows() if not r.get("mine")]
        hide = not any(r.get("hidden") for r in rows)
        for row in rows:
            self.bridge.submit("hide", on_node("hide", row["key"], hide))

    def invite(self) -> None:
        from .dialogs import InviteDialog

        def show(made: dict[str, Any]) -> None:
            dialog = InviteDialog(str(made["circle"]), str(made["invitation"]), self)
            dialog.code_button.clicked.connect(
                lambda: self.bridge.submit(
                    "code",
                    lambda node: node.invite(code=True),
                    lambda code: dialog.show_code(str(code["code"]), int(code["minutes"])),
                )
            )
            self.invite_dialog = dialog
            dialog.show()

        self.bridge.submit("invite", lambda node: node.invite(), show)

    def join(self) -> None:
        from .dialogs import JoinDialog

        dialog = JoinDialog(self)
        if not dialog.exec():
            return
        kind, text, address = dialog.choice()
        if kind == "invitation":
            job = self.bridge.submit("join", lambda node: node.join(text), self._joined)
        else:
            self.status_label.setText(self.tr("Looking for the member who gave the code…"))
            job = self.bridge.submit(
                "join", lambda node: node.join_with_code(text, address or None), self._joined
            )
        del job

    def _joined(self, result: dict[str, Any]) -> None:
        self.statusBar().showMessage(
            self.tr("You joined %1.").replace("%1", str(result.get("circle"))), 8000
        )

    def new_circle(self) -> None:
        name, ok = QInputDialog.getText(
            self, self.tr("New circle"), self.tr("Name of the new circle:")
        )
        if ok and name.strip():
            self.bridge.submit("create-circle", lambda node: node.create_circle(name))

    def _circle_chosen(self, index: int) -> None:
        circle_id = self.circle_box.itemData(index)
        if circle_id and circle_id != self.status.get("circle", {}).get("id"):
            self.bridge.submit("switch", lambda node: node.switch_circle(circle_id))

    def add_peer(self) -> None:
        from .dialogs import AddressDialog

        dialog = AddressDialog(self)
        if dialog.exec():
            address = dialog.address.text().strip()
            self.bridge.submit("add-peer", lambda node: node.add_peer(address))

    def open_settings(self) -> None:
        node = self.bridge.node
        if node is None or self.settings is None:
            return
        self.bridge.submit("addresses", lambda node: node.addresses(), self._settings_dialog)

    def _settings_dialog(self, addresses: list[str]) -> None:
        from .dialogs import SettingsDialog

        node = self.bridge.node
        if node is None or self.settings is None:
            return
        shown = ", ".join(addresses) or str(self.status.get("listen") or "")
        dialog = SettingsDialog(self.settings, node.paths.default_downloads, shown, self)
        self.settings_dialog = dialog
        if not dialog.exec():
            return
        chosen = dialog.value()
        if chosen.keep_everything and not self.settings.keep_everything:

            def ask(space: dict[str, int]) -> None:
                answer = QMessageBox.question(
                    self,
                    self.tr("Keep everything?"),
                    self.keep_everything_question(space["bytes"], space["unknown"]),
                )
                from dataclasses import replace

                final = (
                    chosen
                    if answer == QMessageBox.StandardButton.Yes
                    else replace(chosen, keep_everything=False)
                )
                self.apply_settings(final)

            self.bridge.submit("space", lambda node: node.space_to_keep_everything(), ask)
        else:
            self.apply_settings(chosen)

    def keep_everything_question(self, needed: int, unknown: int) -> str:
        """Asks whether to keep a copy of everything, saying the space it takes first."""
        text = self.tr(
            "Keeping a copy of everything the circle shares takes %1 on this computer."
        ).replace("%1", size_text(needed))
        if unknown:
            text += " " + self.tr(
                "%n item(s) are not described yet and will take more.", "", unknown
            )
        return text + " " + self.tr("Keep everything?")

    def apply_settings(self, chosen: Settings) -> None:
        from ..app.settings import save_settings

        async def job(node: Any) -> Settings:
            saved = await save_settings(node.db, chosen)
            node.set_display_name(saved.display_name)
            node.downloads_dir = Path(saved.downloads_dir) if saved.downloads_dir else None
            await node.set_keep_everything(saved.keep_everything)
            return saved

        self.bridge.submit("settings", job, self.bridge.settings_changed.emit)

    # ------------------------------------------------------------------ window life

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.share_paths(paths)

    def bring_back(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    def quit(self) -> None:
        self.quitting = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.quitting or self.tray is None:
            self.quitting = True
            event.accept()
            self.quit_requested.emit()
            return
        # Closing keeps sharing in the tray; say so once.
        event.ignore()
        self.hide()
        if self.settings is not None and not self.settings.tray_explained:
            from dataclasses import replace

            self.notify(
                self.tr("Still sharing"),
                self.tr(
                    "Natakanu Peer keeps sharing with your circle from the tray. To stop it, "
                    "choose Quit in the tray's menu."
                ),
            )
            self.apply_settings(replace(self.settings, tray_explained=True))


def on_node(method: str, *args: Any) -> Callable[[Any], Awaitable[Any]]:
    """A job calling one of the node's commands with ``args`` (bound now, not when run)."""

    def job(node: Any) -> Awaitable[Any]:
        result: Awaitable[Any] = getattr(node, method)(*args)
        return result

    return job


def _size_hint(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except OSError:
        return 0
