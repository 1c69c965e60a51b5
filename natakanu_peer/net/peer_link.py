"""Peer links: one TLS WebSocket per pair of peers and circle, carrying gossip and exchange.

Every binary WebSocket message is one frame: a channel byte, then the frame of that channel's
protocol (``CHANNEL_GOSSIP``: a gossip message; ``CHANNEL_EXCHANGE``: a native hash-exchange
message). The link runs over TLS 1.3 (``net.tls``) and opens with the membership handshake of
``protocol.link_auth`` on ``CHANNEL_HELLO``: the listening side sends a nonce, the dialling
side proves it belongs to one of the listener's circles and who it is, and the listener
answers with its own proof. A peer that does not finish in ``HANDSHAKE_SECONDS``, or proves
nothing, is disconnected having received nothing but that nonce.

This module moves bytes and checks the handshake; it must never interpret gossip or
exchange frames (that is the node's job) and never trust a peer's claim it cannot verify.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
from aiohttp import web

from ..errors import RemoteProtocolError
from ..identity import Identity, verify_signature
from ..protocol import limits, link_auth
from ..protocol.circle import CircleKeys
from . import tls

log = logging.getLogger(__name__)

CHANNEL_HELLO = 0
CHANNEL_GOSSIP = 1
CHANNEL_EXCHANGE = 2
CHANNEL_CIRCLE = 3  # signed updates of the circle's secret (protocol.circle.CircleUpdate)
CHANNEL_BULK = 4  # the listener's offer of a bulk path for content (net.bulk)
PEER_PATH = "/natakanu/peer/2"
JOIN_PATH = "/natakanu/join/1"  # a newcomer's single try of a join code (protocol.join_code)
HANDSHAKE_SECONDS = 8.0  # so that a silent caller is gone well within 10 s
HEARTBEAT_SECONDS = 15.0
#: How long a polite close may take before the connection is cut.
CLOSE_SECONDS = 5.0
#: Largest WebSocket message: the largest frame of either protocol, plus the channel byte.
MAX_MESSAGE_BYTES = max(limits.MAX_GOSSIP_FRAME_BYTES, limits.MAX_EXCHANGE_MESSAGE_BYTES) + 1
_MAX_HELLO_BYTES = 1024
_M = TypeVar("_M", link_auth.Challenge, link_auth.Knock, link_auth.Proof)


@dataclass(frozen=True)
class PeerInfo:
    """What a peer told us about itself in the handshake (its id is proven)."""

    peer_id: str
    display_name: str
    listen_port: int | None
    remote_host: str | None
    circle: CircleKeys


class PeerLink:
    """One authenticated WebSocket to one peer."""

    def __init__(
        self,
        ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        *,
        initiator: bool,
        remote_host: str | None,
        session: aiohttp.ClientSession | None = None,
        transport: asyncio.BaseTransport | None = None,
    ) -> None:
        self._ws = ws
        #: The accepted connection under an answered link (admission counts it until proven).
        self.transport = transport
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
        self,
        identity: Identity,
        circles: Sequence[CircleKeys],
        display_name: str,
        listen_port: int | None,
        own_certificate_fp: bytes | None = None,
        accept: Callable[[bytes, CircleKeys], bool] | None = None,
    ) -> PeerInfo:
        """Prove membership and identity both ways; ``RemoteProtocolError`` on any failure.

        The dialling side proves membership of ``circles[0]``; the listening side accepts
        any of ``circles`` (and needs ``own_certificate_fp``, its certificate's fingerprint).
        ``accept(peer_id, circle)`` may refuse a peer whose proof holds (a removed member).
        """
        if self.initiator:
            circle, proof = await self._initiate(identity, circles[0], display_name, listen_port)
        else:
            assert own_certificate_fp is not None
            circle, proof = await self._respond(
                identity, circles, display_name, listen_port, own_certificate_fp, accept
            )
        if accept is not None and not accept(proof.peer_id, circle):
            raise RemoteProtocolError("the peer is not accepted in this circle")
        if proof.peer_id == identity.public_key:
            raise RemoteProtocolError("connected to ourselves")
        self.peer = PeerInfo(
            peer_id=proof.peer_id.hex(),
            display_name=_plain_name(proof.display_name),
            listen_port=proof.listen_port,
            remote_host=self._remote_host,
            circle=circle,
        )
        return self.peer

    async def _initiate(
        self, identity: Identity, circle: CircleKeys, name: str, port: int | None
    ) -> tuple[CircleKeys, link_auth.Proof]:
        certificate = self._peer_certificate()
        cert_fp = tls.fingerprint(certificate)
        cert_key = tls.public_key_of(certificate)
        if cert_key is None:
            raise RemoteProtocolError("the peer's certificate does not hold an Ed25519 key")
        challenge = await self._receive_handshake(link_auth.Challenge)
        knock = link_auth.knock(circle, cert_fp, os.urandom(32), challenge)
        await self._send_raw(CHANNEL_HELLO, link_auth.encode(knock))
        answer = await self._receive_handshake(link_auth.Proof)
        link_auth.check_responder(
            answer, circle, verify_signature, cert_fp, challenge, knock, cert_key
        )
        # Only to a listener that proved membership do we say who we are.
        ours = link_auth.initiator_proof(
            circle,
            identity.sign,
            identity.public_key,
            cert_fp,
            challenge,
            knock,
            answer,
            name,
            port,
        )
        await self._send_raw(CHANNEL_HELLO, link_auth.encode(ours))
        return circle, answer

    async def _respond(
        self,
        identity: Identity,
        circles: Sequence[CircleKeys],
        name: str,
        port: int | None,
        cert_fp: bytes,
        accept: Callable[[bytes, CircleKeys], bool] | None,
    ) -> tuple[CircleKeys, link_auth.Proof]:
        challenge = link_auth.Challenge(os.urandom(32))
        await self._send_raw(CHANNEL_HELLO, link_auth.encode(challenge))
        knock = await self._receive_handshake(link_auth.Knock)
        circle = link_auth.check_knock(knock, circles, cert_fp, challenge)
        answer = link_auth.responder_proof(
            circle, identity.sign, identity.public_key, cert_fp, challenge, knock, name, port
        )
        await self._send_raw(CHANNEL_HELLO, link_auth.encode(answer))
        proof = await self._receive_handshake(link_auth.Proof)
        link_auth.check_initiator(
            proof, circle, verify_signature, cert_fp, challenge, knock, identity.public_key
        )
        if accept is not None and not accept(proof.peer_id, circle):
            raise RemoteProtocolError("the peer is not accepted in this circle")
        return circle, proof

    def _peer_certificate(self) -> bytes:
        ssl_object = self._ws.get_extra_info("ssl_object")
        certificate = None
        if isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
            certificate = ssl_object.getpeercert(binary_form=True)
        if not certificate:
            raise RemoteProtocolError("the link is not encrypted with a certificate")
        return certificate

    async def _receive_handshake(self, kind: type[_M]) -> _M:
        channel, payload = await self.receive()
        if channel != CHANNEL_HELLO or len(payload) > _MAX_HELLO_BYTES:
            raise RemoteProtocolError("the peer did not follow the handshake")
        message = link_auth.decode(payload)
        if not isinstance(message, kind):
            raise RemoteProtocolError("the peer sent handshake messages out of order")
        return message

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
            await asyncio.wait_for(self._ws.close(message=reason.encode()[:120]), CLOSE_SECONDS)
        except TimeoutError:
            # A peer that stops reading holds a polite close forever: the close frame waits
            # behind everything it did not read. Cut the connection instead.
            self._abort()
        except Exception:  # closing a broken socket may fail; it is closed all the same
            log.debug("error while closing a link", exc_info=True)
        if self._session is not None:
            await self._session.close()

    def _abort(self) -> None:
        # aiohttp offers no public way to drop a WebSocket's connection at once; its writer
        # holds the transport (client and server alike).
        writer = getattr(self._ws, "_writer", None)
        transport = getattr(writer, "transport", None)
        if transport is not None:
            transport.abort()


def _plain_name(name: str) -> str:
    """A display name as plain text on one line: control characters become spaces."""
    cleaned = "".join(" " if not c.isprintable() else c for c in name).strip()
    return cleaned[:120]


LinkHandler = Callable[[PeerLink], Awaitable[object]]


def peer_route(handler: LinkHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """An aiohttp handler that accepts peer WebSockets and hands each link to ``handler``."""

    async def accept(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES, heartbeat=HEARTBEAT_SECONDS)
        await ws.prepare(request)
        link = PeerLink(
            ws, initiator=False, remote_host=request.remote, transport=request.transport
        )
        await handler(link)
        return ws

    return accept


_CLIENT_TLS = tls.client_context()


async def dial(address: str, timeout: float = 10.0) -> PeerLink:
    """Open a TLS link to ``host:port``; raises ``ConnectionError`` when it cannot."""
    host, _, port = address.rpartition(":")
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=timeout))
    try:
        ws = await session.ws_connect(
            f"https://{host}:{port}{PEER_PATH}",
            ssl=_CLIENT_TLS,
            max_msg_size=MAX_MESSAGE_BYTES,
            heartbeat=HEARTBEAT_SECONDS,
            autoping=True,
        )
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        await session.close()
        raise ConnectionError(f"cannot reach {address}: {exc}") from exc
    return PeerLink(ws, initiator=True, remote_host=host, session=session)


async def exchange_join_code(address: str, request: bytes, timeout: float = 10.0) -> bytes | None:
    """Send a join code's first message to ``address``; the answer, or None if it closed.

    Over TLS like every link; the member's certificate is not checked, because the key
    exchange itself fails against anyone who does not know the code.
    """
    host, _, port = address.rpartition(":")
    client = aiohttp.ClientTimeout(total=timeout)
    try:
        async with (
            aiohttp.ClientSession(timeout=client) as session,
            session.ws_connect(
                f"https://{host}:{port}{JOIN_PATH}", ssl=_CLIENT_TLS, max_msg_size=4096
            ) as ws,
        ):
            await ws.send_bytes(request)
            message = await ws.receive(timeout=timeout)
            if message.type == aiohttp.WSMsgType.BINARY:
                answer: bytes = message.data
                return answer
            return None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise ConnectionError(f"cannot reach {address}: {exc}") from exc
