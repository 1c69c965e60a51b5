"""A dishonest member for tests: it passes the handshake, then serves whatever it is told to.

It runs its own event loop in a thread, listens on 127.0.0.1 (TLS, as every peer does), holds
a circle of its own that a victim joins with ``invitation()``, and answers every hash-exchange
request from ``serve`` (hash -> bytes it claims are the content, right or wrong).
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from natakanu_peer.hashing import BLAKE3
from natakanu_peer.identity import Identity
from natakanu_peer.net import tls
from natakanu_peer.net.peer_link import CHANNEL_EXCHANGE, PEER_PATH, PeerLink, peer_route
from natakanu_peer.protocol import hash_exchange as hx
from natakanu_peer.protocol.circle import CircleKeys, Invitation, encode_invitation


class HostilePeer:
    def __init__(
        self, serve: Callable[[str], bytes | None], provides: tuple[str, ...] = ()
    ) -> None:
        self.serve = serve
        self.provides = provides
        self.identity = Identity.generate()
        self.circle = CircleKeys.generate()
        self._certificate = tls.certificate_for(self.identity)
        self.address = ""
        self.disconnected = threading.Event()
        self.close_reasons: list[str] = []
        self.links = 0  # links that passed the handshake
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def invitation(self) -> str:
        return encode_invitation(
            Invitation("mallory's circle", self.circle, self.identity.public_key)
        )

    def __enter__(self) -> HostilePeer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get(PEER_PATH, peer_route(self._handle))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        scratch = Path(tempfile.mkdtemp(prefix="mallory-"))
        context = tls.server_context(self.identity, self._certificate, scratch)
        scratch.rmdir()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.address = f"127.0.0.1:{port}"

    async def _handle(self, link: PeerLink) -> None:
        try:
            await link.handshake(
                self.identity, [self.circle], "mallory", None, tls.fingerprint(self._certificate)
            )
        except Exception:  # not yet a member (it joins a moment later): not a link at all
            await link.close()
            return
        self.links += 1
        try:
            seq = 0
            while True:
                channel, payload = await link.receive()
                if channel != CHANNEL_EXCHANGE:
                    continue  # it ignores the gossip entirely
                message = hx.decode_message(payload)
                if isinstance(message, hx.Request):
                    for hash_ in message.hashes:
                        seq += 1
                        body = self.serve(hash_)
                        answer: hx.AnyMessage = (
                            hx.NotHere((hash_,)) if body is None else hx.Deliver(hash_, seq, body)
                        )
                        await link.send(CHANNEL_EXCHANGE, hx.encode_message(answer))
                elif isinstance(message, hx.Since):
                    # It claims to have whatever it was told to claim.
                    provide = hx.Provide(self.provides)
                    await link.send(CHANNEL_EXCHANGE, hx.encode_message(provide))
        except Exception as exc:  # any end of the link ends this peer
            self.close_reasons.append(str(exc))
        finally:
            self.disconnected.set()


def blake3_hex(data: bytes) -> str:
    return BLAKE3.hash_of(data)
