"""The bulk path of a link: content frames sealed with AES-GCM on a TCP connection of their own.

TLS on the event loop costs the receiving peer about twice what the transfer itself costs
(decryption, buffers and copies in the loop's one thread). Content therefore goes beside the
link: once a link is authenticated, the listener sends a 32-byte token and the port of its
bulk server over the link (``encode_offer``); the dialler connects there and sends the
token's 16-byte tag; from then on each side seals the hash-exchange messages carrying content
with a key of its direction derived from the token, in worker threads that release the
interpreter's lock. A frame is ``length (4 bytes, big-endian) | AES-128-GCM(message)``, the
nonce being the frame's number in its direction, so frames cannot be replayed, reordered,
dropped or forged without the connection failing.

The token travels only inside the link's TLS, so only the two peers of that link know the
keys. A connection that does not present a known tag within ``HELLO_SECONDS`` is closed
having received nothing.

This module must never accept a frame it cannot open, nor a frame longer than
``MAX_FRAME_BYTES``; every such failure ends that bulk connection (the link goes on, and
content goes over the link again).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import RemoteProtocolError
from ..protocol import limits

TOKEN_BYTES = 32
TAG_BYTES = 16
HELLO_SECONDS = 8.0
MAX_FRAME_BYTES = limits.MAX_EXCHANGE_MESSAGE_BYTES + 16
_LENGTH = struct.Struct(">I")


def _derive(token: bytes, label: str) -> bytes:
    return hmac.new(token, b"natakanu bulk/1 " + label.encode(), hashlib.sha256).digest()


def tag_of(token: bytes) -> bytes:
    return _derive(token, "hello")[:TAG_BYTES]


def encode_offer(port: int, token: bytes) -> bytes:
    return struct.pack(">H", port) + token


def decode_offer(data: bytes | memoryview) -> tuple[int, bytes]:
    if len(data) != 2 + TOKEN_BYTES:
        raise RemoteProtocolError("a bulk offer of the wrong size")
    (port,) = struct.unpack(">H", bytes(data[:2]))
    if port == 0:
        raise RemoteProtocolError("a bulk offer without a port")
    return port, bytes(data[2:])


def new_token() -> bytes:
    return os.urandom(TOKEN_BYTES)


class _Direction:
    """One direction's key and frame counter."""

    def __init__(self, token: bytes, label: str) -> None:
        self._aead = AESGCM(_derive(token, label)[:16])
        self._label = label.encode()
        self._counter = 0

    def next_nonce(self) -> bytes:
        nonce = self._counter.to_bytes(12, "big")
        self._counter += 1
        return nonce

    def seal(self, nonce: bytes, parts: tuple[bytes, ...]) -> bytes:
        return self._aead.encrypt(nonce, b"".join(parts), self._label)

    def open(self, nonce: bytes, sealed: bytes | bytearray) -> bytes:
        return self._aead.decrypt(nonce, sealed, self._label)


class _Frames(asyncio.BufferedProtocol):
    """Reads length-prefixed frames straight into buffers of their size (no copy on the way).

    A listener's side first reads the 16-byte tag and hands itself to ``on_tag``.
    """

    def __init__(self, on_tag: Callable[[_Frames, bytes], None] | None = None) -> None:
        self.transport: asyncio.Transport | None = None
        self.frames: asyncio.Queue[bytearray | BaseException | None] = asyncio.Queue()
        self._on_tag = on_tag
        self._head = bytearray(TAG_BYTES if on_tag else _LENGTH.size)
        self._body: bytearray | None = None
        self._filled = 0
        self._paused = False
        self._writable = asyncio.Event()
        self._writable.set()
        self.on_lost: Callable[[_Frames], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self._on_tag is not None:  # a stranger that says nothing is cut off
            loop = asyncio.get_running_loop()
            loop.call_later(HELLO_SECONDS, self._hello_too_slow)

    def _hello_too_slow(self) -> None:
        if self._on_tag is not None and self.transport is not None:
            self.transport.close()

    def get_buffer(self, sizehint: int) -> memoryview:
        target = self._head if self._body is None else self._body
        return memoryview(target)[self._filled :]

    def buffer_updated(self, nbytes: int) -> None:
        self._filled += nbytes
        if self._body is None:
            if self._filled < len(self._head):
                return
            self._filled = 0
            if self._on_tag is not None:
                on_tag, self._on_tag = self._on_tag, None
                tag = bytes(self._head)
                self._head = bytearray(_LENGTH.size)
                on_tag(self, tag)
                return
            (length,) = _LENGTH.unpack(self._head)
            if not 16 <= length <= MAX_FRAME_BYTES:
                self.frames.put_nowait(RemoteProtocolError(f"a bulk frame of {length} bytes"))
                if self.transport is not None:
                    self.transport.close()
                return
            self._body = bytearray(length)
            return
        if self._filled < len(self._body):
            return
        self.frames.put_nowait(self._body)
        self._body, self._filled = None, 0
        if self.frames.qsize() >= 2 and self.transport is not None and not self._paused:
            self._paused = True  # the reader is behind: let TCP hold the sender back
            self.transport.pause_reading()

    def taken(self) -> None:
        if self._paused and self.frames.qsize() < 1 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.frames.put_nowait(None)
        self._writable.set()
        if self.on_lost is not None:
            self.on_lost(self)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def writable(self) -> None:
        await self._writable.wait()


class BulkConnection:
    """Both directions of one link's bulk path over one TCP connection."""

    def __init__(self, frames: _Frames, token: bytes, dialler: bool) -> None:
        self._frames = frames
        outgoing, incoming = ("dialler", "listener") if dialler else ("listener", "dialler")
        self._out = _Direction(token, outgoing)
        self._in = _Direction(token, incoming)
        self._send_lock = asyncio.Lock()
        self.closed = False

    async def send(self, *parts: bytes) -> None:
        """Seal and send one message (its pieces joined); ``ConnectionError`` if it failed."""
        transport = self._frames.transport
        if self.closed or transport is None or transport.is_closing():
            self.closed = True
            raise ConnectionError("the bulk connection is closed")
        async with self._send_lock:  # numbered in the order sent
            nonce = self._out.next_nonce()
            sealed = await asyncio.to_thread(self._out.seal, nonce, parts)
            if transport.is_closing():
                self.closed = True
                raise ConnectionError("the bulk connection is closed")
            transport.write(_LENGTH.pack(len(sealed)))
            transport.write(sealed)
            await self._frames.writable()

    async def receive(self) -> bytes:
        """The next message; ``ConnectionError`` at the end, ``RemoteProtocolError`` if forged."""
        frame = await self._frames.frames.get()
        self._frames.taken()
        if frame is None:
            self.closed = True
            raise ConnectionError("the bulk connection ended")
        if isinstance(frame, BaseException):
            self.closed = True
            raise frame
        nonce = self._in.next_nonce()
        try:
            return await asyncio.to_thread(self._in.open, nonce, frame)
        except InvalidTag as exc:
            raise RemoteProtocolError("a bulk frame that does not open with its key") from exc

    async def close(self) -> None:
        self.closed = True
        if self._frames.transport is not None:
            self._frames.transport.close()


async def dial_bulk(host: str, port: int, token: bytes, timeout: float = 10.0) -> BulkConnection:
    """The dialler's side: connect and present the token's tag."""
    loop = asyncio.get_running_loop()
    try:
        transport, frames = await asyncio.wait_for(
            loop.create_connection(_Frames, host, port), timeout
        )
    except (OSError, TimeoutError) as exc:
        raise ConnectionError(f"cannot open the bulk path to {host}:{port}: {exc}") from exc
    transport.write(tag_of(token))
    return BulkConnection(frames, token, dialler=True)


@dataclass
class BulkServer:
    """The listener's bulk server: connections are matched to links by their token's tag."""

    expected: dict[bytes, tuple[bytes, Callable[[BulkConnection], Awaitable[None]]]]
    server: asyncio.Server | None = None
    port: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _accepted: set[_Frames] = field(default_factory=set)

    @classmethod
    async def start(cls, host: str) -> BulkServer:
        bulk = cls(expected={})
        loop = asyncio.get_running_loop()
        bulk.server = await loop.create_server(bulk._new_connection, host, 0)
        bulk.port = int(bulk.server.sockets[0].getsockname()[1])
        return bulk

    def expect(
        self, token: bytes, attach: Callable[[BulkConnection], Awaitable[None]]
    ) -> Callable[[], None]:
        """Wait for the connection presenting ``token``; returns a function to stop waiting."""
        tag = tag_of(token)
        self.expected[tag] = (token, attach)
        return lambda: self.expected.pop(tag, None) and None

    def _new_connection(self) -> _Frames:
        frames = _Frames(self._on_tag)
        self._accepted.add(frames)
        frames.on_lost = self._accepted.discard  # nothing kept for a closed connection
        return frames

    def _on_tag(self, frames: _Frames, tag: bytes) -> None:
        found = self.expected.pop(tag, None)
        if found is None:  # a stranger, or a tag used already: nothing is said to it
            if frames.transport is not None:
                frames.transport.close()
            return
        token, attach = found
        task = asyncio.ensure_future(attach(BulkConnection(frames, token, dialler=False)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for frames in self._accepted:
            if frames.transport is not None:
                frames.transport.close()
        self._accepted.clear()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
