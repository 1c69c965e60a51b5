"""Peer links: one WebSocket per pair of peers, carrying gossip and hash-exchange frames.

Every binary WebSocket message is one frame: a channel byte, then the frame of that channel's
protocol (``CHANNEL_GOSSIP``: a gossip message; ``CHANNEL_EXCHANGE``: a native hash-exchange
message). The link opens with a handshake on ``CHANNEL_HELLO``: each side sends its peer id
(Ed25519 public key), display name, listening port and a fresh nonce, then proves it holds
the private key by signing both nonces and its id. A peer that does not finish the handshake
in ``HANDSHAKE_SECONDS``, or proves nothing, is disconnected.

This module moves bytes and checks the handshake; it must never interpret gossip or
exchange frames (that is the node's job) and never trust a peer's claim it cannot verify.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from ..errors import RemoteProtocolError
from ..identity import Identity, verify_signature
from ..protocol import limits

log = logging.getLogger(__name__)

CHANNEL_HELLO = 0
CHANNEL_GOSSIP = 1
CHANNEL_EXCHANGE = 2
PEER_PATH = "/natakanu/peer/1"
HANDSHAKE_SECONDS = 10.0
HEARTBEAT_SECONDS = 15.0
#: Largest WebSocket message: the largest frame of either protocol, plus the channel byte.
MAX_MESSAGE_BYTES = max(limits.MAX_GOSSIP_FRAME_BYTES, limits.MAX_EXCHANGE_MESSAGE_BYTES) + 1
_PROOF_DOMAIN = b"natakanu-link/1\x00"
_MAX_HELLO_BYTES = 4096


@dataclass(frozen=True)
class PeerInfo:
    """What a peer told us about itself in the handshake (its id is proven)."""

    peer_id: str
    display_name: str
    listen_port: int | None
    remote_host: str | None


class PeerLink:
    """One authenticated WebSocket to one peer."""

    def __init__(
        self,
        ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        *,
        initiator: bool,
        remote_host: str | None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._ws = ws
        self.initiator = initiator
        self._remote_host = remote_host
        self._session = session  # owned by a dialled link, closed with it
        self.peer: PeerInfo | None = None
        self._send_lock = asyncio.Lock()
        self.close_reason: str | None = None

    @property
    def remote_host(self) -> str | None:
        return self._remote_host

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def handshake(
        self, identity: Identity, display_name: str, listen_port: int | None
    ) -> PeerInfo:
        """Exchange and check identities; raises ``RemoteProtocolError`` on any failure."""
        nonce = os.urandom(16)
        hello = {
            "v": 1,
            "peer_id": identity.peer_id,
            "name": display_name,
            "port": listen_port,
            "nonce": nonce.hex(),
        }
        await self._send_raw(CHANNEL_HELLO, json.dumps(hello).encode())
        theirs = _parse_hello(await self._receive_hello())
        their_id = bytes.fromhex(theirs.peer_id)
        their_nonce = bytes.fromhex(theirs.nonce)
        if theirs.peer_id == identity.peer_id:
            raise RemoteProtocolError("connected to ourselves")
        proof = identity.sign(_PROOF_DOMAIN + their_nonce + nonce + identity.public_key)
        await self._send_raw(CHANNEL_HELLO, json.dumps({"proof": proof.hex()}).encode())
        answer = await self._receive_hello()
        try:
            their_proof = bytes.fromhex(str(json.loads(answer)["proof"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise RemoteProtocolError("malformed identity proof") from exc
        if not verify_signature(
            their_id, _PROOF_DOMAIN + nonce + their_nonce + their_id, their_proof
        ):
            raise RemoteProtocolError("the peer could not prove its identity")
        self.peer = PeerInfo(
            peer_id=theirs.peer_id,
            display_name=theirs.name,
            listen_port=theirs.port,
            remote_host=self._remote_host,
        )
        return self.peer

    async def _receive_hello(self) -> bytes:
        channel, payload = await self.receive()
        if channel != CHANNEL_HELLO or len(payload) > _MAX_HELLO_BYTES:
            raise RemoteProtocolError("the peer did not open with a handshake")
        return bytes(payload)

    async def send(self, channel: int, *parts: bytes) -> None:
        """Send one frame on ``channel``: its payload is the ``parts`` joined."""
        if self._ws.closed:
            return
        await self._send_raw(channel, *parts)

    async def _send_raw(self, channel: int, *parts: bytes) -> None:
        async with self._send_lock:
            try:
                # One copy: the channel byte and the pieces (a chunk among them) joined once.
                await self._ws.send_bytes(b"".join((bytes((channel,)), *parts)))
            except (ConnectionError, RuntimeError) as exc:
                raise ConnectionError(f"link closed while sending: {exc}") from exc

    async def receive(self) -> tuple[int, memoryview]:
        """The next frame: its channel and a view of its payload (not copied).

        ``ConnectionError``: the link ended; ``RemoteProtocolError``: junk.
        """
        message = await self._ws.receive()
        if message.type == aiohttp.WSMsgType.BINARY:
            data: bytes = message.data
            if not data:
                raise RemoteProtocolError("empty frame")
            return data[0], memoryview(data)[1:]
        if message.type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSING,
            aiohttp.WSMsgType.CLOSED,
        ):
            raise ConnectionError("the peer closed the link")
        if message.type == aiohttp.WSMsgType.ERROR:
            raise ConnectionError(f"link failed: {self._ws.exception()}")
        raise RemoteProtocolError(f"unexpected WebSocket message of type {message.type.name}")

    async def close(self, reason: str = "") -> None:
        if reason and self.close_reason is None:
            self.close_reason = reason
        try:
            await self._ws.close(message=reason.encode()[:120])
        except Exception:  # closing a broken socket may fail; it is closed all the same
            log.debug("error while closing a link", exc_info=True)
        if self._session is not None:
            await self._session.close()


@dataclass(frozen=True)
class _Hello:
    peer_id: str
    nonce: str
    name: str
    port: int | None


def _parse_hello(payload: bytes) -> _Hello:
    try:
        hello = json.loads(payload)
        peer_id, nonce = str(hello["peer_id"]), str(hello["nonce"])
        name = str(hello.get("name") or "")[:120]
        port = hello.get("port")
        if len(bytes.fromhex(peer_id)) != 32 or len(bytes.fromhex(nonce)) != 16:
            raise ValueError("bad sizes")
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            raise ValueError("bad port")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RemoteProtocolError(f"malformed handshake: {exc}") from exc
    return _Hello(peer_id, nonce, name, port)


LinkHandler = Callable[[PeerLink], Awaitable[None]]


def peer_route(handler: LinkHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler that accepts peer WebSockets and hands each link to ``handler``."""

    async def accept(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, heartbeat=HEARTBEAT_SECONDS)
        await ws.prepare(request)
        link = PeerLink(ws, initiator=False, remote_host=request.remote)
        await handler(link)
        return ws

    return accept


async def dial(address: str, timeout: float = 10.0) -> PeerLink:
    """Open a link to ``host:port``; raises ``ConnectionError`` when it cannot."""
    host, _, port = address.rpartition(":")
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=timeout))
    try:
        ws = await session.ws_connect(
            f"http://{host}:{port}{PEER_PATH}",
            max_msg_size=MAX_MESSAGE_BYTES,
            heartbeat=HEARTBEAT_SECONDS,
            autoping=True,
        )
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        await session.close()
        raise ConnectionError(f"cannot reach {address}: {exc}") from exc
    return PeerLink(ws, initiator=True, remote_host=host, session=session)
