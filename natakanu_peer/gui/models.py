"""Item models of the window: keys, peers and transfers, each fed snapshots by the bridge.

A model holds rows (plain dicts from the node) and applies what changed: rows added or
replaced by their id, rows removed, progress merged in. It does no I/O and knows nothing of
the node; every text it shows from peers is shown as plain text (``Qt.DisplayRole`` strings,
never rich text).

Sorting and filtering are done by ``KeysFilter`` (a ``QSortFilterProxyModel``) on a sort
role and a filter role that the models provide ready-made, so that both stay in C++ for
100,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
)

from .text import duration_text, key_text, rate_text, size_text, when_text, words

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
ROW_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's dict
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 4  # 0-100, or None
HIDDEN_MARK = "\x01"  # starts the filter text of rows hidden here

Index = QModelIndex | QPersistentModelIndex


class _RowsModel(QAbstractTableModel):
    """Rows with an id each, in arrival order; subclasses say how columns look."""

    ID = "id"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._where: dict[Any, int] = {}

    def headers(self) -> list[str]:
        raise NotImplementedError

    def cell(self, row: dict[str, Any], column: int, role: int) -> Any:
        raise NotImplementedError

    # -------------------------------------------------------------- Qt's interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers())

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            headers = self.headers()
            if 0 <= section < len(headers):
                return headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == ROW_ROLE:
            return row
        return self.cell(row, index.column(), role)

    # -------------------------------------------------------------- snapshots

    def row(self, ident: Any) -> dict[str, Any] | None:
        place = self._where.get(ident)
        return None if place is None else self._rows[place]

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    def upsert(self, rows: Iterable[dict[str, Any]]) -> None:
        """Add new rows at the end and replace the known ones, in two signals at most."""
        fresh: list[dict[str, Any]] = []
        low, high = len(self._rows), -1
        for row in rows:
            place = self._where.get(row[self.ID])
            if place is None:
                fresh.append(row)
            else:
                self._rows[place] = row
                low, high = min(low, place), max(high, place)
        if high >= 0:
            self.dataChanged.emit(self.index(low, 0), self.index(high, self.columnCount() - 1))
        if fresh:
            start = len(self._rows)
            self.beginInsertRows(QModelIndex(), start, start + len(fresh) - 1)
            for offset, row in enumerate(fresh):
                self._where[row[self.ID]] = start + offset
            self._rows.extend(fresh)
            self.endInsertRows()

    def remove(self, idents: Iterable[Any]) -> None:
        places = sorted((self._where[i] for i in idents if i in self._where), reverse=True)
        if not places:
            return
        if len(places) > 64:  # many scattered rows: one reset is cheaper than many signals
            gone = set(places)
            self.beginResetModel()
            self._rows = [r for n, r in enumerate(self._rows) if n not in gone]
            self._where = {r[self.ID]: n for n, r in enumerate(self._rows)}
            self.endResetModel()
            return
        for place in places:
            self.beginRemoveRows(QModelIndex(), place, place)
            del self._rows[place]
            self.endRemoveRows()
        self._where = {r[self.ID]: n for n, r in enumerate(self._rows)}

    def replace_all(self, rows: list[dict[str, Any]]) -> None:
        """Make the rows exactly ``rows``: new ones added, gone ones removed, others updated."""
        wanted = {r[self.ID] for r in rows}
        self.remove([i for i in self._where if i not in wanted])
        self.upsert(rows)

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._where = [], {}
        self.endResetModel()


class KeysModel(_RowsModel):
    """The circle's keys: shared items with their name, size, sharers and state; plain keys."""

    ID = "key"
    NAME, SIZE, SHARERS, WHEN, STATE = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._progress: dict[str, dict[str, Any]] = {}  # hash -> transfer row

    def headers(self) -> list[str]:
        return [
            self.tr("Name"),
            self.tr("Size"),
            self.tr("Shared by"),
            self.tr("Added"),
            self.tr("State"),
        ]

    def label(self, row: dict[str, Any]) -> str:
        if row.get("hash") is None:
            return key_text(row["key"], row.get("text"))
        return str(row.get("name") or self.tr("(name not known yet)"))

    def state_text(self, row: dict[str, Any]) -> str:
        state = row.get("state")
        transfer = self._progress.get(row.get("hash") or "")
        if transfer is not None and transfer.get("state") == "downloading":
            return transfer_text(transfer)
        return {
            "key": self.tr("Archive key"),
            "looking": self.tr("Looking for it…"),
            "available": self.tr("Available"),
            "downloading": self.tr("Downloading…"),
            "paused": self.tr("Paused"),
            "saved": self.tr("Saved here"),
            "shared": self.tr("Shared by me"),
        }.get(str(state), "")

    def sharers_text(self, row: dict[str, Any]) -> str:
        names = [n if n else self.tr("me") for n in row.get("sharers", [])]
        return ", ".join(names)

    def cell(self, row: dict[str, Any], column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NAME:
                return self.label(row)
            if column == self.SIZE:
                return size_text(row.get("size"))
            if column == self.SHARERS:
                return self.sharers_text(row)
            if column == self.WHEN:
                return when_text(row.get("first_seen"))
            if column == self.STATE:
                return self.state_text(row)
        elif role == SORT_ROLE:
            if column == self.NAME:
                return self.label(row).casefold()
            if column == self.SIZE:
                return row.get("size") or -1
            if column == self.SHARERS:
                return self.sharers_text(row).casefold()
            if column == self.WHEN:
                return row.get("first_seen") or 0.0
            if column == self.STATE:
                return str(row.get("state"))
        elif role == FILTER_ROLE:
            mark = HIDDEN_MARK if row.get("hidden") else ""
            return f"{mark}{self.label(row)} {self.sharers_text(row)} {row['key'].hex()}".casefold()
        elif role == PROGRESS_ROLE and column == self.STATE:
            transfer = self._progress.get(row.get("hash") or "")
            if transfer is not None and transfer.get("size"):
                return int(100 * transfer["done"] / transfer["size"])
        elif role == Qt.ItemDataRole.ToolTipRole and column == self.NAME:
            return row["key"].hex()
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == self.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def set_transfers(self, transfers: list[dict[str, Any]]) -> None:
        """Merge download progress into the State column of the items concerned."""
        progress = {t["hash"]: t for t in transfers if t.get("kind") == "download"}
        touched = set(progress) | set(self._progress)
        self._progress = progress
        from ..protocol.manifest import manifest_key

        for hash_ in touched:
            place = self._where.get(manifest_key(bytes.fromhex(hash_)))
            if place is not None:
                index = self.index(place, self.STATE)
                self.dataChanged.emit(index, index)


def transfer_text(transfer: dict[str, Any]) -> str:
    """ "45 % · 12 MB/s · 2 minutes left", or "Starting…"."""
    size, done, rate = transfer.get("size") or 0, transfer.get("done") or 0, transfer.get("rate")
    parts = []
    if size:
        parts.append(f"{int(100 * done / size)} %")
    if rate:
        parts.append(rate_text(rate))
        if size and rate > 0:
            parts.append(words().left(duration_text((size - done) / rate)))
    return " · ".join(parts) or words().starting()


class KeysFilter(QSortFilterProxyModel):
    """Sorting and text filter of the keys; rows hidden here are left out unless asked."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self._needle = ""
        self._show_hidden = False
        self._apply()

    def set_text(self, text: str) -> None:
        self._needle = text.strip().casefold()
        self._apply()

    def set_show_hidden(self, show: bool) -> None:
        self._show_hidden = show
        self._apply()

    def _apply(self) -> None:
        start = "" if self._show_hidden else f"(?!{HIDDEN_MARK})"
        expression = QRegularExpression(
            f"^{start}.*{QRegularExpression.escape(self._needle)}",
            QRegularExpression.PatternOption.DotMatchesEverythingOption,
        )
        self.setFilterRegularExpression(expression)


class PeersModel(_RowsModel):
    """The members met in this circle: name, id, address, online or last seen, activity."""

    ID = "peer_id"
    NAME, ID_COLUMN, ADDRESS, SEEN, ACTIVITY = range(5)

    def headers(self) -> list[str]:
        return [
            self.tr("Name"),
            self.tr("Id"),
            self.tr("Address"),
            self.tr("Online"),
            self.tr("Exchanging"),
        ]

    def cell(self, row: dict[str, Any], column: int, role: int) -> Any:
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            if column == self.NAME:
                return row.get("name") or self.tr("(no name)")
            if column == self.ID_COLUMN:
                return row["peer_id"][:8]
            if column == self.ADDRESS:
                return row.get("address") or ""
            if column == self.SEEN:
                if role == SORT_ROLE:
                    return float("inf") if row.get("online") else row.get("last_seen") or 0.0
                if row.get("refused"):
                    return self.tr("Refused for a while")
                if row.get("online"):
                    return self.tr("Online now")
                return self.tr("Last seen %1").replace("%1", when_text(row.get("last_seen")))
            if column == self.ACTIVITY:
                return self.activity_text(row)
        elif role == Qt.ItemDataRole.ToolTipRole and column == self.ID_COLUMN:
            return row["peer_id"]
        return None

    def activity_text(self, row: dict[str, Any]) -> str:
        if not row.get("online"):
            return ""
        parts = []
        if row.get("chunks_asked"):
            parts.append(self.tr("receiving"))
        if row.get("received_bytes"):
            parts.append(self.tr("%1 received").replace("%1", size_text(row["received_bytes"])))
        if row.get("sent_bytes"):
            parts.append(self.tr("%1 sent").replace("%1", size_text(row["sent_bytes"])))
        return ", ".join(parts) or self.tr("in touch")


class TransfersModel(_RowsModel):
    """Downloads and shares under way: name, progress, speed and time left, state."""

    NAME, PROGRESS, STATE = range(3)

    def headers(self) -> list[str]:
        return [self.tr("Name"), self.tr("Progress"), self.tr("State")]

    def cell(self, row: dict[str, Any], column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NAME:
                return row.get("name") or self.tr("(name not known yet)")
            if column == self.PROGRESS:
                size = row.get("size")
                if not size:
                    return ""
                return (
                    self.tr("%1 of %2")
                    .replace("%1", size_text(row.get("done")))
                    .replace("%2", size_text(size))
                )
            if column == self.STATE:
                state = row.get("state")
                if state == "preparing":
                    return self.tr("Preparing to share: %1").replace("%1", transfer_text(row))
                if state == "paused":
                    return self.tr("Paused")
                if state == "looking":
                    return self.tr("Looking for someone who has it…")
                return transfer_text(row)
        elif role == PROGRESS_ROLE and column == self.PROGRESS:
            size = row.get("size")
            return int(100 * (row.get("done") or 0) / size) if size else None
        elif role == SORT_ROLE:
            return str(row.get("name"))
        return None
