"""Byte-level building blocks shared by every codec: varints, bounded readers, stream framing.

Every read is bounded: a length, count or number larger than the caller's limit, a truncated
field, or bytes left over raise ``RemoteProtocolError`` and nothing else, whatever the input.
This module must never allocate more than the bytes it was given plus the caller's limits.
"""

from __future__ import annotations

from ..errors import LocalProtocolError, RemoteProtocolError

#: Unsigned varints longer than this many bytes are refused (10 bytes hold 64 bits).
MAX_VARINT_BYTES = 10


_SMALL = [bytes((i,)) for i in range(128)]


def encode_varint(value: int) -> bytes:
    """Encode a non-negative integer as an unsigned LEB128 varint (protobuf's encoding)."""
    if 0 <= value < 128:
        return _SMALL[value]  # the common case, without building anything
    if value < 0:
        raise LocalProtocolError(f"varint cannot encode a negative number ({value})")
    if value >= 1 << 64:
        raise LocalProtocolError("varint cannot encode a number of more than 64 bits")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes | bytearray | memoryview, pos: int = 0) -> tuple[int, int]:
    """Decode one varint at ``pos``; return ``(value, position after it)``.

    Raises ``RemoteProtocolError`` on truncation or on a varint of more than 64 bits.
    """
    end = len(data)
    if pos < end and data[pos] < 0x80:
        return data[pos], pos + 1  # one-byte varints are by far the most common
    result = 0
    shift = 0
    for i in range(MAX_VARINT_BYTES):
        if pos + i >= end:
            raise RemoteProtocolError("truncated varint")
        byte = data[pos + i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if result >= 1 << 64:
                raise RemoteProtocolError("varint larger than 64 bits")
            return result, pos + i + 1
        shift += 7
    raise RemoteProtocolError("varint longer than 10 bytes")


def zigzag_encode(value: int) -> int:
    """Map a signed 32-bit integer to an unsigned one (protobuf sint32)."""
    return (value << 1) ^ (value >> 31)


def zigzag_decode(value: int) -> int:
    """Inverse of :func:`zigzag_encode`."""
    return (value >> 1) ^ -(value & 1)


class Writer:
    """Append-only byte builder for encoders."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def varint(self, value: int) -> Writer:
        self._buf += encode_varint(value)
        return self

    def byte(self, value: int) -> Writer:
        self._buf.append(value)
        return self

    def raw(self, data: bytes) -> Writer:
        self._buf += data
        return self

    def blob(self, data: bytes) -> Writer:
        """A length-prefixed byte string."""
        self._buf += encode_varint(len(data))
        self._buf += data
        return self

    def getvalue(self) -> bytes:
        return bytes(self._buf)


class Reader:
    """Bounded cursor over one message; every method raises ``RemoteProtocolError`` on bad input."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes | memoryview) -> None:
        # A memoryview is read without copying; only the fields taken out of it are copied.
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def varint(self, maximum: int = (1 << 64) - 1, what: str = "number") -> int:
        value, self._pos = decode_varint(self._data, self._pos)
        if value > maximum:
            raise RemoteProtocolError(f"{what} {value} exceeds the limit of {maximum}")
        return value

    def byte(self, what: str = "byte") -> int:
        if self._pos >= len(self._data):
            raise RemoteProtocolError(f"truncated message: {what} missing")
        value = self._data[self._pos]
        self._pos += 1
        return value

    def fixed(self, size: int, what: str = "field") -> bytes:
        if self.remaining < size:
            raise RemoteProtocolError(f"truncated message: {what} needs {size} bytes")
        value = bytes(self._data[self._pos : self._pos + size])
        self._pos += size
        return value

    def blob(self, maximum: int, what: str = "field") -> bytes:
        length = self.varint(maximum, f"length of {what}")
        return self.fixed(length, what)

    def count(self, maximum: int, what: str = "items") -> int:
        """A repetition count, refused above ``maximum`` before anything is allocated."""
        return self.varint(maximum, f"number of {what}")

    def done(self) -> None:
        if self._pos != len(self._data):
            raise RemoteProtocolError(f"{self.remaining} unexpected bytes after the message")


class VarintFramer:
    """Split a byte stream into varint-length-prefixed frames, refusing oversized ones early.

    ``feed`` returns the complete frames found so far; a partial frame waits for more bytes.
    A length over ``max_frame`` raises ``RemoteProtocolError`` as soon as the prefix is read,
    before any of the frame is buffered.
    """

    def __init__(self, max_frame: int, *, skip_empty: bool = False) -> None:
        self._max = max_frame
        self._skip_empty = skip_empty
        self._buf = bytearray()
        self._need: int | None = None  # body length of the frame being read, once known

    @property
    def buffered(self) -> int:
        """Bytes held for an incomplete frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        frames: list[bytes] = []
        while True:
            if self._need is None:
                try:
                    length, start = decode_varint(self._buf, 0)
                except RemoteProtocolError:
                    # An unfinished prefix waits for more bytes; an over-long one is refused.
                    if len(self._buf) < MAX_VARINT_BYTES and all(b & 0x80 for b in self._buf):
                        return frames
                    raise
                if length > self._max:
                    raise RemoteProtocolError(
                        f"frame of {length} bytes exceeds the limit of {self._max}"
                    )
                del self._buf[:start]
                self._need = length
            if len(self._buf) < self._need:
                return frames
            frame = bytes(self._buf[: self._need])
            del self._buf[: self._need]
            self._need = None
            if frame or not self._skip_empty:
                frames.append(frame)

    @staticmethod
    def frame(body: bytes) -> bytes:
        """Prefix ``body`` with its varint length."""
        return encode_varint(len(body)) + body
