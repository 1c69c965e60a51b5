"""How numbers, times and keys are written for people, in the window's language.

Sizes use decimal units (a 4.7 GB film is what the disk's box says), with the French
abbreviations in French (Mo, Go). Every word goes through Qt's translation system under the
"Text" context. This module must never hold state or touch the node.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QDateTime, QLocale, QObject


class Text(QObject):
    """The words of this module, in one translation context ("Text")."""

    def units(self) -> list[str]:
        return [self.tr("B"), self.tr("kB"), self.tr("MB"), self.tr("GB"), self.tr("TB")]

    def per_second(self, size: str) -> str:
        return self.tr("%1/s").replace("%1", size)

    def seconds(self, n: int) -> str:
        return self.tr("%n second(s)", "", n)

    def minutes(self, n: int) -> str:
        return self.tr("%n minute(s)", "", n)

    def hours(self, n: int) -> str:
        return self.tr("%n hour(s)", "", n)

    def just_now(self) -> str:
        return self.tr("just now")

    def minutes_ago(self, n: int) -> str:
        return self.tr("%n minute(s) ago", "", n)

    def hours_ago(self, n: int) -> str:
        return self.tr("%n hour(s) ago", "", n)

    def yesterday(self) -> str:
        return self.tr("yesterday")

    def left(self, duration: str) -> str:
        return self.tr("%1 left").replace("%1", duration)

    def starting(self) -> str:
        return self.tr("Starting…")


_words: Text | None = None


def words() -> Text:
    global _words
    if _words is None:
        _words = Text()
    return _words


def size_text(count: int | None) -> str:
    if count is None:
        return ""
    units = words().units()
    value = float(count)
    for unit in units:
        if value < 1000 or unit == units[-1]:
            digits = 0 if unit == units[0] or value >= 100 else 1
            return f"{QLocale().toString(value, 'f', digits)} {unit}"
        value /= 1000
    raise AssertionError


def rate_text(per_second: float) -> str:
    return words().per_second(size_text(int(per_second)))


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return words().seconds(max(int(seconds), 1))
    if seconds < 3600:
        return words().minutes(round(seconds / 60))
    return words().hours(round(seconds / 3600))


def when_text(moment: float | None, now: float | None = None) -> str:
    """ "3 minutes ago", "yesterday", or a date."""
    if moment is None:
        return ""
    now = time.time() if now is None else now
    elapsed = now - moment
    if elapsed < 60:
        return words().just_now()
    if elapsed < 3600:
        return words().minutes_ago(int(elapsed // 60))
    if elapsed < 86400:
        return words().hours_ago(int(elapsed // 3600))
    if elapsed < 2 * 86400:
        return words().yesterday()
    stamp = QDateTime.fromSecsSinceEpoch(int(moment))
    return QLocale().toString(stamp, QLocale.FormatType.ShortFormat)


def key_text(key: bytes, text: str | None) -> str:
    """A plain archive key as people see it: its text when it is text, else its hex."""
    return text if text is not None else key.hex()
