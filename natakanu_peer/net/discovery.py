"""Finding the members of the active circle on the local network, with mDNS / DNS-SD.

Each peer announces ``_natakanu._tcp.local.`` under a random instance name (new at every
start, so nothing links it to the peer's identity), its listening port, and in its TXT record
only a version and a tag (``protocol.discovery_tag``) that members of its circle recognise.
It browses the same type; the addresses of every announcement whose tag it recognises are
handed to ``on_found`` to be dialled, and the link handshake then proves membership for real.

When the machine's addresses change (another Wi-Fi, a cable plugged in), everything is
announced again on the new interfaces. ``interfaces`` limits mDNS to given addresses (tests
bind it to 127.0.0.1 or to interfaces inside their own network namespaces).

This module must never announce a circle's name, id or secret, never dial anything itself,
and never let a malformed announcement from the network raise out of its handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import secrets
import socket
from collections.abc import Callable

import ifaddr
from zeroconf import IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from ..protocol.circle import CircleKeys
from ..protocol.discovery_tag import make_tag, recognise

log = logging.getLogger(__name__)

SERVICE_TYPE = "_natakanu._tcp.local."
#: Join codes waiting for their newcomer: TXT ``n=<nameplate>``, nothing else.
JOIN_TYPE = "_natakanu-join._tcp.local."
INTERFACE_CHECK_SECONDS = 5.0
RESOLVE_MILLISECONDS = 3000
MAX_ADDRESSES_PER_PEER = 8


def _own_addresses(interfaces: list[str] | None) -> list[str]:
    """IPv4 addresses to announce: the given ones, or every non-loopback one (loopback only
    when there is nothing else)."""
    if interfaces:
        return list(interfaces)
    found: list[str] = []
    loopback: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str):
                address = ipaddress.IPv4Address(ip.ip)
                if address.is_loopback:
                    loopback.append(ip.ip)
                elif not address.is_link_local:
                    found.append(ip.ip)
    return sorted(set(found)) or sorted(set(loopback))


class Discovery:
    """Announces this peer and reports the addresses of recognised members."""

    def __init__(
        self, on_found: Callable[[list[str]], None], interfaces: list[str] | None = None
    ) -> None:
        self._on_found = on_found
        self._interfaces = interfaces
        self._instance = f"natakanu-{secrets.token_hex(6)}.{SERVICE_TYPE}"
        self._zeroconf: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._circle: CircleKeys | None = None
        self._port = 0
        self._addresses: list[str] = []
        self._watcher: asyncio.Task[None] | None = None
        self._lookups: set[asyncio.Task[None]] = set()
        #: Announcements recognised so far (instance name -> addresses), for status.
        self.members_seen: dict[str, list[str]] = {}
        self._join_offers: dict[int, AsyncServiceInfo] = {}

    @property
    def announced(self) -> list[str]:
        """The addresses announced now."""
        return list(self._addresses)

    async def start(self, circle: CircleKeys, port: int) -> None:
        self._circle, self._port = circle, port
        await self._open()
        self._watcher = asyncio.create_task(self._watch_interfaces())

    async def set_circle(self, circle: CircleKeys) -> None:
        """Announce for another circle from now on (a new tag, recognised by its members)."""
        self._circle = circle
        self.members_seen.clear()
        if self._zeroconf is not None and self._info is not None:
            self._info = self._service_info()
            await self._zeroconf.async_update_service(self._info)

    async def offer_join(self, nameplate: int) -> None:
        """Announce that a join code with ``nameplate`` waits here (until ``withdraw_join``)."""
        if self._zeroconf is None or nameplate in self._join_offers:
            return
        info = AsyncServiceInfo(
            JOIN_TYPE,
            f"natakanu-join-{nameplate}-{secrets.token_hex(3)}.{JOIN_TYPE}",
            addresses=[socket.inet_aton(a) for a in self._addresses],
            port=self._port,
            properties={"n": str(nameplate)},
            server=f"{self._instance.split('.')[0]}.local.",
        )
        await self._zeroconf.async_register_service(info, allow_name_change=True)
        self._join_offers[nameplate] = info

    async def withdraw_join(self, nameplate: int) -> None:
        info = self._join_offers.pop(nameplate, None)
        if info is not None and self._zeroconf is not None:
            with contextlib.suppress(Exception):
                await self._zeroconf.async_unregister_service(info)

    async def find_join(self, nameplate: int, timeout: float) -> list[str]:
        """Addresses of a member offering a join code with ``nameplate``; [] if none is heard."""
        if self._zeroconf is None:
            return []
        found: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        zc = self._zeroconf

        async def look(name: str) -> None:
            info = AsyncServiceInfo(JOIN_TYPE, name)
            if not await info.async_request(zc.zeroconf, RESOLVE_MILLISECONDS):
                return
            if (info.properties or {}).get(b"n") != str(nameplate).encode():
                return
            addresses = [f"{a}:{info.port}" for a in info.parsed_addresses(IPVersion.V4Only)]
            if addresses and not found.done():
                found.set_result(addresses[:MAX_ADDRESSES_PER_PEER])

        tasks: set[asyncio.Task[None]] = set()

        def on_change(
            zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
        ) -> None:
            if state_change is not ServiceStateChange.Removed:
                task = asyncio.ensure_future(look(name))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        browser = AsyncServiceBrowser(zc.zeroconf, [JOIN_TYPE], handlers=[on_change])
        try:
            return await asyncio.wait_for(found, timeout)
        except TimeoutError:
            return []
        finally:
            await browser.async_cancel()
            for task in tasks:
                task.cancel()

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self._close()

    # ------------------------------------------------------------------ inside

    def _service_info(self) -> AsyncServiceInfo:
        assert self._circle is not None
        return AsyncServiceInfo(
            SERVICE_TYPE,
            self._instance,
            addresses=[socket.inet_aton(a) for a in self._addresses],
            port=self._port,
            properties={"v": "1", "t": make_tag(self._circle, self._port)},
            server=f"{self._instance.split('.')[0]}.local.",
        )

    async def _open(self) -> None:
        self._addresses = await asyncio.to_thread(_own_addresses, self._interfaces)
        zc = AsyncZeroconf(
            interfaces=self._interfaces or self._addresses, ip_version=IPVersion.V4Only
        )
        self._zeroconf = zc
        self._info = self._service_info()
        await zc.async_register_service(self._info, allow_name_change=True)
        self._browser = AsyncServiceBrowser(zc.zeroconf, [SERVICE_TYPE], handlers=[self._on_change])
        log.info("announcing on the local network at %s", ", ".join(self._addresses))

    async def _close(self) -> None:
        for task in list(self._lookups):
            task.cancel()
        for nameplate in list(self._join_offers):
            await self.withdraw_join(nameplate)
        zc, self._zeroconf = self._zeroconf, None
        if zc is None:
            return
        with contextlib.suppress(Exception):  # the network may be gone already
            if self._browser is not None:
                await self._browser.async_cancel()
            if self._info is not None:
                await zc.async_unregister_service(self._info)
        with contextlib.suppress(Exception):
            await zc.async_close()

    async def _watch_interfaces(self) -> None:
        while True:
            await asyncio.sleep(INTERFACE_CHECK_SECONDS)
            if self._interfaces:
                continue  # fixed interfaces: nothing to follow
            current = await asyncio.to_thread(_own_addresses, None)
            if current != self._addresses:
                log.info("network addresses changed; announcing again")
                await self._close()
                await self._open()

    def _on_change(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        if name == self._instance or state_change is ServiceStateChange.Removed:
            self.members_seen.pop(name, None)
            return
        task = asyncio.ensure_future(self._look_up(zeroconf, service_type, name))
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    async def _look_up(self, zeroconf: Zeroconf, service_type: str, name: str) -> None:
        try:
            info = AsyncServiceInfo(service_type, name)
            if not await info.async_request(zeroconf, RESOLVE_MILLISECONDS):
                return
            properties = info.properties or {}
            tag = properties.get(b"t")
            circle = self._circle
            if circle is None or not isinstance(tag, bytes) or info.port is None:
                return
            if not recognise(circle, tag.decode("ascii", "replace"), info.port):
                return  # another circle's peer, or noise: not ours to dial
            addresses = [
                f"{a}:{info.port}"
                for a in info.parsed_addresses(IPVersion.V4Only)[:MAX_ADDRESSES_PER_PEER]
            ]
        except Exception:  # anything odd from the network is dropped, never raised
            log.debug("ignoring an announcement that could not be read", exc_info=True)
            return
        if addresses and self.members_seen.get(name) != addresses:
            self.members_seen[name] = addresses
            log.info("found a member of the circle at %s", ", ".join(addresses))
            self._on_found(addresses)
