"""Item models of the window: keys, peers and transfers, each fed snapshots by the bridge.

A model holds rows (plain dicts from the node) and applies what changed: rows added or
replaced by their id, rows removed, progress merged in. It does no I/O and knows nothing of
the node; every text it shows from peers is shown as plain text (``Qt.DisplayRole`` strings,
never rich text).

The keys model sorts and filters itself, for 100,000 rows (see ``KeysModel``); the peers
and transfers, a few rows each, are sorted by the view.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from ..protocol.keyset import key_as_text
from ..protocol.manifest import manifest_digest_of_key, manifest_key
from .text import duration_text, key_text, rate_text, size_text, when_text, words

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's dict
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 4  # 0-100, or None

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


class KeyRow:
    """One key as the list holds it, read like the node's row (``row["name"]``, ``row.get``).

    The list may hold 100,000 of them, so a row is small: slots instead of a dict, the same
    tuple of sharer names for every row they share, and what can be derived from the key
    (its hash, its text) derived when asked instead of stored.
    """

    __slots__ = (
        "first_seen",
        "hidden",
        "key",
        "mine",
        "more",
        "name",
        "order",
        "sharers",
        "size",
        "state",
    )
    _STORED = ("key", "mine", "sharers", "first_seen", "hidden", "state", "name", "size")
    _DERIVED = ("hash", "text")

    def __init__(self, row: Mapping[str, Any], sharers: tuple[str, ...]) -> None:
        self.key: bytes = row["key"]
        self.mine: bool = bool(row.get("mine"))
        self.sharers = sharers
        self.first_seen: float | None = row.get("first_seen")
        self.hidden: bool = bool(row.get("hidden"))
        self.state: str | None = row.get("state")
        self.name: str | None = row.get("name")
        self.size: int | None = row.get("size")
        # The few fields only some rows have (path, folder, received_at...).
        more = {
            k: v
            for k, v in row.items()
            if k not in self._STORED and k not in self._DERIVED and v is not None
        }
        self.more: dict[str, Any] | None = more or None
        self.order: tuple[Any, bytes] = ((), self.key)  # its sort value, set by the model

    def get(self, field: str, default: Any = None) -> Any:
        if field in self._STORED:
            value = getattr(self, field)
        elif field == "hash":
            digest = manifest_digest_of_key(self.key)
            value = None if digest is None else digest.hex()
        elif field == "text":
            value = None if manifest_digest_of_key(self.key) is not None else key_as_text(self.key)
        else:
            value = self.more.get(field) if self.more else None
        return default if value is None else value

    def __getitem__(self, field: str) -> Any:
        value = self.get(field)
        if value is None and field != "key":
            raise KeyError(field)
        return value

    def __repr__(self) -> str:
        return f"KeyRow({self.key!r}, state={self.state!r}, name={self.name!r})"


class KeysModel(QAbstractTableModel):
    """The circle's keys: shared items with their name, size, sharers and state; plain keys.

    It sorts and filters itself (no proxy model): rows are kept in sorted lists of sort
    values, so that 1,000 new rows among 100,000 are placed with one nearly-sorted sort and
    one layout change, and changed rows cost one ``dataChanged``. A sorting proxy would
    call back into Python for every comparison.
    """

    ID = "key"
    NAME, SIZE, SHARERS, WHEN, STATE = range(5)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[bytes, KeyRow] = {}  # every row, shown or not
        self._sharers: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per set of names
        self._all: list[tuple[Any, bytes]] = []  # every row's sort value, ascending
        self._order: list[tuple[Any, bytes]] = []  # the shown rows' sort values, ascending
        self._shown: list[bytes] = []  # the shown rows, in display order
        self._column = self.WHEN
        self._descending = True
        self._needle = ""
        self._show_hidden = False
        self._progress: dict[str, dict[str, Any]] = {}  # hash -> transfer row
        self._headers = [
            self.tr("Name"),
            self.tr("Size"),
            self.tr("Shared by"),
            self.tr("Added"),
            self.tr("State"),
        ]

    # -------------------------------------------------------------- Qt's interface

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 5

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < 5:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._shown):
            return None
        row = self._rows[self._shown[index.row()]]
        if role == ROW_ROLE:
            return row
        return self.cell(row, index.column(), role)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < 5:
            return
        self.layoutAboutToBeChanged.emit()
        before = self._persistent_keys()
        self._column = column
        self._descending = order == Qt.SortOrder.DescendingOrder
        for key, row in self._rows.items():
            row.order = (self._sort_value(row), key)
        self._all = sorted(row.order for row in self._rows.values())
        self._order = [v for v in self._all if self._visible(self._rows[v[1]])]
        self._display()
        self._restore_persistent(before)
        self.layoutChanged.emit()

    # -------------------------------------------------------------- what is shown

    def label(self, row: KeyRow) -> str:
        if row.get("hash") is None:
            return key_text(row.key, row.get("text"))
        return str(row.get("name") or self.tr("(name not known yet)"))

    def state_text(self, row: KeyRow) -> str:
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

    def sharers_text(self, row: KeyRow) -> str:
        names = [n if n else self.tr("me") for n in row.sharers]
        return ", ".join(names)

    def cell(self, row: KeyRow, column: int, role: int) -> Any:
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
        elif role == PROGRESS_ROLE and column == self.STATE:
            transfer = self._progress.get(row.get("hash") or "")
            if transfer is not None and transfer.get("size"):
                return int(100 * transfer["done"] / transfer["size"])
        elif role == Qt.ItemDataRole.ToolTipRole and column == self.NAME:
            return row.key.hex()
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == self.SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _sort_value(self, row: KeyRow) -> Any:
        column = self._column
        if column == self.NAME:
            return self.label(row).casefold()
        if column == self.SIZE:
            return row.get("size") or -1
        if column == self.SHARERS:
            return self.sharers_text(row).casefold()
        if column == self.WHEN:
            return row.get("first_seen") or 0.0
        return str(row.get("state"))

    def _visible(self, row: KeyRow) -> bool:
        if row.hidden and not self._show_hidden:
            return False
        if not self._needle:
            return True
        words = f"{self.label(row)} {self.sharers_text(row)} {row.key.hex()}"
        return self._needle in words.casefold()

    def _display(self) -> None:
        shown = [key for _, key in self._order]
        if self._descending:
            shown.reverse()
        self._shown = shown

    def _position(self, key: bytes) -> int:
        place = bisect.bisect_left(self._order, self._rows[key].order)
        return len(self._order) - 1 - place if self._descending else place

    def _persistent_keys(self) -> list[tuple[QModelIndex, bytes]]:
        return [
            (index, self._shown[index.row()])
            for index in self.persistentIndexList()
            if 0 <= index.row() < len(self._shown)
        ]

    def _restore_persistent(self, before: list[tuple[QModelIndex, bytes]]) -> None:
        old, new = [], []
        for index, key in before:
            old.append(index)
            if key in self._rows and self._visible(self._rows[key]):
                new.append(self.index(self._position(key), index.column()))
            else:
                new.append(QModelIndex())
        if old:
            self.changePersistentIndexList(old, new)

    # -------------------------------------------------------------- snapshots

    def row(self, ident: Any) -> KeyRow | None:
        return self._rows.get(ident)

    def rows(self) -> list[KeyRow]:
        """Every row known, shown or filtered out."""
        return list(self._rows.values())

    def shown_rows(self) -> list[KeyRow]:
        return [self._rows[key] for key in self._shown]

    def _compact(self, row: Mapping[str, Any]) -> KeyRow:
        names = tuple(row.get("sharers") or ())
        sharers = self._sharers.setdefault(names, names)
        return KeyRow(row, sharers)

    def upsert(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Add or replace rows (the node's dicts) by key: one insertion and one layout change
        at most."""
        updates = []
        for given in rows:
            row = self._compact(given)
            key = row.key
            old_row = self._rows.get(key)
            was_shown = old_row is not None and self._visible(old_row)
            row.order = value = (self._sort_value(row), key)
            old_value = None if old_row is None else old_row.order
            updates.append((key, row, old_value, value, was_shown, self._visible(row)))
        # Rows leaving the list go first, found by the sort values they have now.
        leaving = [u[0] for u in updates if u[4] and not u[5]]
        if leaving:
            self._hide(leaving)
        stale_all: set[tuple[Any, bytes]] = set()
        fresh_all: list[tuple[Any, bytes]] = []
        stale_shown: set[tuple[Any, bytes]] = set()
        entering: list[tuple[Any, bytes]] = []
        appended: list[bytes] = []
        changed: list[bytes] = []
        for key, row, old_value, value, was_shown, visible in updates:
            self._rows[key] = row
            if old_value != value:
                if old_value is not None:
                    stale_all.add(old_value)
                fresh_all.append(value)
            if visible and not was_shown:
                entering.append(value)
                appended.append(key)
            elif visible and old_value != value:
                assert old_value is not None
                stale_shown.add(old_value)
                entering.append(value)
            elif visible:
                changed.append(key)
        if stale_all:
            self._all = [v for v in self._all if v not in stale_all]
        if fresh_all:
            self._all.extend(fresh_all)
            self._all.sort()  # nearly sorted already: about linear
        if appended:
            start = len(self._shown)
            self.beginInsertRows(QModelIndex(), start, start + len(appended) - 1)
            self._shown.extend(appended)
            self.endInsertRows()
        if entering:
            self.layoutAboutToBeChanged.emit()
            before = self._persistent_keys()
            if stale_shown:
                self._order = [v for v in self._order if v not in stale_shown]
            self._order.extend(entering)
            self._order.sort()
            self._display()
            self._restore_persistent(before)
            self.layoutChanged.emit()
        if changed:
            places = [self._position(key) for key in changed]
            self.dataChanged.emit(self.index(min(places), 0), self.index(max(places), 4))

    def _hide(self, keys: list[bytes]) -> None:
        """Take shown rows out of the list (filtered out now, or removed)."""
        if len(keys) > 64:
            gone = {self._rows[key].order for key in keys}
            self.beginResetModel()
            self._order = [v for v in self._order if v not in gone]
            self._display()
            self.endResetModel()
            return
        for key in sorted(keys, key=self._position, reverse=True):
            place = self._position(key)
            self.beginRemoveRows(QModelIndex(), place, place)
            del self._shown[place]
            del self._order[bisect.bisect_left(self._order, self._rows[key].order)]
            self.endRemoveRows()

    def remove(self, keys: Iterable[bytes]) -> None:
        known = [key for key in keys if key in self._rows]
        shown = [key for key in known if self._visible(self._rows[key])]
        if shown:
            self._hide(shown)
        gone = {self._rows[key].order for key in known}
        if gone:
            self._all = [v for v in self._all if v not in gone]
        for key in known:
            del self._rows[key]

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._all, self._order, self._shown = {}, [], [], []
        self._sharers = {}
        self.endResetModel()

    def set_text(self, text: str) -> None:
        """Show only the rows whose name, sharers or key contain ``text`` (any case)."""
        self._needle = text.strip().casefold()
        self._refilter()

    def set_show_hidden(self, show: bool) -> None:
        self._show_hidden = show
        self._refilter()

    def _refilter(self) -> None:
        self.beginResetModel()
        self._order = [v for v in self._all if self._visible(self._rows[v[1]])]
        self._display()
        self.endResetModel()

    def set_transfers(self, transfers: list[dict[str, Any]]) -> None:
        """Merge download progress into the State column of the items concerned."""
        progress = {t["hash"]: t for t in transfers if t.get("kind") == "download"}
        touched = set(progress) | set(self._progress)
        self._progress = progress
        for hash_ in touched:
            key = manifest_key(bytes.fromhex(hash_))
            if key in self._rows and self._visible(self._rows[key]):
                index = self.index(self._position(key), self.STATE)
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
