"""Hostile members: a member of the circle that floods, lies and sends garbage at an honest peer.

The hostile member holds the circle's secret, so it passes the link handshake like any member;
then it misbehaves. Each scenario starts a fresh honest daemon H (a real ``natakanu-peer
daemon``, see ``peers.Daemon``) and an honest peer O in the same circle, and this process plays
the hostile member against H:

- flooding operations: gossip messages full of validly signed operations on 1,024-byte keys,
  its own author first, then authors it makes up; at the end, operations H must refuse
  (forged signatures, numbers past the per-author quota or outside what the message vouches
  for), one message per link;
- flooding requests: hash-exchange requests for 4,096 hashes each, as fast as it can, never
  reading the answers; then tiny requests faster than the per-link rate;
- flooding connections: hundreds of connections at once and in a loop: idle TCP, garbage in
  place of TLS, idle TLS, garbage after TLS, WebSocket upgrades left silent, member links,
  garbage after the membership handshake;
- wrong content: H fetches a file that the hostile member and O both offer; the hostile
  member links first and answers every request with wrong bytes, links again at once every
  time, and H is given O's address once it has turned down the first lie;
- oversized and malformed frames: messages over the WebSocket limit, frame headers claiming
  2^62 bytes, gossip frames over 1 MiB, truncated messages, empty frames, unknown channels,
  text messages, garbage; once refused, it goes on under new identities (any member can
  make some);
- traversal names: manifests whose names try to leave the downloads folder (``..``, absolute
  paths, NUL, device names), which H is asked to fetch.

Meanwhile an honest transfer runs (O fetching a file from H; in "wrong content", H fetching
from O), to show honest peers are still served. H's resident memory (VmRSS in /proc) is
sampled every 0.1 s. What must hold, each time: H's peak memory grows at most ``BOUND_MB``
over what it held idle just before; H stays up; the honest transfer completes byte-identical;
the hostile member ends up refused, or what it sent is rejected (H closes its links, refuses
its manifests). ``main`` prints a Markdown table of it.

It must never talk to anything but its own daemons on 127.0.0.1, nor touch their state except
through their command line and control API; it never changes what the daemons do. A flood
stops early when H passes ``SAFETY_MB`` (the machine is shared); the row then says so.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import logging
import os
import random
import re
import ssl
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from ..bench.syncthing import same_file
from ..bench.transfer import resident_kib
from ..errors import RemoteProtocolError, UsageError
from ..hashing import BLAKE3
from ..identity import Identity
from ..net import control, tls
from ..net.peer_link import (
    CHANNEL_EXCHANGE,
    CHANNEL_GOSSIP,
    MAX_MESSAGE_BYTES,
    PEER_PATH,
    PeerLink,
)
from ..protocol import hash_exchange as hx
from ..protocol import limits
from ..protocol.circle import CircleKeys, decode_invitation
from ..protocol.gossip_messages import (
    AuthorBatch,
    Delta,
    Hello,
    Operation,
    OpKind,
    encode_message,
    signing_payload,
)
from ..protocol.manifest import CHUNK_SIZE, manifest_digest_of_key, manifest_key
from ..storage.paths import DataPaths
from .peers import Daemon, without_hints

log = logging.getLogger(__name__)

MIB = 1024 * 1024
#: Most H's peak memory may grow over its idle memory during a scenario.
BOUND_MB = 100
#: A flood stops here, bound or not: other work shares this machine.
SAFETY_MB = 3072
SAMPLE_SECONDS = 0.1
#: How long each hostile scenario lasts, in full and in short.
FULL_SECONDS, QUICK_SECONDS = 20.0, 5.0
#: The honest file, in MiB: big enough that its transfer is not over in an instant.
FULL_FILM_MB, QUICK_FILM_MB = 512, 128
#: Connections the connection flood keeps open at once.
FULL_CONNECTIONS, QUICK_CONNECTIONS = 500, 150
#: Operations per gossip message: of 1,024-byte keys, just under the 1 MiB frame limit.
OPS_PER_FRAME = 900
HOST = "127.0.0.1"

_TLS = tls.client_context()
#: Why a hostile link ended when H stopped reading it without closing it.
STALLED = "H stopped reading the link"


# ------------------------------------------------------------------------------ memory


def rss_mb(pid: int) -> float | None:
    """Resident memory of process ``pid`` in MB, or None when it is gone."""
    kib = resident_kib(pid)
    return kib / 1024 if kib else None


class _Memory(threading.Thread):
    """Samples one process's resident memory every ``SAMPLE_SECONDS``, beside the loop."""

    def __init__(self, pid: int) -> None:
        super().__init__(name=f"rss-{pid}", daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []  # (monotonic time, MB)
        self.over_safety = threading.Event()
        self._finish = threading.Event()

    def run(self) -> None:
        while True:
            mb = rss_mb(self.pid)
            if mb is None:
                return
            self.samples.append((time.monotonic(), mb))
            if mb > SAFETY_MB:
                self.over_safety.set()
            if self._finish.wait(SAMPLE_SECONDS):
                return

    def finish(self) -> None:
        self._finish.set()
        self.join(5)

    def between(self, start: float, end: float) -> list[float]:
        return [mb for at, mb in list(self.samples) if start <= at <= end]


# ------------------------------------------------------------------------------ the stage


class _NotLinked(Exception):
    """H did not take the link; ``refused``: because it refuses this member for a while."""

    def __init__(self, reason: str, refused: bool = False) -> None:
        super().__init__(reason)
        self.refused = refused


@dataclass(eq=False)
class _Stage:
    """One scenario: H, O, the file, the circle's secret, and what the hostile member saw."""

    folder: Path
    honest: Daemon  # H
    other: Daemon  # O
    film: Path
    chunk_hashes: tuple[str, ...]
    seconds: float
    quick: bool
    key: str = ""
    circle: CircleKeys | None = None
    memory: _Memory | None = None
    started: float = 0.0
    identities: list[Identity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Hostile messages or connections H rejected (closed, refused), as the scenario counts.
    rejected: int = 0
    #: Links that passed the handshake only to be closed at once: the member is refused.
    refused_links: int = 0
    #: Why H closed the hostile member's links, as H told it in the closing frame.
    close_reasons: Counter[str] = field(default_factory=Counter)
    #: Something the scenario found wrong in itself (a file written outside, say).
    failed: list[str] = field(default_factory=list)
    honest_task: asyncio.Task[tuple[bool, float, str]] | None = None
    #: The daemon that shares the honest file (the other one fetches it).
    key_owner: Daemon | None = None

    @property
    def port(self) -> int:
        return int(self.honest.address.rsplit(":", 1)[1])

    @property
    def manifest_hash(self) -> str:
        digest = manifest_digest_of_key(bytes.fromhex(self.key))
        assert digest is not None
        return digest.hex()

    def over(self, until: float | None = None) -> bool:
        """The attack must end: its time is up, or H's memory passed the safety limit."""
        if self.memory is not None and self.memory.over_safety.is_set():
            return True
        end = self.started + self.seconds if until is None else until
        return time.monotonic() >= end

    def new_identity(self) -> Identity:
        """One more identity of the hostile member (the first is the one judged)."""
        identity = Identity.generate()
        self.identities.append(identity)
        return identity

    def start_honest(self) -> None:
        """Start the honest transfer (once): O fetches from H, or H from O if H is not the
        sharer."""
        if self.honest_task is not None:
            return
        h_fetches = self.key_owner is self.other
        fetcher = self.honest if h_fetches else self.other
        target = self.folder / ("H-downloads" if h_fetches else "O-downloads")
        self.honest_task = asyncio.create_task(_honest_fetch(self, fetcher, target))


# ------------------------------------------------------------------------------ control


async def _ask(daemon: Daemon, name: str, body: dict[str, Any] | None = None,
               timeout: float = 15.0) -> Any:  # fmt: skip
    """One command on a daemon's control API (what the command line sends), in this loop."""
    paths = DataPaths(daemon.data_dir)
    return await asyncio.wait_for(
        control.call(paths.control, daemon.data_dir, name, body or {}), timeout
    )


async def _until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def _honest_fetch(stage: _Stage, fetcher: Daemon, target: Path) -> tuple[bool, float, str]:
    """Fetch the honest file as the command line does; (identical, seconds, what went wrong)."""
    started = time.monotonic()
    timeout = 40.0 if stage.quick else 120.0
    try:
        answer = await _ask(fetcher, "fetch", {"key": stage.key, "to": str(target)}, timeout)
    except TimeoutError:
        return False, time.monotonic() - started, f"not complete after {timeout:.0f} s"
    except UsageError as exc:
        return False, time.monotonic() - started, f"failed: {exc}"
    seconds = time.monotonic() - started
    path = Path(answer["path"])
    same = await asyncio.to_thread(same_file, path, stage.film)
    with contextlib.suppress(OSError):
        path.unlink()  # six copies of a large file would fill a small disk
    return same, seconds, "" if same else "arrived with different bytes"


# ------------------------------------------------------------------------------ hostile links


class _Link:
    """One link of the hostile member to H, past the membership handshake."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.peer = PeerLink(ws, initiator=True, remote_host=HOST, session=session)
        self.close_reason: str | None = None
        self.pending: list[tuple[int, bytes]] = []

    @property
    def closed(self) -> bool:
        return self.close_reason is not None or self.ws.closed

    def transport(self) -> asyncio.Transport | None:
        # The WebSocket's own transport, to write what no WebSocket client would.
        transport: asyncio.Transport | None = self.ws._writer.transport
        return transport

    async def receive(self, timeout: float | None = None) -> tuple[int, bytes] | None:
        """The next frame from H, or None once H closed the link (``close_reason`` says why)."""
        if self.pending:
            return self.pending.pop(0)
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type is aiohttp.WSMsgType.BINARY:
                data: bytes = message.data
                if data:
                    return data[0], data[1:]
                continue
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                if self.close_reason is None:
                    extra = message.extra if message.type is aiohttp.WSMsgType.CLOSE else None
                    self.close_reason = str(extra or "") or "the link ended"
                return None

    async def wait_closed(self, timeout: float) -> bool:
        """Read and drop H's frames until it closes the link; whether it did in time."""
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                if await self.receive(timeout=left) is None:
                    return True
        except TimeoutError:
            pass
        return False

    async def drain(self) -> None:
        """Read and drop everything H sends, until it closes the link."""
        with contextlib.suppress(TimeoutError):
            while await self.receive() is not None:
                pass

    async def send(self, channel: int, payload: bytes, timeout: float = 10.0) -> bool:
        """Send one frame; False once the link is gone, or H stopped reading it."""
        return await self.send_raw(bytes((channel,)) + payload, timeout)

    async def send_raw(self, message: bytes, timeout: float = 10.0) -> bool:
        if self.closed:
            return False
        try:
            # A send that waits this long means H no longer reads the link; the link is
            # given up, so a frame cut short by the timeout does not matter.
            await asyncio.wait_for(self.ws.send_bytes(message), timeout)
        except TimeoutError:
            self.close_reason = self.close_reason or STALLED
            return False
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            if self.close_reason is None:
                self.close_reason = "the link ended while sending"
            return False
        return True

    async def close(self) -> None:
        # ws_close is short (see _open_link): a flooded H may never answer the closing frame.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(), 2.0)
        await self.session.close()


async def _open_link(stage: _Stage, identity: Identity) -> _Link:
    """A link of ``identity`` to H, past the membership handshake and accepted by H;
    ``_NotLinked`` when H does not take it."""
    assert stage.circle is not None
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=10))
    try:
        ws = await session.ws_connect(
            f"https://{HOST}:{stage.port}{PEER_PATH}",
            ssl=_TLS,
            max_msg_size=MAX_MESSAGE_BYTES,
            timeout=aiohttp.ClientWSTimeout(ws_close=1.0),
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        await session.close()
        raise _NotLinked(f"cannot connect: {exc}") from None
    except BaseException:  # cancelled: the session still has to be closed
        await session.close()
        raise
    link = _Link(session, ws)
    try:
        await asyncio.wait_for(
            link.peer.handshake(identity, [stage.circle], "hostile member", None), 10
        )
        # H closes the link of a member it refuses right after the handshake, before
        # anything else; an accepted link opens with H's frames.
        first = await link.receive(timeout=10)
    except (RemoteProtocolError, ConnectionError, TimeoutError) as exc:
        await link.close()
        raise _NotLinked(f"handshake failed: {exc}") from None
    except BaseException:
        await link.close()
        raise
    if first is None:
        await link.close()
        reason = link.close_reason or ""
        if "refused" in reason:
            stage.refused_links += 1
        raise _NotLinked(reason, refused="refused" in reason)
    link.pending.append(first)
    return link


async def _linked(stage: _Stage, identity: Identity) -> _Link | None:
    """``_open_link``, or None (after a short pause) when H does not take it."""
    try:
        return await _open_link(stage, identity)
    except _NotLinked as exc:
        if exc.refused:
            return None
        await asyncio.sleep(0.1)
        return None


def _noted(stage: _Stage, link: _Link) -> None:
    """Remember why H closed a link, if it said."""
    reason = link.close_reason or ""
    if reason and reason not in ("the link ended", "the link ended while sending", STALLED):
        stage.close_reasons[_shorten(reason)] += 1


def _shorten(text: str, size: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1] + "…"


@functools.cache
def _junk(size: int) -> bytes:
    # One buffer per size: the floods resend it rather than spend the CPU drawing more.
    return os.urandom(size)


def _ws_header(length: int) -> bytes:
    """A masked binary WebSocket frame header announcing ``length`` bytes (a client's)."""
    first = 0x80 | 0x2  # FIN, binary
    if length < 126:
        head = bytes((first, 0x80 | length))
    elif length < 1 << 16:
        head = bytes((first, 0x80 | 126)) + length.to_bytes(2, "big")
    else:
        head = bytes((first, 0x80 | 127)) + length.to_bytes(8, "big")
    return head + os.urandom(4)


# ------------------------------------------------------------------------------ a. operations


def _signed_delta(topic: str, author: Identity, first: int, count: int,
                  signer: Identity | None = None) -> bytes:  # fmt: skip
    """A gossip Delta of ``count`` advertises of fresh 1,024-byte keys by ``author``, numbered
    from ``first``; signed by ``signer`` (another identity: every signature is wrong)."""
    keys = os.urandom(limits.MAX_KEY_BYTES * count)
    signing = signer or author
    ops = []
    for n in range(count):
        seq = first + n
        key = keys[n * limits.MAX_KEY_BYTES : (n + 1) * limits.MAX_KEY_BYTES]
        payload = signing_payload(topic, author.public_key, seq, OpKind.ADVERTISE, key)
        ops.append(Operation(author.public_key, seq, OpKind.ADVERTISE, key, signing.sign(payload)))
    batch = AuthorBatch(author.public_key, ((first, first + count - 1),), tuple(ops))
    return encode_message(Delta((batch,)))


def _invalid_delta(topic: str, author: Identity, variant: int) -> tuple[str, bytes]:
    """One gossip message H must refuse, and what is wrong with it."""
    if variant == 0:
        return "forged signatures", _signed_delta(topic, author, 1, 100, Identity.generate())
    key = b"k" * 16
    if variant == 1:
        seq = limits.MAX_OPS_PER_AUTHOR + 1
        covered: tuple[tuple[int, int], ...] = ((seq, seq),)
        what = "a number past the per-author quota"
    else:
        seq, covered = 5, ((1, 1),)
        what = "an operation outside the numbers its message vouches for"
    payload = signing_payload(topic, author.public_key, seq, OpKind.ADVERTISE, key)
    op = Operation(author.public_key, seq, OpKind.ADVERTISE, key, author.sign(payload))
    return what, encode_message(Delta((AuthorBatch(author.public_key, covered, (op,)),)))


async def _flood_operations(stage: _Stage) -> None:
    assert stage.circle is not None
    member = stage.new_identity()
    topic = stage.circle.topic
    valid_until = stage.started + 0.6 * stage.seconds
    # H first works through what the flood left in its buffers; the refused messages get
    # a little longer than the flood's time, to show whether refusal follows.
    invalid_until = stage.started + stage.seconds + (5 if stage.quick else 10)
    frames: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue(maxsize=4)
    authors = 1

    async def produce() -> None:
        # Signing happens beside the loop, a few messages ahead of the link.
        nonlocal authors
        author, seq = member, 0
        while True:
            if seq >= limits.MAX_OPS_PER_AUTHOR:
                # Its own author's quota is spent: a member may sign as any number of
                # authors it makes up, and the key set does not tie authors to members.
                author, seq, authors = Identity.generate(), 0, authors + 1
            count = min(OPS_PER_FRAME, limits.MAX_OPS_PER_AUTHOR - seq)
            frame = await asyncio.to_thread(_signed_delta, topic, author, seq + 1, count)
            seq += count
            await frames.put((count, frame))

    async def refused_message(link: _Link, kinds: set[str], n: int) -> None:
        """Send one message H must refuse; count it when H closes the link for it."""
        what, frame = _invalid_delta(topic, member, n % 3)
        kinds.add(what)
        if await link.send(CHANNEL_GOSSIP, frame) and await link.wait_closed(30):
            stage.rejected += 1
        _noted(stage, link)

    producer = asyncio.create_task(produce())
    sent = links = invalid = 0
    kinds: set[str] = set()
    try:
        while not stage.over(valid_until):
            link = await _linked(stage, member)
            if link is None:
                if stage.refused_links:
                    break
                continue
            links += 1
            reader = asyncio.create_task(link.drain())
            try:
                if not await link.send(CHANNEL_GOSSIP, encode_message(Hello(topic))):
                    continue
                while not stage.over(valid_until):
                    try:
                        count, frame = await asyncio.wait_for(frames.get(), 1.0)
                    except TimeoutError:
                        continue
                    if not await link.send(CHANNEL_GOSSIP, frame):
                        break
                    sent += count
            finally:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            if not link.closed:
                # The last message on this link is one H must refuse (a new link would be
                # turned away as a duplicate while H still works through this one's backlog).
                await refused_message(link, kinds, invalid)
                invalid += 1
            else:
                _noted(stage, link)
                stage.rejected += 1 if link.close_reason else 0
            await link.close()
    finally:
        producer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await producer
    stage.notes.append(
        f"{sent:,} valid operations on 1,024-byte keys sent over {links} link(s), "
        f"{authors} author(s)"
    )
    # Then badly formed or badly signed operations, one message per link, until refused.
    while not stage.over(invalid_until):
        link = await _linked(stage, member)
        if link is None:
            if stage.refused_links:
                break
            continue
        try:
            await link.send(CHANNEL_GOSSIP, encode_message(Hello(topic)))
            await refused_message(link, kinds, invalid)
            invalid += 1
        finally:
            await link.close()
    stage.notes.append(f"then {invalid} message(s) with {' / '.join(sorted(kinds)) or '-'}")


# ------------------------------------------------------------------------------ b. requests


async def _flood_requests(stage: _Stage) -> None:
    member = stage.new_identity()
    # Hashes H does not have (answered "not here"), and the chunks of its file (read from
    # disk and sent: 4 MiB each); the same encoded messages again and again, as fast as the
    # link takes them.
    absent = tuple(os.urandom(32).hex() for _ in range(limits.MAX_HASHES_PER_MESSAGE))
    many = hx.encode_message(hx.Request(absent))
    real = hx.encode_message(hx.Request(stage.chunk_hashes))
    tiny = hx.encode_message(hx.Request((os.urandom(32).hex(),)))
    half = stage.started + stage.seconds / 2
    big = small = links = 0
    stalled_at: float | None = None
    while not stage.over():
        link = await _linked(stage, member)
        if link is None:
            if stage.refused_links:
                break
            continue
        links += 1
        try:
            # It never reads what H answers: H's answers wait wherever H keeps them.
            n = 0
            while not stage.over():
                if time.monotonic() < half:
                    payload = real if n % 64 == 0 else many
                    big += 1
                else:
                    payload = tiny  # many messages: past the per-link rate
                    small += 1
                if not await link.send(CHANNEL_EXCHANGE, payload, timeout=2.0):
                    break
                n += 1
                if n % 16 == 0:
                    await asyncio.sleep(0)
            if link.close_reason == STALLED:
                # H no longer reads this link. Holding it (still never reading) costs the
                # hostile member nothing; it lets go when the scenario ends.
                stalled_at = stalled_at or time.monotonic()
                while not stage.over():
                    await asyncio.sleep(0.1)
        finally:
            await link.close()
    stage.notes.append(
        f"{big:,} requests of {limits.MAX_HASHES_PER_MESSAGE:,} hashes, then {small:,} "
        f"one-hash requests, over {links} link(s), answers never read"
    )
    if stalled_at is not None:
        stage.notes.append(
            f"H stopped reading the link {stalled_at - stage.started:.1f} s in; the hostile "
            "member held it, never reading, until the end"
        )


# ------------------------------------------------------------------------------ c. connections

_KINDS = (
    "idle TCP",
    "garbage instead of TLS",
    "idle TLS",
    "garbage after TLS",
    "silent WebSocket",
    "member link",
    "garbage after the handshake",
)


async def _hold(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Keep a connection for ``seconds``, reading what comes; whether H closed it first."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            if not await asyncio.wait_for(reader.read(65536), left):
                return True
    except TimeoutError:
        return False
    except (ConnectionError, ssl.SSLError):
        return True
    return False


async def _one_connection(stage: _Stage, kind: str, member: Identity, seconds: float) -> bool:
    """One connection of ``kind``, held ``seconds``; whether H closed it first."""
    if kind in ("member link", "garbage after the handshake"):
        try:
            link = await _open_link(stage, member)
        except _NotLinked:
            return True
        try:
            if kind == "garbage after the handshake":
                await link.send(0xEE, _junk(512))  # a channel that does not exist
            return await link.wait_closed(seconds)
        finally:
            await link.close()
    encrypted = kind not in ("idle TCP", "garbage instead of TLS")
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(HOST, stage.port, ssl=_TLS if encrypted else None), 15
    )
    try:
        if kind in ("garbage instead of TLS", "garbage after TLS"):
            writer.write(_junk(4096))
        elif kind == "silent WebSocket":
            nonce = base64.b64encode(os.urandom(16)).decode()
            writer.write(
                f"GET {PEER_PATH} HTTP/1.1\r\nHost: {HOST}:{stage.port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
            )
        return await _hold(reader, seconds)
    finally:
        writer.transport.abort()  # at once: no goodbye, as a flood does


async def _flood_connections(stage: _Stage) -> None:
    member = stage.new_identity()
    slots = QUICK_CONNECTIONS if stage.quick else FULL_CONNECTIONS
    tally: Counter[str] = Counter()
    latencies: list[float] = []

    async def slot(n: int) -> None:
        kind = _KINDS[n % len(_KINDS)]
        rng = random.Random(n)
        while not stage.over():
            try:
                first = await _one_connection(stage, kind, member, rng.uniform(0.5, 3.0))
            except (OSError, ssl.SSLError, aiohttp.ClientError, TimeoutError):
                tally["could not connect"] += 1
                await asyncio.sleep(0.1)
                continue
            except Exception as exc:  # one odd connection must not end the flood
                tally["could not connect"] += 1
                log.debug("connection flood: %r", exc)
                await asyncio.sleep(0.1)
                continue
            tally["connections"] += 1
            if first:
                tally["closed by H"] += 1
                tally[f"closed by H: {kind}"] += 1

    async def watch() -> None:
        # The control API shares H's loop: how long a command takes shows how busy it is.
        while not stage.over():
            began = time.monotonic()
            with contextlib.suppress(Exception):
                await _ask(stage.honest, "status", timeout=30)
            latencies.append(time.monotonic() - began)
            await asyncio.sleep(0.5)

    await asyncio.gather(*(slot(n) for n in range(slots)), watch())
    stage.rejected += tally["closed by H"]
    kinds = ", ".join(
        f"{kind} {tally[f'closed by H: {kind}']}"
        for kind in _KINDS
        if tally[f"closed by H: {kind}"]
    )
    stage.notes.append(
        f"{slots} connections at once, {tally['connections']:,} in all "
        f"({tally['could not connect']:,} could not connect); closed by H first: "
        f"{tally['closed by H']:,} ({kinds})"
    )
    if latencies:
        stage.notes.append(f"status command took at most {max(latencies):.2f} s during the flood")


# ------------------------------------------------------------------------------ d. wrong content


async def _serve_wrong(
    stage: _Stage, link: _Link, hashes: tuple[str, ...], sizes: dict[str, int]
) -> None:
    """Offer ``hashes`` and answer every request with wrong bytes of the right size."""
    seq = 0
    while not stage.over():
        try:
            frame = await link.receive(timeout=0.5)
        except TimeoutError:
            continue  # not asked anything: it waits, linked, offering
        if frame is None:
            return
        channel, payload = frame
        if channel != CHANNEL_EXCHANGE:
            continue
        message = hx.decode_message(payload)
        if isinstance(message, hx.Since):
            if not await link.send(CHANNEL_EXCHANGE, hx.encode_message(hx.Provide(hashes))):
                return
        elif isinstance(message, hx.Request):
            for hash_ in message.hashes:
                seq += 1
                wrong = hx.Deliver(hash_, seq, _junk(sizes.get(hash_, 1024)))
                if not await link.send(CHANNEL_EXCHANGE, hx.encode_message(wrong)):
                    return


async def _wrong_content(stage: _Stage) -> None:
    member = stage.new_identity()
    hashes = (stage.manifest_hash, *stage.chunk_hashes)
    size = stage.film.stat().st_size
    sizes = {h: min(CHUNK_SIZE, size - i * CHUNK_SIZE) for i, h in enumerate(stage.chunk_hashes)}
    links = 0

    async def lie() -> None:
        # Back at once after every closing, to be asked again; refused, it keeps knocking.
        nonlocal links
        while not stage.over():
            link = await _linked(stage, member)
            if link is None:
                if stage.refused_links:
                    await asyncio.sleep(0.2)
                continue
            links += 1
            try:
                await _serve_wrong(stage, link, hashes, sizes)
            except (RemoteProtocolError, TimeoutError):
                pass
            finally:
                _noted(stage, link)
                if link.close_reason and "does not match" in link.close_reason:
                    stage.rejected += 1
                await link.close()

    liar = asyncio.create_task(lie())
    try:
        # The liar links first and H starts the fetch: the liar answers first. Once H has
        # turned down its first lie, H is given O's address (as a person would) and both
        # offer the file while it comes.
        await _until(lambda: _true(links > 0), 20, "the hostile member linking with H")
        stage.start_honest()
        await _until(lambda: _true(stage.rejected > 0), 20, "H turning down the first lie")
        await _ask(stage.honest, "add-peer", {"address": stage.other.address})
        await liar
    finally:
        liar.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await liar
    stage.notes.append(
        f"{links} link(s) answering with wrong bytes, then {stage.refused_links} link(s) "
        "refused right after the handshake"
    )


async def _true(value: bool) -> bool:
    return value


# ------------------------------------------------------------------------------ e. bad frames


async def _oversized_message(link: _Link, topic: str) -> None:
    await link.send(CHANNEL_GOSSIP, _junk(MAX_MESSAGE_BYTES + 1024))


async def _huge_header(link: _Link, topic: str) -> None:
    transport = link.transport()
    if transport is not None:
        transport.write(_ws_header(2**62) + _junk(1024))


async def _gossip_over_limit(link: _Link, topic: str) -> None:
    await link.send(CHANNEL_GOSSIP, _junk(limits.MAX_GOSSIP_FRAME_BYTES + MIB))


async def _truncated_gossip(link: _Link, topic: str) -> None:
    whole = _signed_delta(topic, Identity.generate(), 1, 10)
    await link.send(CHANNEL_GOSSIP, encode_message(Hello(topic)))
    await link.send(CHANNEL_GOSSIP, whole[: len(whole) // 2])


async def _truncated_exchange(link: _Link, topic: str) -> None:
    whole = hx.encode_message(hx.Request(tuple(os.urandom(32).hex() for _ in range(100))))
    await link.send(CHANNEL_EXCHANGE, whole[: len(whole) // 2])


async def _empty_frame(link: _Link, topic: str) -> None:
    await link.send_raw(b"")


async def _unknown_channel(link: _Link, topic: str) -> None:
    await link.send(200, _junk(100))


async def _text_message(link: _Link, topic: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError, aiohttp.ClientError):
        await link.ws.send_str("is anybody there?")


async def _garbage_exchange(link: _Link, topic: str) -> None:
    await link.send(CHANNEL_EXCHANGE, _junk(1000))


async def _cut_off_frame(link: _Link, topic: str) -> None:
    transport = link.transport()
    if transport is not None:
        transport.write(_ws_header(MIB) + _junk(1024))
        await asyncio.sleep(0.05)
        transport.abort()  # the rest of the frame never comes


async def _garbage_frames(link: _Link, topic: str) -> None:
    transport = link.transport()
    if transport is not None:
        transport.write(_junk(4096))  # not WebSocket framing at all


_BAD_FRAMES: tuple[tuple[str, Callable[[_Link, str], Awaitable[None]]], ...] = (
    ("message over the WebSocket limit", _oversized_message),
    ("frame header claiming 2^62 bytes", _huge_header),
    ("gossip frame over 1 MiB", _gossip_over_limit),
    ("truncated gossip message", _truncated_gossip),
    ("truncated exchange message", _truncated_exchange),
    ("empty frame", _empty_frame),
    ("unknown channel", _unknown_channel),
    ("text message", _text_message),
    ("garbage on the exchange channel", _garbage_exchange),
    ("frame cut off", _cut_off_frame),
    ("garbage in place of frames", _garbage_frames),
)


async def _bad_frames(stage: _Stage) -> None:
    assert stage.circle is not None
    topic = stage.circle.topic
    identity = stage.new_identity()
    closed: Counter[str] = Counter()
    tried: Counter[str] = Counter()
    n = 0
    while not stage.over():
        name, action = _BAD_FRAMES[n % len(_BAD_FRAMES)]
        try:
            link = await _open_link(stage, identity)
        except _NotLinked as exc:
            if exc.refused:
                identity = stage.new_identity()  # refused: a new identity, as any member can
            else:
                await asyncio.sleep(0.1)
            continue
        n += 1
        tried[name] += 1
        try:
            await action(link, topic)
            if await link.wait_closed(5):
                closed[name] += 1
                stage.rejected += 1
                _noted(stage, link)
        finally:
            await link.close()
    kept = [name for name, _ in _BAD_FRAMES if tried[name] and not closed[name]]
    stage.notes.append(
        f"{n} bad links, {sum(closed.values())} closed by H; identities used "
        f"{len(stage.identities)}" + (f"; left open by H: {', '.join(kept)}" if kept else "")
    )


# ------------------------------------------------------------------------------ f. names


def _manifest(name: str, path: str, kind: str, content: bytes) -> bytes:
    """A manifest spelt exactly as the application spells them (only its names are evil)."""
    document = {
        "chunk_size": CHUNK_SIZE,
        "files": [
            {
                "chunks": [BLAKE3.hash_of(content)],
                "media_type": "video/mp4",
                "path": path,
                "size": len(content),
            }
        ],
        "hash": "blake3",
        "kind": kind,
        "name": name,
        "version": 1,
    }
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")


def _evil_manifests(stage: _Stage, n: int) -> list[tuple[str, str, bytes]]:
    """(what, word the reason must hold, manifest body) for round ``n``."""
    absolute = str(stage.folder / f"absolute-owned-{n}")
    folder = [
        ("'..' in a path", "..", "../../outside-{n}.txt"),
        ("an absolute path", "absolute", absolute),
        ("'..' further in a path", "..", "a/../../outside-{n}.txt"),
    ]
    single = [
        ("a NUL in a name", "control character", "a\x00b-{n}.mp4"),
        ("a device name", "device", "CON.{n}.mp4"),
        ("another device name", "device", "nul.{n}.txt"),
    ]
    made = []
    for what, word, path in folder:
        made.append((what, word, _manifest("evil", path.format(n=n), "folder", b"owned")))
    for what, word, name in single:
        filled = name.format(n=n)
        made.append((what, word, _manifest(filled, filled, "file", b"owned")))
    made.append(("'..' as the name", "not a name", _manifest("..", f"x-{n}", "folder", b"owned")))
    return made


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


async def _traversal_names(stage: _Stage) -> None:
    member = stage.new_identity()
    content = b"owned"
    served: dict[str, bytes] = {BLAKE3.hash_of(content): content}
    offered: list[str] = [BLAKE3.hash_of(content)]
    link = await _linked(stage, member)
    if link is None:
        raise RuntimeError("the hostile member could not link with H")

    async def serve() -> None:
        seq = 0
        while (frame := await link.receive()) is not None:
            channel, payload = frame
            if channel != CHANNEL_EXCHANGE:
                continue
            message = hx.decode_message(payload)
            if isinstance(message, hx.Since):
                await link.send(CHANNEL_EXCHANGE, hx.encode_message(hx.Provide(tuple(offered))))
            elif isinstance(message, hx.Request):
                for hash_ in message.hashes:
                    seq += 1
                    body = served.get(hash_)
                    answer: hx.AnyMessage = (
                        hx.NotHere((hash_,)) if body is None else hx.Deliver(hash_, seq, body)
                    )
                    await link.send(CHANNEL_EXCHANGE, hx.encode_message(answer))

    server = asyncio.create_task(serve())
    downloads = stage.folder / "H-downloads"
    before = _files(stage.folder)
    refused = fetched = rounds = cut_short = 0
    wrong_reason: list[str] = []
    try:
        while (not stage.over() or rounds == 0) and not link.closed:
            made = _evil_manifests(stage, rounds)
            rounds += 1
            for _, _, body in made:
                served[BLAKE3.hash_of(body)] = body
            fresh = tuple(BLAKE3.hash_of(body) for _, _, body in made)
            offered.extend(fresh)
            await link.send(CHANNEL_EXCHANGE, hx.encode_message(hx.Provide(fresh)))

            async def fetch(body: bytes) -> str | None:
                key = manifest_key(BLAKE3.digest(body)).hex()
                try:
                    await _ask(stage.honest, "fetch", {"key": key, "to": str(downloads)}, 30)
                except UsageError as exc:
                    return str(exc)
                except TimeoutError:
                    return ""
                return None

            reasons = await asyncio.gather(*(fetch(body) for _, _, body in made))
            if not link.closed:
                await asyncio.sleep(0.5)  # H may be closing it (the reader above sees it)
            for (what, word, _), reason in zip(made, reasons, strict=True):
                if reason is None:
                    fetched += 1
                    stage.failed.append(f"the manifest with {what} was downloaded")
                elif word in reason:
                    refused += 1
                elif link.closed:
                    cut_short += 1  # H refused the member while this one was on its way
                else:
                    wrong_reason.append(f"{what}: {reason or 'no answer in 30 s'}")
    finally:
        server.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await server
        await link.close()
    allowed = (stage.honest.data_dir, stage.other.data_dir, stage.folder / "O-downloads")
    outside = [
        p
        for p in _files(stage.folder) - before
        if not any(p.is_relative_to(place) for place in allowed)
    ]
    if outside:
        stage.failed.append(f"written outside: {', '.join(str(p) for p in outside[:5])}")
    if downloads.exists() and any(downloads.iterdir()):
        stage.failed.append("something appeared in H's downloads folder")
    stage.rejected += refused
    stage.notes.append(
        f"{refused} of {refused + fetched + len(wrong_reason)} evil manifests refused with "
        f"the reason"
        + (f", {cut_short} more cut short when H refused the member" if cut_short else "")
        + f"; nothing written outside: {'yes' if not outside else 'NO'}"
    )
    if wrong_reason:
        stage.failed.append("refused without the expected reason: " + "; ".join(wrong_reason[:3]))


# ------------------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class _Scenario:
    name: str
    slug: str
    attack: Callable[[_Stage], Coroutine[Any, Any, None]]
    #: H fetches the honest file from O (else O fetches it from H).
    h_fetches: bool = False
    #: When O's fetch starts, as a fraction of the attack; None: the attack starts it.
    honest_at: float | None = 0.25


SCENARIOS = (
    _Scenario("flooding operations", "a-operations", _flood_operations),
    _Scenario("flooding requests", "b-requests", _flood_requests),
    _Scenario("flooding connections", "c-connections", _flood_connections),
    _Scenario("wrong content", "d-wrong-content", _wrong_content, h_fetches=True, honest_at=None),
    _Scenario("oversized and malformed frames", "e-frames", _bad_frames),
    _Scenario("traversal names", "f-names", _traversal_names),
)


def _make_film(path: Path, mb: int) -> tuple[str, ...]:
    """A file of random bytes, and the hashes of its chunks."""
    hashes = []
    with path.open("wb") as out:
        left = mb * MIB
        while left:
            chunk = os.urandom(min(CHUNK_SIZE, left))
            out.write(chunk)
            hashes.append(BLAKE3.hash_of(chunk))
            left -= len(chunk)
    return tuple(hashes)


async def _set_up(stage: _Stage, scenario: _Scenario) -> None:
    honest, other = stage.honest, stage.other
    await asyncio.gather(asyncio.to_thread(honest.start), asyncio.to_thread(other.start))
    if scenario.h_fetches:
        invitation = (await _ask(other, "invite"))["invitation"]
        # Without O's address: H links with O only when the scenario says.
        await _ask(honest, "join", {"invitation": without_hints(invitation)})
        stage.key_owner = other
    else:
        invitation = (await _ask(honest, "invite"))["invitation"]
        await _ask(other, "join", {"invitation": invitation})
        stage.key_owner = honest
    stage.circle = decode_invitation(invitation).keys
    shared = await _ask(stage.key_owner, "share", {"paths": [str(stage.film)]}, timeout=300)
    stage.key = str(shared[0]["key"])
    if not scenario.h_fetches:

        async def linked() -> bool:
            return any(p["online"] for p in await _ask(honest, "peers"))

        await _until(linked, 30, "O linking with H")


_REFUSING = re.compile(r"refusing ([0-9a-f]{16})")
_CLOSING = re.compile(
    r"link to ([0-9a-f]{16}) closed: |closing link to ([0-9a-f]{16}): "
    r"|link to ([0-9a-f]{16}) (dropped)"
)


def _refused_in_log(daemon: Daemon, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` (their first 16 characters) the daemon's log says it refused."""
    prefixes = {peer_id[:16] for peer_id in ids}
    found = (_REFUSING.search(line) for line in daemon.log().splitlines())
    return {m.group(1) for m in found if m is not None and m.group(1) in prefixes}


def _log_time(line: str) -> float | None:
    """When a log line was written (the daemon's plain log format), in seconds."""
    try:
        stamp, _, millis = line[:23].partition(",")
        return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000
    except ValueError:
        return None


def _closings(daemon: Daemon, ids: Sequence[str]) -> list[float | None]:
    """For each link of ``ids`` H closed for a broken rule: how long until H had dropped it
    (None: not yet). The strike is counted only once the closing is over."""
    prefixes = {peer_id[:16] for peer_id in ids}
    delays: list[float | None] = []
    open_since: dict[str, float] = {}
    for line in daemon.log().splitlines():
        match = _CLOSING.search(line)
        if match is None:
            continue
        peer = match.group(1) or match.group(2) or match.group(3)
        at = _log_time(line)
        if peer not in prefixes or at is None:
            continue
        if match.group(4) is None:
            open_since.setdefault(peer, at)
        elif peer in open_since:
            delays.append(at - open_since.pop(peer))
    delays.extend(None for _ in open_since)
    return delays


async def _judge(stage: _Stage) -> tuple[bool, str]:
    """Whether H refuses the hostile member (its first identity) now, and why."""
    deadline = time.monotonic() + 3
    while True:
        with contextlib.suppress(Exception):
            for peer in await _ask(stage.honest, "peers"):
                if peer["peer_id"] == stage.identities[0].peer_id and peer["refused"]:
                    return True, str(peer["refused"]["reason"])
        if time.monotonic() > deadline or not stage.identities:
            return False, ""
        await asyncio.sleep(0.2)


async def _run_scenario(folder: Path, film: Path, hashes: tuple[str, ...],
                        scenario: _Scenario, quick: bool) -> dict[str, Any]:  # fmt: skip
    seconds = QUICK_SECONDS if quick else FULL_SECONDS
    stage = _Stage(
        folder=folder,
        honest=Daemon(folder / "H", name="H"),
        other=Daemon(folder / "O", name="O"),
        film=film,
        chunk_hashes=hashes,
        seconds=seconds,
        quick=quick,
    )
    result: dict[str, Any] = {
        "scenario": scenario.name,
        "peak_rss_mb": None,
        "idle_rss_mb": None,
        "growth_mb": None,
        "honest_ok": False,
        "honest_seconds": None,
        "honest_mb": film.stat().st_size // MIB,
        "hostile_refused": False,
        "rejected": 0,
        "alive": False,
        "notes": "",
        "met": False,
    }
    notes = stage.notes
    try:
        await _set_up(stage, scenario)
        assert stage.honest.process is not None
        memory = stage.memory = _Memory(stage.honest.process.pid)
        memory.start()
        quiet = time.monotonic()
        await asyncio.sleep(0.6 if quick else 2.0)
        idle = statistics.median(memory.between(quiet, time.monotonic()) or [0.0])
        stage.started = time.monotonic()
        attack = asyncio.create_task(scenario.attack(stage))
        if scenario.honest_at is not None:
            await asyncio.sleep(seconds * scenario.honest_at)
            stage.start_honest()
        try:
            await asyncio.wait_for(asyncio.shield(attack), seconds + 60)
        except TimeoutError:
            attack.cancel()
            notes.append("the attack did not end in time")
        except Exception as exc:  # the scenario itself went wrong: say so in the row
            log.exception("%s", scenario.name)
            stage.failed.append(f"the scenario failed: {exc!r}")
        stage.start_honest()  # if the attack ended before it could start it
        assert stage.honest_task is not None
        honest_ok, honest_seconds, honest_note = await stage.honest_task
        ended = time.monotonic()
        peak = max(memory.between(stage.started, ended) or [0.0])
        refused, reason = await _judge(stage)
        if peak - idle > BOUND_MB:
            await asyncio.sleep(2)  # what H still holds after the attack: kept, or given back
        after_at = time.monotonic()
        after = memory.between(ended, after_at)
        alive = stage.honest.process.poll() is None
        if alive:
            try:
                await _ask(stage.honest, "status")
            except Exception as exc:  # up but not answering is not alive for a person
                alive = False
                notes.append(f"H does not answer: {exc}")
        if after and peak - idle > BOUND_MB:
            notes.append(f"H held {after[-1]:.0f} MB {after_at - ended:.0f} s after the attack")
        if memory.over_safety.is_set():
            notes.append(f"flood stopped early: H passed {SAFETY_MB} MB")
        if honest_note:
            notes.append(f"honest transfer {honest_note}")
        if reason:
            notes.append(f"H says: {_shorten(reason, 140)}")
        ids = [i.peer_id for i in stage.identities]
        if len(stage.identities) > 1:
            refused_ids = _refused_in_log(stage.honest, ids)
            notes.append(f"identities refused: {len(refused_ids)} of {len(stage.identities)}")
        closings = _closings(stage.honest, ids)
        stage.rejected = max(stage.rejected, len(closings))
        slow = [d for d in closings if d is None or d > 5]
        if slow:
            longest = max((d for d in slow if d is not None), default=None)
            notes.append(
                f"H closed {len(closings)} of its links for a broken rule but took "
                + (f"up to {longest:.0f} s" if longest is not None else "for ever")
                + " to finish closing one"
                + (" (still open at the end)" if None in slow else "")
                + ": the strike waits for that"
            )
        if stage.close_reasons:
            common = "; ".join(f"{r} (x{c})" for r, c in stage.close_reasons.most_common(3))
            notes.append(f"H closed its links: {common}")
        if scenario.slug.startswith("a-") and alive:
            status = await _ask(stage.honest, "status")
            notes.append(f"H lists {status['keys']:,} keys")
        notes.extend(stage.failed)
        growth = peak - idle
        bounded = growth <= BOUND_MB and not memory.over_safety.is_set()
        result.update(
            peak_rss_mb=round(peak, 1),
            idle_rss_mb=round(idle, 1),
            growth_mb=round(growth, 1),
            honest_ok=honest_ok,
            honest_seconds=round(honest_seconds, 2),
            hostile_refused=refused,
            rejected=stage.rejected,
            alive=alive,
            met=(
                alive
                and bounded
                and honest_ok
                and (refused or stage.rejected > 0)
                and not stage.failed
            ),
        )
    except Exception as exc:  # setting up went wrong: the row says so, the others still run
        log.exception("%s", scenario.name)
        notes.append(f"the scenario could not run: {exc!r}")
    finally:
        if stage.memory is not None:
            stage.memory.finish()
        if stage.honest_task is not None and not stage.honest_task.done():
            stage.honest_task.cancel()
        result["log_tail"] = [
            line
            for line in stage.honest.log().splitlines()
            if " WARNING " in line or " ERROR " in line or "Traceback" in line
        ][-15:]
        await asyncio.gather(
            *(
                asyncio.to_thread(d.stop)
                for d in (stage.honest, stage.other)
                if d.process is not None
            ),
            return_exceptions=True,
        )
    result["notes"] = "; ".join(notes)
    return result


def run_hostile(root: Path, quick: bool = False) -> list[dict[str, Any]]:
    """Every hostile-member scenario against its own fresh daemons under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    film = root / "film.bin"
    hashes = _make_film(film, QUICK_FILM_MB if quick else FULL_FILM_MB)
    results = []
    for scenario in SCENARIOS:
        log.info("hostile member: %s", scenario.name)
        folder = root / scenario.slug
        folder.mkdir()
        results.append(asyncio.run(_run_scenario(folder, film, hashes, scenario, quick)))
    return results


def markdown_table(results: Sequence[dict[str, Any]]) -> str:
    lines = [
        f"| scenario | H memory: peak / growth over idle (bound: {BOUND_MB} MB) "
        "| honest transfer | hostile member | met |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        if r["peak_rss_mb"] is None:
            memory = "—"
        else:
            memory = f"{r['peak_rss_mb']:.0f} MB / +{r['growth_mb']:.0f} MB"
            if r["growth_mb"] > BOUND_MB:
                memory += " (over)"
        if r["honest_seconds"] is None:
            honest = "—"
        elif r["honest_ok"]:
            honest = f"{r['honest_mb']} MiB byte-identical in {r['honest_seconds']:.1f} s"
        else:
            honest = f"**not completed** ({r['honest_seconds']:.1f} s)"
        hostile = "refused" if r["hostile_refused"] else "not refused"
        hostile += f", {r['rejected']:,} rejected" if r["rejected"] else ""
        if not r["alive"]:
            hostile += "; **H is down**"
        met = "yes" if r["met"] else "**no**"
        lines.append(f"| {r['scenario']} | {memory} | {honest} | {hostile} | {met} |")
    lines.append("")
    lines.append(
        "Met: H stays up, its peak memory grows at most "
        f"{BOUND_MB} MB over idle, the honest transfer completes byte-identical, and the "
        "hostile member is refused or what it sent is rejected."
    )
    lines.append("")
    for r in results:
        lines.append(f"- {r['scenario']}: {r['notes']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m natakanu_peer.faults.hostile",
        description="A member of the circle floods, lies and sends garbage at an honest "
        "daemon on 127.0.0.1; prints a Markdown table of how the daemon held up.",
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:.0f} s floods")
    parser.add_argument("--keep", type=Path, help="keep the daemons' folders and logs here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.keep is not None:
        results = run_hostile(args.keep, quick=args.quick)
    else:
        with tempfile.TemporaryDirectory(prefix="natakanu-hostile-") as root:
            results = run_hostile(Path(root), quick=args.quick)
    print(markdown_table(results))
    for r in results:
        if not r["met"]:
            print(json.dumps(r, indent=2, ensure_ascii=False), file=sys.stderr)
    return 0 if all(r["met"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
