"""The bulk path: sealed frames both ways, and nothing for strangers, forgers or replayers.

Real sockets on 127.0.0.1; no node around them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct

import pytest

from natakanu_peer.errors import RemoteProtocolError
from natakanu_peer.net.bulk import (
    HELLO_SECONDS,
    MAX_FRAME_BYTES,
    BulkConnection,
    BulkServer,
    decode_offer,
    dial_bulk,
    encode_offer,
    new_token,
    tag_of,
)


async def pair(server: BulkServer, token: bytes) -> tuple[BulkConnection, BulkConnection]:
    accepted: asyncio.Future[BulkConnection] = asyncio.get_running_loop().create_future()

    async def attach(connection: BulkConnection) -> None:
        accepted.set_result(connection)
        await asyncio.sleep(3600)  # held open as a node's session holds it

    server.expect(token, attach)
    dialler = await dial_bulk("127.0.0.1", server.port, token)
    return dialler, await asyncio.wait_for(accepted, 5)


async def test_messages_cross_both_ways_in_order_and_sealed() -> None:
    server = await BulkServer.start("127.0.0.1")
    try:
        token = new_token()
        dialler, listener = await pair(server, token)
        big = os.urandom(4 * 1024 * 1024)

        async def send_all() -> None:
            for i in range(5):
                await dialler.send(b"head", str(i).encode(), big)

        sending = asyncio.ensure_future(send_all())  # a reader that lags holds the sender back
        for i in range(5):
            assert await listener.receive() == b"head" + str(i).encode() + big
        await sending
        await listener.send(b"back")
        assert await dialler.receive() == b"back"
        assert decode_offer(encode_offer(server.port, token)) == (server.port, token)
        await dialler.close()
        with pytest.raises(ConnectionError):
            await listener.receive()
    finally:
        await server.stop()


async def raw(port: int, payload: bytes, wait: float = 1.0) -> bytes:
    """Send raw bytes to the bulk port; everything that came back before it closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    received = b""
    # Closed on it with its bytes unread, the socket may be reset: that is zero bytes too.
    with contextlib.suppress(TimeoutError, ConnectionResetError):
        received = await asyncio.wait_for(reader.read(), wait)
    writer.close()
    return received


async def test_a_stranger_or_a_replayed_tag_gets_zero_bytes_and_is_closed() -> None:
    server = await BulkServer.start("127.0.0.1")
    try:
        assert await raw(server.port, os.urandom(16)) == b""  # unknown tag: closed, silent
        token = new_token()
        dialler, _ = await pair(server, token)
        # The same tag again (say, overheard): it was used once and is gone.
        assert await raw(server.port, tag_of(token) + b"x" * 100) == b""
        await dialler.close()
    finally:
        await server.stop()


async def test_a_caller_that_says_nothing_is_cut_off() -> None:
    server = await BulkServer.start("127.0.0.1")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), HELLO_SECONDS + 2) == b""
        writer.close()
    finally:
        await server.stop()


async def test_forged_reordered_and_oversized_frames_end_the_connection() -> None:
    server = await BulkServer.start("127.0.0.1")
    try:
        token = new_token()
        accepted: asyncio.Future[BulkConnection] = asyncio.get_running_loop().create_future()

        async def attach(connection: BulkConnection) -> None:
            accepted.set_result(connection)
            await asyncio.sleep(3600)

        server.expect(token, attach)
        # A peer without the key: the right tag (stolen), a frame sealed with nothing.
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(tag_of(token) + struct.pack(">I", 40) + os.urandom(40))
        listener = await asyncio.wait_for(accepted, 5)
        with pytest.raises(RemoteProtocolError, match="does not open"):
            await listener.receive()
        writer.close()

        token = new_token()
        accepted = asyncio.get_running_loop().create_future()
        server.expect(token, attach)
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(tag_of(token) + struct.pack(">I", MAX_FRAME_BYTES + 1))
        listener = await asyncio.wait_for(accepted, 5)
        with pytest.raises(RemoteProtocolError, match="bulk frame of"):
            await listener.receive()
        writer.close()

        # A frame sent twice (replayed) does not open the second time: numbers move on.
        token = new_token()
        dialler, listener = await pair(server, token)
        await dialler.send(b"once")
        assert await listener.receive() == b"once"
        sealed = dialler._out.seal((0).to_bytes(12, "big"), (b"once",))
        transport = dialler._frames.transport
        assert transport is not None
        transport.write(struct.pack(">I", len(sealed)) + sealed)
        with pytest.raises(RemoteProtocolError, match="does not open"):
            await listener.receive()
        await dialler.close()
    finally:
        await server.stop()
