"""Admission of incoming peer connections, decided before TLS starts.

Every connection the peer port accepts costs memory before its first byte is read: Python's
TLS layer gives each one a 256 KiB buffer, and aiohttp a request parser. A stranger opening
hundreds of connections at once would make the peer hold hundreds of megabytes, so the
decision is taken here, on the bare socket: a connection is *unproven* from the moment it is
accepted until the node says its link proved membership. At most
``limits.UNPROVEN_PER_ADDRESS`` unproven connections from one address and
``limits.UNPROVEN_AT_ONCE`` in all; one over either is closed at once, before TLS allocates
anything. One still unproven after ``limits.UNPROVEN_SECONDS`` is cut, so a slow or silent
caller cannot keep its place. Proven links are bounded by membership, not here.

This module must never read or interpret what a connection carries: TLS stays with ``ssl``,
HTTP and WebSockets with aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from asyncio import sslproto
from collections import Counter

from aiohttp import web

from ..protocol import limits

log = logging.getLogger(__name__)

#: Time a caller has to finish the TLS handshake.
TLS_HANDSHAKE_SECONDS = 10


class Places:
    """Places taken per remote address and in all, each count bounded."""

    def __init__(self, per_address: int, at_once: int) -> None:
        self.per_address, self.at_once = per_address, at_once
        self._per_address: Counter[str] = Counter()
        self._total = 0

    @property
    def taken(self) -> int:
        return self._total

    def acquire(self, address: str) -> bool:
        if self._total >= self.at_once or self._per_address[address] >= self.per_address:
            return False
        self._per_address[address] += 1
        self._total += 1
        return True

    def release(self, address: str) -> None:
        self._per_address[address] -= 1
        if self._per_address[address] <= 0:
            del self._per_address[address]
        self._total -= 1


class Admission(Places):
    """The places of unproven connections, per remote address and in all."""

    def __init__(
        self,
        per_address: int = limits.UNPROVEN_PER_ADDRESS,
        at_once: int = limits.UNPROVEN_AT_ONCE,
        seconds: float = limits.UNPROVEN_SECONDS,
    ) -> None:
        super().__init__(per_address, at_once)
        self.seconds = seconds
        self.turned_away = 0  # connections closed because a limit was reached
        self.timed_out = 0  # connections cut because they stayed unproven too long
        self._tickets: dict[asyncio.BaseTransport, _Ticket] = {}
        self._open: set[_Ticket] = set()  # unproven, not yet given back

    @property
    def unproven(self) -> int:
        return self.taken

    def admit(self, address: str) -> bool:
        if self.acquire(address):
            return True
        self.turned_away += 1
        return False

    def abort_unproven(self) -> None:
        """Close every connection still unproven (the site is stopping)."""
        for ticket in list(self._open):
            ticket.settle()
            ticket.raw.abort()

    def proven(self, transport: asyncio.BaseTransport | None) -> None:
        """The link on ``transport`` proved membership: it no longer takes an unproven place."""
        ticket = self._tickets.get(transport) if transport is not None else None
        if ticket is not None:
            ticket.settle()


class _Ticket:
    """One admitted connection's unproven place, given back exactly once."""

    __slots__ = ("_admission", "_timer", "address", "raw", "settled", "tracked")

    def __init__(self, admission: Admission, address: str, raw: asyncio.Transport) -> None:
        self._admission, self.address, self.raw = admission, address, raw
        self.settled = False
        self.tracked = False  # TLS is up and aiohttp's handler has the connection
        admission._open.add(self)
        loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = loop.call_later(admission.seconds, self._expire)

    def settle(self) -> None:
        if self.settled:
            return
        self.settled = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._admission._open.discard(self)
        self._admission.release(self.address)

    def _expire(self) -> None:
        self._timer = None
        if not self.settled:
            self._admission.timed_out += 1
            log.debug("cutting a connection from %s: not proven in time", self.address)
            self.settle()
            self.raw.abort()


class _Tracked(asyncio.Protocol):
    """aiohttp's handler for one connection, seen by admission when TLS is up and at the end."""

    def __init__(self, inner: asyncio.Protocol, ticket: _Ticket, admission: Admission) -> None:
        self._inner, self._ticket, self._admission = inner, ticket, admission
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._ticket.tracked = True
        self._admission._tickets[transport] = self._ticket
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._admission._tickets.pop(self._transport, None)
        self._ticket.settle()
        self._inner.connection_lost(exc)


class _Gate(asyncio.Protocol):
    """The first protocol of every accepted socket: admit it and hand it to TLS, or close it."""

    def __init__(self, site: AdmittingSite) -> None:
        self._site = site

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if peer else "?"
        admission = self._site.admission
        if not admission.admit(address):
            transport.abort()  # before TLS has allocated anything
            return
        ticket = _Ticket(admission, address, transport)
        server = self._site._runner.server
        context = self._site._ssl_context
        assert server is not None and context is not None
        loop = asyncio.get_running_loop()
        handshake: asyncio.Future[None] = loop.create_future()
        # What loop.create_server(ssl=...) does for each connection, done only now that the
        # connection is admitted; ``start_tls`` would not tell aiohttp's handler when TLS is
        # up before the first request's bytes reach it.
        tls = sslproto.SSLProtocol(
            loop,
            _Tracked(server(), ticket, admission),
            context,
            handshake,
            server_side=True,
            ssl_handshake_timeout=TLS_HANDSHAKE_SECONDS,
        )
        transport.set_protocol(tls)
        tls.connection_made(transport)
        handshake.add_done_callback(lambda done: _after_handshake(done, ticket))


def _after_handshake(done: asyncio.Future[None], ticket: _Ticket) -> None:
    # A caller that hangs up cleanly during the handshake ends it without an exception.
    if done.cancelled() or done.exception() is not None or not ticket.tracked:
        # Not TLS, too slow, or gone: the handler never started, nothing of it is kept.
        ticket.settle()
        ticket.raw.abort()


class AdmittingSite(web.BaseSite):
    """An aiohttp site on ``host:port`` whose connections pass admission before TLS."""

    def __init__(
        self,
        runner: web.BaseRunner,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext,
        admission: Admission | None = None,
    ) -> None:
        super().__init__(runner, ssl_context=ssl_context)
        self._host, self._port = host, port
        self.admission = admission or Admission()

    @property
    def name(self) -> str:
        return f"https://{self._host}:{self._port}"

    @property
    def server(self) -> asyncio.AbstractServer | None:
        return self._server

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Gate(self), self._host, self._port, backlog=self._backlog
        )

    async def stop(self) -> None:
        await super().stop()
        self.admission.abort_unproven()
