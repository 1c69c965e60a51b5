"""Admission on the peer port: strangers' connections are counted and turned away before TLS.

Real sockets on 127.0.0.1, a real aiohttp application behind the site; no node around it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from natakanu_peer.identity import Identity
from natakanu_peer.net import tls
from natakanu_peer.net.admission import Admission, AdmittingSite

CLIENT = tls.client_context()


class Served:
    def __init__(self, site: AdmittingSite) -> None:
        self.site = site
        self.admission = site.admission
        server = site.server
        assert isinstance(server, asyncio.Server)
        self.port = int(server.sockets[0].getsockname()[1])
        self.held: list[asyncio.StreamWriter] = []

    async def tls_connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", self.port, ssl=CLIENT), 5
        )

    async def tcp_connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


@pytest.fixture
async def served(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    settings = getattr(request, "param", {})
    identity = Identity.generate()
    context = tls.server_context(identity, tls.certificate_for(identity), tmp_path)
    app = web.Application()
    box: list[Served] = []

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def prove(request: web.Request) -> web.StreamResponse:
        # As the node does once a link proved membership; then it stays open.
        box[0].admission.proven(request.transport)
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"proven\n")
        await asyncio.sleep(3600)
        return response

    app.router.add_get("/", hello)
    app.router.add_get("/prove", prove)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = AdmittingSite(runner, "127.0.0.1", 0, context, Admission(**settings))
    await site.start()
    box.append(Served(site))
    try:
        yield box[0]
    finally:
        await runner.cleanup()


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1), within) == b""
    except (ConnectionError, ssl.SSLError):
        return True
    except TimeoutError:
        return False


async def settle(check: Callable[[], bool], within: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def test_a_request_goes_through_and_gives_its_place_back(served: Served) -> None:
    url = f"https://127.0.0.1:{served.port}/"
    async with aiohttp.ClientSession() as session, session.get(url, ssl=CLIENT) as answer:
        assert answer.status == 200
        assert await answer.text() == "hello"
        assert served.admission.unproven == 1
    await settle(lambda: served.admission.unproven == 0)
    assert served.admission.turned_away == 0


@pytest.mark.parametrize("served", [{"per_address": 2, "at_once": 10}], indirect=True)
async def test_one_over_the_address_limit_is_closed_before_tls(served: Served) -> None:
    silent = [await served.tcp_connection() for _ in range(2)]  # say nothing: places taken
    await settle(lambda: served.admission.unproven == 2)
    with pytest.raises((ConnectionError, ssl.SSLError, asyncio.IncompleteReadError)):
        await served.tls_connection()
    assert served.admission.turned_away == 1
    # One silent caller leaves: its place is free again and a real caller gets through.
    silent[0][1].transport.abort()
    await settle(lambda: served.admission.unproven == 1)
    reader, writer = await served.tls_connection()
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 200")
    writer.close()
    silent[1][1].transport.abort()
    await settle(lambda: served.admission.unproven == 0)


@pytest.mark.parametrize("served", [{"per_address": 50, "at_once": 3}], indirect=True)
async def test_the_total_limit_holds_a_flood_to_a_few_places(served: Served) -> None:
    async def attempt() -> bool:
        try:
            _, writer = await served.tls_connection()
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, TimeoutError):
            return False
        served.held.append(writer)
        return True

    admitted = await asyncio.gather(*(attempt() for _ in range(40)))
    assert sum(admitted) == 3
    assert served.admission.unproven == 3
    assert served.admission.turned_away == 37
    for writer in served.held:
        writer.transport.abort()
    await settle(lambda: served.admission.unproven == 0)


@pytest.mark.parametrize("served", [{"seconds": 0.4}], indirect=True)
async def test_a_caller_that_never_proves_itself_is_cut(served: Served) -> None:
    idle_reader, idle = await served.tcp_connection()  # no TLS at all
    tls_reader, tls_writer = await served.tls_connection()  # TLS, then nothing
    assert await closed_by_server(idle_reader, 3)
    assert await closed_by_server(tls_reader, 3)
    assert served.admission.timed_out == 2
    assert served.admission.unproven == 0
    idle.close()
    tls_writer.close()


@pytest.mark.parametrize("served", [{"seconds": 0.4}], indirect=True)
async def test_a_proven_link_keeps_its_connection_and_frees_its_place(served: Served) -> None:
    reader, writer = await served.tls_connection()
    writer.write(b"GET /prove HTTP/1.1\r\nHost: x\r\n\r\n")
    head = await asyncio.wait_for(reader.readuntil(b"proven\n"), 5)
    assert head.startswith(b"HTTP/1.1 200")
    assert served.admission.unproven == 0
    assert not await closed_by_server(reader, 1.0)  # past the unproven time: still open
    assert served.admission.timed_out == 0
    writer.transport.abort()


async def test_garbage_instead_of_tls_gives_its_place_back(served: Served) -> None:
    reader, writer = await served.tcp_connection()
    writer.write(b"\x16\x03\x01\x00\x05hello" + bytes(200))
    assert await closed_by_server(reader, 5)
    await settle(lambda: served.admission.unproven == 0)
    with contextlib.suppress(Exception):
        writer.close()


async def test_a_caller_hanging_up_during_tls_gives_its_place_back_at_once(served: Served) -> None:
    for _ in range(3):
        _, writer = await served.tcp_connection()
        writer.write(b"\x16\x03\x01")  # the start of a TLS hello, then a clean goodbye
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    await settle(lambda: served.admission.unproven == 0, within=2.0)  # not the 30 s cut
    assert served.admission.timed_out == 0
