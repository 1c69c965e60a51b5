"""Only members get in: a stranger, a silent caller and a replayed handshake get nothing.

A real daemon listens on 127.0.0.1 with keys and a shared file; the callers here are made by
hand from the link module, so that every byte they receive can be counted.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from natakanu_peer.errors import RemoteProtocolError
from natakanu_peer.identity import Identity
from natakanu_peer.net.peer_link import CHANNEL_HELLO, HANDSHAKE_SECONDS, PeerLink, dial
from natakanu_peer.protocol import link_auth
from natakanu_peer.protocol.circle import CircleKeys, decode_invitation

from .daemons import Daemon


@pytest.fixture
def member_daemon(tmp_path: Path):
    daemon = Daemon(tmp_path / "a", name="A").start()
    film = tmp_path / "film.mkv"
    film.write_bytes(b"images of the river" * 5000)
    daemon.cli("share", str(film))
    daemon.cli("advertise", "--text", "a key of the circle")
    yield daemon
    daemon.stop()


class Recorder:
    """Wraps a dialled link to count what arrives and keep what is sent."""

    def __init__(self, link: PeerLink) -> None:
        self.link = link
        self.received: list[tuple[int, bytes]] = []
        self.sent: list[bytes] = []
        receive, send_raw = link.receive, link._send_raw

        async def recording_receive() -> tuple[int, memoryview]:
            channel, payload = await receive()
            self.received.append((channel, bytes(payload)))
            return channel, payload

        async def recording_send(channel: int, *parts: bytes) -> None:
            self.sent.append(b"".join(parts))
            await send_raw(channel, *parts)

        link.receive = recording_receive  # type: ignore[method-assign]
        link._send_raw = recording_send  # type: ignore[method-assign]

    def bytes_beyond_the_challenge(self) -> int:
        return sum(len(p) for c, p in self.received[1:]) + sum(
            len(p) for c, p in self.received if c != CHANNEL_HELLO
        )

    async def drain(self, seconds: float) -> None:
        """Read whatever else the daemon sends until it closes the link (or time runs out)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(self.link.receive(), deadline - time.monotonic())
            except (ConnectionError, RemoteProtocolError, TimeoutError):
                return


def test_a_stranger_gets_a_nonce_and_nothing_else(member_daemon: Daemon) -> None:
    async def scenario() -> Recorder:
        recorder = Recorder(await dial(member_daemon.address))
        with pytest.raises((RemoteProtocolError, ConnectionError)):
            await recorder.link.handshake(Identity.generate(), [CircleKeys.generate()], "S", None)
        await recorder.drain(3)
        await recorder.link.close()
        await asyncio.sleep(0.3)  # let TLS finish closing before the loop ends
        return recorder

    recorder = asyncio.run(scenario())
    assert [c for c, _ in recorder.received] == [CHANNEL_HELLO]
    assert isinstance(link_auth.decode(recorder.received[0][1]), link_auth.Challenge)
    assert recorder.bytes_beyond_the_challenge() == 0
    assert "proved membership of no circle" in member_daemon.log()


def test_a_caller_that_says_nothing_is_cut_off_within_ten_seconds(member_daemon: Daemon) -> None:
    async def scenario() -> tuple[float, Recorder]:
        started = time.monotonic()
        recorder = Recorder(await dial(member_daemon.address))
        await recorder.drain(HANDSHAKE_SECONDS + 5)
        closed_after = time.monotonic() - started
        await recorder.link.close()
        await asyncio.sleep(0.3)
        return closed_after, recorder

    closed_after, recorder = asyncio.run(scenario())
    assert closed_after <= 10  # the issue: disconnected within 10 s
    assert recorder.bytes_beyond_the_challenge() == 0


def test_a_recorded_handshake_replayed_later_is_refused(member_daemon: Daemon) -> None:
    circle = decode_invitation(member_daemon.invitation()).keys
    member = Identity.generate()

    async def scenario() -> Recorder:
        # A genuine member's handshake, overheard (as if TLS had been broken, even).
        genuine = Recorder(await dial(member_daemon.address))
        info = await genuine.link.handshake(member, [circle], "M", None)
        assert info.circle == circle
        await genuine.link.close()
        captured = genuine.sent[0]
        # Later, someone without the secret or the key sends those very bytes again.
        replay = Recorder(await dial(member_daemon.address))
        await replay.link.receive()  # a fresh challenge
        await replay.link._send_raw(CHANNEL_HELLO, captured)
        await replay.drain(5)
        await replay.link.close()
        await asyncio.sleep(0.3)
        return replay

    replay = asyncio.run(scenario())
    assert replay.bytes_beyond_the_challenge() == 0
    assert member_daemon.log().count("proved membership of no circle") == 1


def test_a_member_that_dials_a_stranger_says_nothing_of_itself(tmp_path: Path) -> None:
    """A stranger may copy a member's discovery tag and get dialled: it learns nothing."""
    import tempfile
    import threading

    from aiohttp import web

    from natakanu_peer.net import tls
    from natakanu_peer.net.peer_link import PEER_PATH, peer_route

    stranger = Identity.generate()
    certificate = tls.certificate_for(stranger)
    heard: list[bytes] = []
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    address: list[str] = []

    async def listen(link: PeerLink) -> None:
        await link._send_raw(CHANNEL_HELLO, link_auth.encode(link_auth.Challenge(bytes(32))))
        try:
            while True:
                _channel, payload = await asyncio.wait_for(link.receive(), 5)
                heard.append(bytes(payload))
        except (ConnectionError, RemoteProtocolError, TimeoutError):
            pass
        await link.close()

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_get(PEER_PATH, peer_route(listen))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        scratch = Path(tempfile.mkdtemp())
        context = tls.server_context(stranger, certificate, scratch)
        scratch.rmdir()
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        address.append(f"127.0.0.1:{site._server.sockets[0].getsockname()[1]}")  # type: ignore[union-attr]
        return runner

    def serve() -> None:
        asyncio.set_event_loop(loop)
        runner = loop.run_until_complete(start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    member = Daemon(tmp_path / "m", name="Marie", peers=address).start()
    try:
        me = bytes.fromhex(member.json("status")["peer_id"])
        deadline = time.monotonic() + 15
        while not heard and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        member.stop()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    assert heard, "the member never dialled"
    for payload in heard:
        assert isinstance(link_auth.decode(payload), link_auth.Knock)  # only knocks
        assert me not in payload and b"Marie" not in payload
