"""The node: one peer of the network, as the daemon and the window both run it.

It owns the identity, the gossip engine, the state file, the content store and the links,
and is the one interpreter of what the protocol objects return. Commands (advertise, delete,
share, fetch, keys, peers, status) are its methods; the control API and the window call them.

Rules it keeps:
- gossip is driven under one lock, and an operation is written to the state file before any
  frame carrying it leaves, so a crash can never make us sign two versions of one number;
- everything blocking (SQLite, hashing, file I/O) runs off the event loop;
- a peer that breaks a protocol loses its link, with the reason logged; nothing else suffers.

This module must never import Qt, and never touch sockets except through ``net``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from ..errors import CannotListenError, KeyTooLargeError, RemoteProtocolError, UsageError
from ..hashing import BLAKE3
from ..identity import Identity
from ..net import tls
from ..net.addresses import reachable_addresses
from ..net.admission import Admission, AdmittingSite
from ..net.bulk import BulkConnection, BulkServer, decode_offer, dial_bulk, encode_offer
from ..net.bulk import new_token as new_bulk_token
from ..net.control import (
    Handler,
    control_app,
    new_token,
    remove_control_file,
    write_control_file,
)
from ..net.discovery import Discovery
from ..net.peer_link import (
    CHANNEL_BULK,
    CHANNEL_CIRCLE,
    CHANNEL_EXCHANGE,
    CHANNEL_GOSSIP,
    HANDSHAKE_SECONDS,
    JOIN_PATH,
    PEER_PATH,
    PeerLink,
    dial,
    exchange_join_code,
    peer_route,
)
from ..protocol import hash_exchange as hx
from ..protocol import join_code
from ..protocol.circle import (
    CircleKeys,
    CircleUpdate,
    Invitation,
    check_circle_name,
    decode_invitation,
    decode_update,
    encode_invitation,
    encode_update,
)
from ..protocol.gossip import (
    AuthorFlagged,
    CloseLink,
    Gossip,
    GossipEvent,
    KeysChanged,
    OperationsLearned,
    SendTo,
)
from ..protocol.gossip_messages import OpKind
from ..protocol.keyset import KeySet, key_as_text
from ..protocol.manifest import decode_manifest, manifest_digest_of_key
from ..storage import catalog, state
from ..storage.content import ContentStore, Download
from ..storage.database import Database
from ..storage.paths import DataPaths
from .join_offers import JoinOffers, Newcomer
from .join_offers import answer as answer_join
from .membership import Membership
from .peer_guard import HandshakeSlots, LinkRates, record_strike, refusals
from .signatures import CheckedSignatures

log = logging.getLogger(__name__)

ANTI_ENTROPY_SECONDS = 30.0
CHUNKS_IN_FLIGHT_PER_PEER = 16
SERVE_READS_AT_ONCE = 2
WRITES_AT_ONCE = 2
OUTBOX_LIMIT_BYTES = 8 * 1024 * 1024
#: Beyond this, what waits for a peer is what it asked for and does not read: it is cut off.
OUTBOX_HARD_LIMIT_BYTES = 4 * OUTBOX_LIMIT_BYTES
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
JOIN_SEARCH_SECONDS = 10.0
#: Manifests of others' items fetched at once only to show their names and sizes.
MANIFESTS_AT_ONCE = 8

#: What the node tells those who watch it (the window): a kind and its details.
Listener = Callable[[str, dict[str, Any]], None]


# ------------------------------------------------------------------------------ links


class _Outbox:
    """Frames waiting to go out on one link, written in order by one task.

    A frame is a channel and the pieces of its payload, joined only when it is sent. Content
    goes on the link's bulk path when it has one (``net.bulk``), over the link otherwise.
    """

    def __init__(self, link: PeerLink) -> None:
        self._link = link
        self.bulk: BulkConnection | None = None
        self._queue: asyncio.Queue[tuple[int, tuple[bytes, ...], bool] | None] = asyncio.Queue()
        self._bytes = 0
        self._room = asyncio.Event()
        self._room.set()
        self.overflowed = False
        self.on_overflow: Callable[[], None] | None = None
        self.task = asyncio.create_task(self._write())

    def put(self, channel: int, *parts: bytes, content: bool = False) -> None:
        if self.overflowed:
            return  # the link is being cut
        size = sum(map(len, parts))
        if self._bytes + size > OUTBOX_HARD_LIMIT_BYTES:
            # Content waits for room before it is put here, so only answers to a peer's own
            # requests (and gossip) can pile up this far: a peer asking without reading.
            self.overflowed = True
            self.discard()  # what waits would only go to a link being cut: let it go now
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self._bytes += size
        if self._bytes > OUTBOX_LIMIT_BYTES:
            self._room.clear()
        self._queue.put_nowait((channel, parts, content))

    async def room(self) -> None:
        """Wait until the queue has drained below its limit (backpressure for content)."""
        await self._room.wait()

    async def _write(self) -> None:
        while (item := await self._queue.get()) is not None:
            channel, parts, content = item
            try:
                bulk = self.bulk
                if content and bulk is not None and not bulk.closed:
                    try:
                        await bulk.send(*parts)
                        continue
                    except ConnectionError as exc:  # the link carries content again
                        log.info("bulk path lost (%s); content goes over the link", exc)
                        self.bulk = None
                await self._link.send(channel, *parts)
            except ConnectionError:
                return
            finally:
                self._bytes -= sum(map(len, parts))
                if self._bytes <= OUTBOX_LIMIT_BYTES // 2:
                    self._room.set()

    @property
    def waiting_bytes(self) -> int:
        return self._bytes

    def stop(self) -> None:
        """End the writer once what waits has gone out."""
        self._queue.put_nowait(None)

    def discard(self) -> None:
        """The link is gone or being cut: drop what still waits, then end the writer."""
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                self._bytes -= sum(map(len, item[1]))
        self._queue.put_nowait(None)


@dataclass(eq=False)
class _Session:
    """Everything the node holds for one live link; dropped when it closes."""

    link: PeerLink
    peer_id: str
    name: str
    address: str | None
    exchange: hx.HashExchange
    outbox: _Outbox
    requested: dict[str, tuple[_Fetch, int | None]] = field(default_factory=dict)
    sent_position: int = -1  # how far our provide log went out on this link
    acknowledged: int = -1  # how far the peer said it stored it (seen)
    serving: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    server: asyncio.Task[None] | None = None
    rates: LinkRates = field(default_factory=LinkRates.standard)
    exchange_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    bulk_reader: asyncio.Task[None] | None = None
    stop_expecting_bulk: Callable[[], None] | None = None
    received_bytes: int = 0  # content from this peer, since the link opened
    sent_bytes: int = 0  # content to this peer


@dataclass(eq=False)
class _Fetch:
    """One download in progress: its manifest, then its chunks."""

    manifest_hash: str
    target: Path
    done: asyncio.Future[Path]
    download: Download | None = None
    waiting: list[int] = field(default_factory=list)  # chunk indices not yet asked for
    asked_manifest: set[str] = field(default_factory=set)  # peers asked for the manifest
    busy: bool = False  # finishing
    writing: int = 0  # chunks being written now
    #: Only the manifest is wanted (to show the item's name and size), not the files.
    manifest_only: bool = False


class Node:
    """One peer: gossip, content, links, and the commands people use."""

    def __init__(
        self,
        paths: DataPaths,
        identity: Identity,
        db: Database,
        content: ContentStore,
        *,
        display_name: str = "",
        listen: tuple[str, int] = ("0.0.0.0", 0),
        peers: list[str] | None = None,
        discovery: bool = False,
        discovery_interfaces: list[str] | None = None,
    ) -> None:
        self.paths = paths
        self.identity = identity
        self.db = db
        self.content = content
        self.display_name = display_name or f"peer {identity.peer_id[:8]}"
        self._listen = listen
        self._peers_given = list(peers or [])
        #: The active circle: its keys are gossiped, its members linked. Set by ``start``.
        self.membership: Membership
        self.circle_name = ""
        self.gossip: Gossip
        self._certificate_fp = b""
        self.discovery = Discovery(self._discovered, discovery_interfaces) if discovery else None
        self._gossip_lock = asyncio.Lock()
        self._sessions: dict[str, _Session] = {}
        self._availability: dict[str, set[str]] = defaultdict(set)  # hash -> peer ids
        self._fetches: dict[str, _Fetch] = {}
        self._writes = asyncio.Semaphore(WRITES_AT_ONCE)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runners: list[web.AppRunner] = []
        self._dialing: dict[str, asyncio.Task[None]] = {}
        self._address_peer: dict[str, str] = {}
        self.listen_address: str | None = None
        self.listen_port: int | None = None
        self.control_url: str | None = None
        self.flagged: dict[str, str] = {}
        self._handshakes = HandshakeSlots()
        self._admission = Admission()
        self.join_offers = JoinOffers()
        self._bulk: BulkServer | None = None
        #: Peers refused for a while: peer id -> (until, why). See ``peer_guard``.
        self.refused: dict[str, tuple[float, str]] = {}
        self.chunks_received = 0  # since this process started
        self.started = time.time()
        self.closing = False
        self._listeners: list[Listener] = []
        self._signatures = CheckedSignatures()
        #: Per key of the active circle: when first seen here, and whether hidden here.
        # When each key was first seen here, and the keys hidden here: two structures, not a
        # tuple per key, which would cost 6 MB more for 100,000 keys.
        self._first_seen: dict[bytes, float] = {}
        self._hidden: set[bytes] = set()
        self._new_keys: list[bytes] = []  # advertised in operations learned, maybe new
        self._manifests_wanted: dict[str, None] = {}  # an ordered set
        self._manifests_missing: set[str] = set()  # no linked peer had it; asked again later
        #: Where downloads go when no folder is given (the window's setting).
        self.downloads_dir: Path | None = None
        #: Keep a copy of everything the circle shares (the window's setting).
        self.keep_everything = False

    # ------------------------------------------------------------------ start and stop

    async def start(self) -> None:
        circles = await self.db.call(state.load_circles)
        if not circles:
            # The first start: a private circle of one's own, which others join by invitation.
            keys = CircleKeys.generate()
            name = check_circle_name(f"{self.display_name}'s circle"[:64])
            await self.db.call(
                state.add_circle, keys.circle_id, name, keys.epoch, keys.secret, time.time()
            )
            await self.db.call(state.set_active_circle, keys.circle_id)
            await self.content.adopt_unowned(keys.circle_id)
            circles = await self.db.call(state.load_circles)
        active = next((c for c in circles if c.active), circles[0])
        await self._use_circle(active.circle_id, active.name)
        self.refused = await self.db.call(refusals, time.time())
        for peer_id, hash_ in await self.db.call(state.availability):
            self._availability[hash_].add(peer_id)
        await self._serve_peers()
        await self._serve_control()
        if self.discovery is not None:
            assert self.listen_port is not None
            await self.discovery.start(self.circle, self.listen_port)
        for address in self._peers_given:
            await self.db.call(state.remember_address, address, "given")
        for address in await self.db.call(state.known_addresses):
            self._dial_forever(address)
        for download in await self.content.resume_downloads():
            self._start_fetch(download.manifest_hash, download.target_dir, download)
        self._spawn(self._anti_entropy())
        log.info(
            "peer %s listening on %s; %d keys known",
            self.identity.peer_id[:16],
            self.listen_address,
            len(self.gossip.list()),
        )

    @property
    def circle(self) -> CircleKeys:
        """The active circle's secret in use."""
        return self.membership.keys

    async def _use_circle(self, circle_id: str, name: str) -> None:
        """Make a circle the active one: its key set is loaded and gossiped from now on."""
        membership = await Membership.load(self.db, self.identity, circle_id)
        circle = membership.keys
        gossip = Gossip(
            author=self.identity.public_key,
            sign=self.identity.sign,
            verify=self._signatures.verify,
            topic=circle.topic,
            keyset=KeySet(circle.topic, self._signatures.verify),
        )
        stored = await self.db.call(state.load_operations, circle.topic)
        for author, row in stored.items():
            gossip.keyset.ingest(author, row.covered, row.ops, trusted=True)
        self.membership, self.circle_name, self.gossip = membership, name, gossip
        self.content.circle_id = circle.circle_id
        self.flagged = {}
        self._first_seen, self._hidden = await self.db.call(catalog.key_notes, circle.topic)
        self._manifests_wanted.clear()
        self._manifests_missing.clear()
        self._keys_changed(gossip.list())

    async def stop(self) -> None:
        self.closing = True
        for job in list(self._fetches.values()):
            if job.download is not None:
                with contextlib.suppress(Exception):
                    await job.download.close()  # record progress; resumed at next start
        for task in list(self._dialing.values()) + list(self._tasks):
            task.cancel()
        for session in list(self._sessions.values()):
            await session.link.close("the peer is shutting down")
        for task in list(self._dialing.values()) + list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.discovery is not None:
            await self.discovery.stop()
        if self._bulk is not None:
            await self._bulk.stop()
        for runner in self._runners:
            await runner.cleanup()
        remove_control_file(self.paths.control)

    async def _serve_peers(self) -> None:
        app = web.Application()
        app.router.add_get(PEER_PATH, peer_route(self._run_link))
        app.router.add_get(JOIN_PATH, self._answer_join_code)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = self._listen
        certificate = tls.certificate_for(self.identity)
        self._certificate_fp = tls.fingerprint(certificate)
        context = await asyncio.to_thread(
            tls.server_context, self.identity, certificate, self.paths.root
        )
        site = AdmittingSite(runner, host, port, context, self._admission)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise CannotListenError(
                f"Cannot listen on {host}:{port} ({exc.strerror}); choose another port "
                "with --listen HOST:PORT."
            ) from exc
        self._runners.append(runner)
        server = site.server
        assert server is not None and hasattr(server, "sockets")
        bound = server.sockets[0].getsockname()
        self.listen_address = f"{bound[0]}:{bound[1]}"
        self.listen_port = int(bound[1])
        self._bulk = await BulkServer.start(host)

    async def _serve_control(self) -> None:
        token = new_token()
        commands: dict[str, Handler] = {
            "status": lambda body: self.status(),
            "keys": lambda body: self.keys(),
            "advertise": lambda body: self.advertise_hex_or_text(body),
            "delete": lambda body: self.delete(_key_from_hex(body.get("key"))),
            "share": lambda body: self.share([Path(p) for p in body.get("paths", [])]),
            "fetch": lambda body: self.fetch_command(body),
            "peers": lambda body: self.peers(),
            "circles": lambda body: self.circles(),
            "invite": lambda body: self.invite(body.get("circle"), code=bool(body.get("code"))),
            "remove": lambda body: self.remove_member(body.get("peer")),
            "transfers": lambda body: self.transfers(),
            "pause": lambda body: self.pause_download(body.get("hash")),
            "resume": lambda body: self.resume_download(body.get("hash")),
            "cancel": lambda body: self.cancel_download(body.get("hash")),
            "add-peer": lambda body: self.add_peer(body.get("address")),
            "create-circle": lambda body: self.create_circle(body.get("name")),
            "join": lambda body: (
                self.join_with_code(str(body["code"]), body.get("from"))
                if body.get("code")
                else self.join(str(body.get("invitation") or ""))
            ),
        }
        runner = web.AppRunner(control_app(token, commands), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runners.append(runner)
        server = site._server
        assert server is not None and hasattr(server, "sockets")
        port = server.sockets[0].getsockname()[1]
        self.control_url = f"http://127.0.0.1:{port}"
        write_control_file(self.paths.control, self.control_url, token)

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ commands

    async def status(self) -> dict[str, Any]:
        online = [s.peer_id for s in self._sessions.values()]
        known = await self.db.call(state.all_peers)
        return {
            "peer_id": self.identity.peer_id,
            "name": self.display_name,
            "circle": {
                "name": self.circle_name,
                "id": self.circle.circle_id,
                "epoch": self.circle.epoch,
            },
            "discovery": {
                "on": self.discovery is not None,
                "members_found": len(self.discovery.members_seen) if self.discovery else 0,
                "announced": self.discovery.announced if self.discovery else [],
            },
            "listen": self.listen_address,
            "data_dir": str(self.paths.root),
            "keys": len(self.gossip.list()),
            "peers_online": len(online),
            "peers_known": len(known),
            "downloads_active": sum(1 for j in self._fetches.values() if not j.manifest_only),
            "chunks_received": self.chunks_received,
            "flagged_authors": self.flagged,
            "uptime_seconds": round(time.time() - self.started, 1),
            "notice": self.db.notice,
        }

    async def circles(self) -> list[dict[str, Any]]:
        return [
            {
                "name": row.name,
                "id": row.circle_id,
                "active": row.circle_id == self.circle.circle_id,
            }
            for row in await self.db.call(state.load_circles)
        ]

    async def invite(self, circle_name: object = None, code: bool = False) -> dict[str, Any]:
        """An invitation to the active circle, or to the circle named ``circle_name``.

        With ``code``, a short join code standing for it instead (one use, ten minutes).
        """
        rows = await self.db.call(state.load_circles)
        if circle_name:
            chosen = [r for r in rows if r.name == str(circle_name)]
            if not chosen:
                names = ", ".join(repr(r.name) for r in rows)
                raise UsageError(f"No circle is called {circle_name!r}; yours are {names}.")
            row = chosen[0]
        else:
            row = next(r for r in rows if r.circle_id == self.circle.circle_id)
        invitation = Invitation(
            name=row.name,
            keys=CircleKeys.of(row.circle_id, row.epoch, row.secret),
            inviter=self.identity.public_key,
            # Reading the interfaces asks the system: beside the loop, like all such calls.
            hints=tuple(
                await asyncio.to_thread(reachable_addresses, self._listen, self.listen_port)
            ),
        )
        text = encode_invitation(invitation)
        if not code:
            return {"invitation": text, "circle": row.name}
        offer = self.join_offers.create(text)
        nameplate, _ = join_code.parse_code(offer.code)
        if self.discovery is not None:
            await self.discovery.offer_join(nameplate)
        self._spawn(self._withdraw_join_later(nameplate))
        minutes = join_code.CODE_SECONDS // 60
        return {"code": offer.code, "circle": row.name, "minutes": minutes}

    async def _withdraw_join_later(self, nameplate: int) -> None:
        await asyncio.sleep(join_code.CODE_SECONDS)
        if self.discovery is not None:
            await self.discovery.withdraw_join(nameplate)

    async def _answer_join_code(self, request: web.Request) -> web.StreamResponse:
        """A newcomer tries a join code: one attempt per code, then the offer is gone."""
        ws = web.WebSocketResponse(max_msg_size=1024)
        await ws.prepare(request)
        try:
            message = await ws.receive(timeout=HANDSHAKE_SECONDS)
            if message.type != WSMsgType.BINARY:
                return ws
            nameplate, _ = join_code.decode_request(message.data)
            offer = self.join_offers.take(nameplate)
            if self.discovery is not None:
                await self.discovery.withdraw_join(nameplate)
            if offer is None:
                return ws
            log.info(
                "the join code %d was tried by %s; it cannot be used again",
                nameplate,
                request.remote,
            )
            # SPAKE2 is pure Python (tens of milliseconds): beside the loop, not on it.
            await ws.send_bytes(await asyncio.to_thread(answer_join, offer, message.data))
        except (RemoteProtocolError, TimeoutError, ConnectionError) as exc:
            log.info("a join attempt from %s failed: %s", request.remote, exc)
        finally:
            await ws.close()
        return ws

    async def join_with_code(self, code: str, address: object = None) -> dict[str, Any]:
        """Join a circle with a member's short code, found on the local network."""
        newcomer = Newcomer(code)
        if address:
            addresses = [str(address)]
        elif self.discovery is None:
            raise UsageError(
                "Discovery is off, so the member cannot be found by the code alone: give its "
                "address with --from HOST:PORT, or start the peer without --no-discovery."
            )
        else:
            addresses = await self.discovery.find_join(newcomer.nameplate, JOIN_SEARCH_SECONDS)
        if not addresses:
            raise UsageError(
                f"No member on this network offers a code numbered {newcomer.nameplate} "
                "right now; check the number, be on the same Wi-Fi, or ask for a new code."
            )
        try:
            request = await asyncio.to_thread(newcomer.request)
            answer = await exchange_join_code(addresses[0], request)
        except ConnectionError as exc:
            raise UsageError(f"Could not reach the member's peer: {exc}.") from exc
        if answer is None:
            raise UsageError(
                "The member's peer did not accept this code: it was used already or has "
                "expired. Ask for a new one."
            )
        return await self.join(await asyncio.to_thread(newcomer.invitation, answer))

    async def join(self, text: str) -> dict[str, Any]:
        """Join the circle of an invitation and make it the active one."""
        invitation = decode_invitation(text)
        keys = invitation.keys
        now = time.time()
        await self.db.call(
            state.add_circle, keys.circle_id, invitation.name, keys.epoch, keys.secret, now
        )
        rows = {r.circle_id: r for r in await self.db.call(state.load_circles)}
        if keys.epoch > rows[keys.circle_id].epoch:  # a newer secret than the one we had
            await self.db.call(
                state.use_secret, keys.circle_id, keys.epoch, keys.secret, None, [], now
            )
        await self.db.call(state.set_active_circle, keys.circle_id)
        if keys.circle_id != self.circle.circle_id or keys.epoch > self.circle.epoch:
            await self._switch_circle(keys.circle_id, rows[keys.circle_id].name)
        for hint in invitation.hints:
            await self.db.call(state.remember_address, hint, "invitation")
            self._dial_forever(hint)
        return {"circle": rows[keys.circle_id].name, "id": keys.circle_id}

    def _is_refused(self, peer_id: str) -> bool:
        refusal = self.refused.get(peer_id)
        return refusal is not None and refusal[0] > time.time()

    async def _strike(self, peer_id: str, reason: str) -> None:
        """``peer_id`` broke a rule; enough of those and it is refused for a while."""
        until = await self.db.call(record_strike, peer_id, reason, time.time())
        if until is None:
            return
        self.refused = await self.db.call(refusals, time.time())
        log.warning(
            "refusing %s until %s: %s", peer_id[:16], time.ctime(until), self.refused[peer_id][1]
        )
        session = self._sessions.get(peer_id)
        if session is not None:
            await session.link.close("refused for a while after breaking rules")

    async def remove_member(self, who: object) -> dict[str, Any]:
        """Leave a member out of the active circle: a new secret for everyone else."""
        text = str(who or "").strip().lower()
        known = await self.db.call(state.all_peers)
        candidates = {p.peer_id for p in known if p.peer_id.startswith(text)} if text else set()
        candidates |= {m for m in self.membership.members if text and m.startswith(text)}
        if len(text) < 8 or len(candidates) != 1:
            raise UsageError(
                "Say which member to remove with at least the first 8 characters of its id, "
                "as `natakanu-peer peers` shows them"
                + ("; several peers start that way." if len(candidates) > 1 else ".")
            )
        [peer_id] = candidates
        if peer_id == self.identity.peer_id:
            raise UsageError("You cannot remove yourself; join another circle instead.")
        adopted = await self.membership.remove(peer_id)
        told = await self._after_change(adopted.update, adopted.newly_removed, None)
        log.info("removed %s from the circle; %d members told at once", peer_id[:16], told)
        return {"removed": peer_id, "told_now": told, "epoch": self.circle.epoch}

    async def _on_circle_update(self, session: _Session, update: CircleUpdate) -> None:
        try:
            adopted = await self.membership.consider(update, session.peer_id)
        except ValueError as exc:
            raise RemoteProtocolError(str(exc)) from exc
        if adopted is not None:
            log.info("the circle has a new secret (epoch %d)", adopted.update.keys.epoch)
            sender = session if adopted.update is update else None
            await self._after_change(adopted.update, adopted.newly_removed, sender)

    async def _after_change(
        self, update: CircleUpdate, removed: set[str], sender: _Session | None
    ) -> int:
        """Act on a new secret: cut removed members off, tell every other member linked now,
        announce with the new secret. Returns how many were told."""
        told = 0
        for session in list(self._sessions.values()):
            if session.peer_id in removed:
                await session.link.close("removed from the circle")
            elif session is not sender:
                session.outbox.put(CHANNEL_CIRCLE, encode_update(update))
                told += 1
        if self.discovery is not None:
            await self.discovery.set_circle(self.circle)
        return told

    def _discovered(self, addresses: list[str]) -> None:
        """A member of the circle announced itself on the local network: dial it."""
        for address in addresses:
            if address not in self._dialing:
                self._spawn(self.db.call(state.remember_address, address, "discovered"))
                self._dial_forever(address)

    async def _switch_circle(self, circle_id: str, name: str) -> None:
        """Leave the links of the active circle and take up those of ``circle_id``."""
        async with self._gossip_lock:
            for session in list(self._sessions.values()):
                await self._drop_session(session, "the circle changed", locked=True)
                await session.link.close("the circle changed")
            await self._use_circle(circle_id, name)
        circle = self.circle
        if self.discovery is not None:
            await self.discovery.set_circle(circle)
        # Addresses tried in vain under the old circle are tried again at once.
        for address, task in list(self._dialing.items()):
            task.cancel()
            del self._dialing[address]
            self._dial_forever(address)
        log.info("circle %r (%s) is now active", name, circle.circle_id[:8])
        self._emit("circle")

    async def keys(self) -> list[dict[str, Any]]:
        result = []
        for key in self.gossip.list():
            entry: dict[str, Any] = {
                "key": key.hex(),
                "advertisers": [a.hex() for a in self.gossip.keyset.advertisers(key)],
                "mine": self.identity.public_key in self.gossip.keyset.advertisers(key),
            }
            text = key_as_text(key)
            if text is not None:
                entry["text"] = text
            digest = manifest_digest_of_key(key)
            if digest is not None:
                body = await self.content.manifest_body(digest.hex())
                if body is not None:
                    manifest = decode_manifest(body)
                    entry["name"] = manifest.name
                    entry["size"] = manifest.total_size
                    entry["files"] = len(manifest.files)
            result.append(entry)
        return result

    async def advertise_hex_or_text(self, body: dict[str, Any]) -> dict[str, str]:
        if body.get("text") is not None:
            key = str(body["text"]).encode("utf-8")
        else:
            key = _key_from_hex(body.get("key"))
        await self.advertise(key)
        return {"key": key.hex()}

    async def advertise(self, key: bytes) -> None:
        async with self._gossip_lock:
            await self._apply_gossip(self.gossip.advertise(key))

    async def delete(self, key: bytes) -> dict[str, str]:
        async with self._gossip_lock:
            await self._apply_gossip(self.gossip.delete(key))
        return {"key": key.hex()}

    async def share(
        self, paths: list[Path], progress: Callable[[int, int], None] | None = None
    ) -> list[dict[str, Any]]:
        """Share files or folders in place; ``progress(bytes_hashed, total)`` per path."""
        if not paths:
            raise UsageError("Say which file or folder to share.")
        shared = []
        for path in paths:
            path = path.expanduser().absolute()
            if not path.exists():
                raise UsageError(f"{path} does not exist; check the name and try again.")
            result = await self.content.share(path, progress)
            await self.advertise(result.key)
            shared.append({"key": result.key.hex(), "name": result.name, "size": result.total_size})
        await self._provide_news()
        return shared

    async def fetch_command(self, body: dict[str, Any]) -> dict[str, str]:
        key = _key_from_hex(body.get("key"))
        to = Path(body["to"]).expanduser().absolute() if body.get("to") else None
        path = await self.fetch(key, to)
        return {"path": str(path)}

    async def fetch(self, key: bytes, to: Path | None = None) -> Path:
        """Download a shared item and wait until it is saved; where it is."""
        started = await self.download(key, to)
        if isinstance(started, Path):
            return started
        return await asyncio.shield(started.done)

    async def download(self, key: bytes, to: Path | None = None) -> Path | _Fetch:
        """Start downloading a shared item (or go on with it); its path if it is here."""
        digest = manifest_digest_of_key(key)
        if digest is None:
            raise UsageError(
                "This key is not a shared file or folder, so there is nothing to download; "
                "it may be an archive key for another application."
            )
        manifest_hash = digest.hex()
        job = self._fetches.get(manifest_hash)
        if job is not None and job.target == self.paths.relay and job.download is None:
            # Being fetched to pass on, its manifest not here yet: it goes where asked now.
            target = to or self.downloads_dir or self.paths.default_downloads
            await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
            job.target = target
        if job is None or job.manifest_only:
            here = await self.content.local_copy(manifest_hash)
            if here is not None:
                return here  # shared from here, or fetched already: nothing to download
            if await self.content.open_download(manifest_hash) is not None:
                await self.resume_download(manifest_hash)  # paused: going on is what is meant
                return self._fetches[manifest_hash]
            target = to or self.downloads_dir or self.paths.default_downloads
            await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
            job = self._fetches.get(manifest_hash)
            if job is not None and job.manifest_only:
                job.manifest_only, job.target = False, target  # the manifest is on its way
            elif job is None:
                job = self._start_fetch(manifest_hash, target, None)
            self._emit("items", hashes=[manifest_hash])
        return job

    async def peers(self) -> list[dict[str, Any]]:
        # Peers are shown per circle: those met as members of the active one.
        members = self.membership.members | set(self._sessions)
        rows = [r for r in await self.db.call(state.all_peers) if r.peer_id in members]
        return [
            {
                "peer_id": row.peer_id,
                "name": row.display_name,
                "address": row.address,
                "online": row.peer_id in self._sessions,
                "last_seen": row.last_seen,
                # How far the peer said it stored the list of what we provide (seen).
                "acknowledged": (
                    self._sessions[row.peer_id].acknowledged
                    if row.peer_id in self._sessions
                    else None
                ),
                "refused": (
                    {"until": self.refused[row.peer_id][0], "reason": self.refused[row.peer_id][1]}
                    if self._is_refused(row.peer_id)
                    else None
                ),
                # What goes on with it now: content received and sent over this link.
                "received_bytes": (
                    self._sessions[row.peer_id].received_bytes
                    if row.peer_id in self._sessions
                    else 0
                ),
                "sent_bytes": (
                    self._sessions[row.peer_id].sent_bytes if row.peer_id in self._sessions else 0
                ),
                "chunks_asked": (
                    len(self._sessions[row.peer_id].requested)
                    if row.peer_id in self._sessions
                    else 0
                ),
            }
            for row in rows
        ]

    # ------------------------------------------------------------------ for the window

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(kind, details)`` on news: "keys" (the list changed), "items"
        (what is known of some shared items changed: ``hashes``), "circle", "download_done"
        (``hash``, ``path``, ``name``), "download_failed" (``hash``, ``error``)."""
        self._listeners.append(listener)

    def _emit(self, kind: str, **details: Any) -> None:
        for listener in list(self._listeners):
            try:
                listener(kind, details)
            except Exception:  # a watcher's bug must not stop the node
                log.exception("a listener failed on %r", kind)

    def _keys_changed(self, keys: Sequence[bytes] | None = None) -> None:
        """Note the keys seen for the first time, and fetch their manifests to name them.

        ``keys``: the whole list, to look through (when a circle is loaded); otherwise the
        keys of the operations learned since the last call are looked at, which is what can
        be new (looking through 100,000 keys at every message would hold the loop)."""
        candidates = keys if keys is not None else self._new_keys
        self._new_keys = []
        listed = self.gossip.keyset
        noted = self._first_seen
        new = list(dict.fromkeys(k for k in candidates if k not in noted and k in listed))
        if new:
            now = time.time()
            for key in new:
                self._first_seen[key] = now
            self._spawn(self.db.call(catalog.note_keys, self.circle.topic, new, now))
            for key in new:
                digest = manifest_digest_of_key(key)
                if digest is not None:
                    self._manifests_wanted[digest.hex()] = None
            self._spawn(self._fetch_manifests())
        self._emit("keys", added=len(new))

    async def _fetch_manifests(self) -> None:
        """Fetch, a few at once, the manifests of listed items that are not here: the
        window shows every item's name and size before anyone downloads it."""
        while self._manifests_wanted and not self.closing:
            running = sum(1 for job in self._fetches.values() if job.manifest_only)
            if running >= MANIFESTS_AT_ONCE:
                return  # each one that ends calls this again
            batch = list(itertools.islice(self._manifests_wanted, MANIFESTS_AT_ONCE - running))
            for hash_ in batch:
                del self._manifests_wanted[hash_]
            facts = await self.db.call(catalog.content_facts, batch)
            for hash_ in batch:
                known = facts.get(hash_)
                if known is not None and known.body is not None:
                    if self.keep_everything:
                        self._spawn(self._keep(hash_))
                    continue
                if hash_ not in self._fetches and hash_ not in self._manifests_missing:
                    self._start_fetch(hash_, self.paths.relay, None, manifest_only=True)

    async def describe_keys(self, keys: Sequence[bytes]) -> list[dict[str, Any]]:
        """What the window shows of each key, read in one batch."""
        digests = {}
        for key in keys:
            digest = manifest_digest_of_key(key)
            if digest is not None:
                digests[key] = digest.hex()
        facts = await self.db.call(catalog.content_facts, list(digests.values()))
        names = await self._peer_names()
        me = self.identity.public_key
        rows = []
        for key in keys:
            advertisers = self.gossip.keyset.advertisers(key)
            entry: dict[str, Any] = {
                "key": key,
                "text": key_as_text(key),
                "mine": me in advertisers,
                "sharers": [
                    "" if a == me else (names.get(a.hex()) or a.hex()[:8]) for a in advertisers
                ],
                "first_seen": self._first_seen.get(key),
                "hidden": key in self._hidden,
                "hash": digests.get(key),
                "state": "key",
            }
            hash_ = digests.get(key)
            if hash_ is not None:
                known = facts.get(hash_)
                entry.update(self._item_state(hash_, known))
            rows.append(entry)
        return rows

    def _item_state(self, hash_: str, known: catalog.ContentFacts | None) -> dict[str, Any]:
        entry: dict[str, Any] = {"state": "looking", "name": None, "size": None}
        if known is not None and known.body is not None:
            try:
                manifest = decode_manifest(known.body)
            except RemoteProtocolError:
                return entry
            entry.update(name=manifest.name, size=manifest.total_size, folder=manifest.folder)
            entry["state"] = "available"
            if known.received_at is not None:
                entry["received_at"] = known.received_at
        job = self._fetches.get(hash_)
        if job is not None and not job.manifest_only and job.target != self.paths.relay:
            entry["state"] = "downloading"
        elif known is not None and known.download_state == "complete" and known.saved_at:
            entry.update(state="saved", path=known.saved_at)  # fetched (and offered) here
        elif known is not None and known.shared_from:
            entry.update(state="shared", path=known.shared_from)
        elif known is not None and known.download_state == "paused":
            entry["state"] = "paused"
        return entry

    async def _peer_names(self) -> dict[str, str]:
        rows = await self.db.call(state.all_peers)
        names = {row.peer_id: row.display_name or "" for row in rows}
        names.update({s.peer_id: s.name for s in self._sessions.values()})
        return names

    async def addresses(self) -> list[str]:
        """Where other computers can reach this one (HOST:PORT), as an invitation lists them."""
        return list(await asyncio.to_thread(reachable_addresses, self._listen, self.listen_port))

    def list_keys(self) -> list[bytes]:
        """The active circle's keys, sorted (a new list)."""
        return self.gossip.list()

    async def hide(self, key: bytes, hidden: bool = True) -> None:
        """Hide a key of others here only (or show it again); it stays in the circle."""
        self._first_seen.setdefault(key, time.time())
        if hidden:
            self._hidden.add(key)
        else:
            self._hidden.discard(key)
        await self.db.call(catalog.set_hidden, self.circle.topic, key, hidden, time.time())
        self._emit("items", keys=[key])

    async def transfers(self) -> list[dict[str, Any]]:
        """Downloads under way or paused, with their progress."""
        rows: list[dict[str, Any]] = []
        for job in self._fetches.values():
            if job.manifest_only or job.target == self.paths.relay:
                continue
            download = job.download
            peers = sum(
                1 for s in self._sessions.values() if any(j is job for j, _ in s.requested.values())
            )
            rows.append(
                {
                    "hash": job.manifest_hash,
                    "name": download.manifest.name if download else None,
                    "size": download.manifest.total_size if download else None,
                    "done": download.verified_bytes if download else 0,
                    "state": "downloading" if download else "looking",
                    "target": str(job.target),
                    "peers": peers,
                }
            )
        under_way = {row["hash"] for row in rows}
        for hash_, target, state_ in await self.db.call(catalog.unfinished_downloads):
            if state_ != "paused" or hash_ in under_way:
                continue
            manifest = await self.content.manifest(hash_)
            done = await self.db.call(catalog.chunks_done, hash_)
            places = manifest.chunk_places() if manifest else []
            rows.append(
                {
                    "hash": hash_,
                    "name": manifest.name if manifest else None,
                    "size": manifest.total_size if manifest else None,
                    "done": sum(places[i].length for i in done if i < len(places)),
                    "state": "paused",
                    "target": target,
                    "peers": 0,
                }
            )
        return rows

    async def _stop_job(self, job: _Fetch) -> None:
        """Take a download out of the running ones and wait for its writes to end."""
        job.busy = True  # the pump leaves it alone from now on
        if self._fetches.get(job.manifest_hash) is job:
            del self._fetches[job.manifest_hash]
        # Requests already sent stay on the books until answered (the exchange answers each
        # hash once): their content is dropped on arrival, and a resumed download asks again.
        while job.writing:
            await asyncio.sleep(0.01)

    async def pause_download(self, hash_: object) -> dict[str, str]:
        manifest_hash = _digest_text(hash_)
        job = self._fetches.get(manifest_hash)
        if job is None or job.manifest_only:
            raise UsageError("This item is not being downloaded.")
        if job.download is None:
            raise UsageError(
                "This download has not started yet (nobody online has it); cancel it instead."
            )
        await self._stop_job(job)
        await job.download.pause()
        if not job.done.done():
            job.done.set_exception(UsageError("The download was paused; resume it to go on."))
        self._emit("items", hashes=[manifest_hash])
        return {"hash": manifest_hash, "state": "paused"}

    async def resume_download(self, hash_: object) -> dict[str, str]:
        manifest_hash = _digest_text(hash_)
        if manifest_hash in self._fetches and not self._fetches[manifest_hash].manifest_only:
            return {"hash": manifest_hash, "state": "downloading"}
        download = await self.content.open_download(manifest_hash)
        if download is None:
            raise UsageError("There is no paused download of this item; download it again.")
        await self.db.call(catalog.mark_active, manifest_hash)
        self._start_fetch(manifest_hash, download.target_dir, download)
        self._emit("items", hashes=[manifest_hash])
        return {"hash": manifest_hash, "state": "downloading"}

    async def cancel_download(self, hash_: object) -> dict[str, str]:
        manifest_hash = _digest_text(hash_)
        job = self._fetches.get(manifest_hash)
        download: Download | None = None
        if job is not None and not job.manifest_only:
            await self._stop_job(job)
            download = job.download
            if not job.done.done():
                job.done.set_exception(UsageError("The download was cancelled."))
        if download is None:
            download = await self.content.open_download(manifest_hash)
        if download is None and job is None:
            raise UsageError("This item is not being downloaded.")
        if download is not None:
            await download.cancel()
        self._emit("items", hashes=[manifest_hash])
        return {"hash": manifest_hash, "state": "cancelled"}

    async def add_peer(self, address: object) -> dict[str, str]:
        """Dial a peer by its address, now and at every start."""
        text = str(address or "").strip()
        host, _, port = text.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise UsageError(
                f"{text!r} is not an address: write it as the other computer's address, a "
                "colon and its port, for example 192.168.1.20:4700."
            )
        await self.db.call(state.remember_address, text, "given")
        self._dial_forever(text)
        return {"address": text}

    async def create_circle(self, name: object) -> dict[str, str]:
        """A new circle of one's own (made active), which others join by invitation."""
        checked = check_circle_name(str(name or "").strip())
        if any(row.name == checked for row in await self.db.call(state.load_circles)):
            raise UsageError(f"You already have a circle called {checked!r}; choose another name.")
        keys = CircleKeys.generate()
        await self.db.call(
            state.add_circle, keys.circle_id, checked, keys.epoch, keys.secret, time.time()
        )
        await self.switch_circle(keys.circle_id)
        return {"circle": checked, "id": keys.circle_id}

    async def switch_circle(self, circle_id: object) -> dict[str, str]:
        rows = {r.circle_id: r for r in await self.db.call(state.load_circles)}
        row = rows.get(str(circle_id))
        if row is None:
            raise UsageError("You are not a member of this circle; join it with an invitation.")
        await self.db.call(state.set_active_circle, row.circle_id)
        if row.circle_id != self.circle.circle_id:
            await self._switch_circle(row.circle_id, row.name)
        return {"circle": row.name, "id": row.circle_id}

    def set_display_name(self, name: str) -> None:
        """The name peers see from the next link on."""
        self.display_name = name.strip() or f"peer {self.identity.peer_id[:8]}"

    async def set_keep_everything(self, keep: bool) -> None:
        self.keep_everything = keep
        if keep:
            for key in self.gossip.list():
                digest = manifest_digest_of_key(key)
                if digest is not None:
                    await self._keep(digest.hex())

    async def _keep(self, manifest_hash: str) -> None:
        """Download an item to keep a copy, unless it is here or on its way already."""
        job = self._fetches.get(manifest_hash)
        if job is not None and not job.manifest_only:
            return
        facts = (await self.db.call(catalog.content_facts, [manifest_hash])).get(manifest_hash)
        if facts is None or facts.body is None:
            return  # its manifest comes first; this is called again then
        if facts.shared_from or facts.download_state in ("complete", "paused", "failed"):
            return
        if self.closing or manifest_hash in self._fetches:
            return
        target = self.downloads_dir or self.paths.default_downloads
        await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
        self._start_fetch(manifest_hash, target, None)
        self._emit("items", hashes=[manifest_hash])

    async def space_to_keep_everything(self) -> dict[str, int]:
        """How much keeping a copy of everything would take: bytes of the items whose size is
        known, and how many items are not yet described."""
        digests = [d.hex() for k in self.gossip.list() if (d := manifest_digest_of_key(k))]
        facts = await self.db.call(catalog.content_facts, digests)
        needed = unknown = 0
        for hash_ in digests:
            known = facts.get(hash_)
            if known is None or known.body is None:
                unknown += 1
            elif not known.shared_from and known.download_state != "complete":
                needed += decode_manifest(known.body).total_size
        return {"bytes": needed, "unknown": unknown}

    # ------------------------------------------------------------------ gossip

    async def _apply_gossip(self, events: list[GossipEvent]) -> None:
        """Interpret gossip events in order; called with the gossip lock held."""
        for event in events:
            match event:
                case OperationsLearned(author=author, ops=ops):
                    self._new_keys.extend(
                        op.key
                        for op in ops
                        if op.kind == OpKind.ADVERTISE and op.key not in self._first_seen
                    )
                    author_state = self.gossip.keyset.author(author)
                    covered = author_state.covered.intervals if author_state else ()
                    await self.db.call(
                        state.store_operations, self.circle.topic, author, ops, covered
                    )
                case SendTo(link=link, data=data):
                    session = self._sessions.get(str(link))
                    if session is not None:
                        session.outbox.put(CHANNEL_GOSSIP, data)
                case CloseLink(link=link, reason=reason):
                    session = self._sessions.get(str(link))
                    if session is not None:
                        log.warning("closing link to %s: %s", str(link)[:16], reason)
                        self._spawn(session.link.close(reason))
                        self._spawn(self._strike(str(link), reason))
                case KeysChanged(keys=keys):
                    log.info("%d keys known", len(keys))
                    self._keys_changed()
                    self._pump()  # a download may wait for a manifest's holders
                case AuthorFlagged(author=author, reason=reason):
                    self.flagged[author.hex()] = reason
                    log.warning("author %s flagged: %s", author.hex()[:16], reason)

    async def _anti_entropy(self) -> None:
        while True:
            await asyncio.sleep(ANTI_ENTROPY_SECONDS * random.uniform(0.8, 1.2))
            async with self._gossip_lock:
                await self._apply_gossip(self.gossip.broadcast())

    # ------------------------------------------------------------------ links

    def _dial_forever(self, address: str) -> None:
        if address in self._dialing or self.closing:
            return
        self._dialing[address] = asyncio.create_task(self._dialer(address))

    async def _dialer(self, address: str) -> None:
        backoff = BACKOFF_FIRST
        failures = 0
        attempt = 0  # handshakes failed in a row: older secrets of the circle are tried too
        while not self.closing:
            peer_id = self._address_peer.get(address)
            if peer_id is not None and (peer_id in self._sessions or self._is_refused(peer_id)):
                await asyncio.sleep(2.0)
                continue
            started = time.monotonic()
            try:
                link = await dial(address)
            except ConnectionError as exc:
                failures += 1
                # Say it once plainly (a mistyped address, a firewall), then quietly retry.
                level = logging.INFO if failures == 1 else logging.DEBUG
                log.log(level, "%s; trying again now and then", exc)
                await self.db.call(state.address_result, address, False)
            else:
                failures = 0
                linked = await self._run_link(link, dialled=address, attempt=attempt)
                attempt = 0 if linked else attempt + 1
                if time.monotonic() - started > 10:
                    backoff = BACKOFF_FIRST
            await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _run_link(self, link: PeerLink, dialled: str | None = None, attempt: int = 0) -> bool:
        """Run one link to its end; False if it never got past the handshake."""
        slot = link.remote_host or "?"
        if not link.initiator and not self._handshakes.acquire(slot):
            await link.close("too many links in their handshake")
            return False
        membership = self.membership
        offered = [membership.keys_for_attempt(attempt)] if link.initiator else membership.epochs
        try:
            info = await asyncio.wait_for(
                link.handshake(
                    self.identity,
                    offered,
                    self.display_name,
                    self.listen_port,
                    self._certificate_fp,
                    membership.accepts,
                ),
                HANDSHAKE_SECONDS,
            )
        except (RemoteProtocolError, ConnectionError, TimeoutError) as exc:
            log.info("handshake with %s failed: %s", dialled or link.remote_host, exc)
            await link.close(f"handshake failed: {exc}")
            return False
        finally:
            if not link.initiator:
                self._handshakes.release(slot)
        peer_id = info.peer_id
        if not link.initiator:
            self._admission.proven(link.transport)
        if dialled:
            self._address_peer[dialled] = peer_id
        if self._is_refused(peer_id):
            until, why = self.refused[peer_id]
            log.info("refusing %s until %s: %s", peer_id[:16], time.ctime(until), why)
            await link.close("refused for a while after breaking rules")
            return True
        if info.circle.circle_id != self.circle.circle_id:
            await link.close("the circle changed")  # switched while the handshake ran
            return True
        if dialled:
            self._address_peer[dialled] = peer_id
            await self.db.call(state.remember_address, dialled, "given", peer_id)
            await self.db.call(state.address_result, dialled, True)
        address = dialled or (
            f"{info.remote_host}:{info.listen_port}"
            if info.listen_port and info.remote_host
            else None
        )
        existing = self._sessions.get(peer_id)
        if existing is not None:
            if not self._prefer(link, existing.link, peer_id):
                await link.close("duplicate link")
                return True
            await self._drop_session(existing, "replaced by a newer link")
            await existing.link.close("duplicate link")
        # What was checked before the awaits above may have changed meanwhile (the member
        # removed, the circle changed, another link to the same peer set up): check again,
        # with no await between this check and the session taking its place.
        still_member = self.membership.accepts(bytes.fromhex(peer_id), info.circle)
        if (
            not still_member
            or info.circle.circle_id != self.circle.circle_id
            or peer_id in self._sessions
            or self._is_refused(peer_id)
        ):
            await link.close("the link is no longer wanted")
            return True
        session = _Session(
            link=link,
            peer_id=peer_id,
            name=info.display_name,
            address=address,
            exchange=hx.HashExchange(BLAKE3),
            outbox=_Outbox(link),
        )
        self._sessions[peer_id] = session

        def cut_off() -> None:
            self._spawn(self._cut_off(session))

        session.outbox.on_overflow = cut_off
        session.server = asyncio.create_task(self._serve_requests(session))
        await self.membership.met(peer_id)
        await self.db.call(state.peer_seen, peer_id, info.display_name, address)
        if address and not dialled:
            self._address_peer[address] = peer_id
            await self.db.call(state.remember_address, address, "learned", peer_id)
        log.info("linked with %s (%s) at %s", info.display_name, peer_id[:16], address)
        try:
            if not link.initiator:
                self._offer_bulk(session)
            update = self.membership.update
            if info.circle.epoch < self.circle.epoch and update is not None:
                # The peer proved an older secret: it missed a change; bring it up to date.
                session.outbox.put(CHANNEL_CIRCLE, encode_update(update))
            async with self._gossip_lock:
                # A newer link to the same peer may have replaced this one during the awaits
                # above; the gossip then belongs to that one.
                if self._sessions.get(peer_id) is not session:
                    raise ConnectionError("replaced by a newer link")
                events = self.gossip.link_opened(peer_id, initiator=link.initiator)
                await self._apply_gossip(events)
            since = await self.db.call(state.get_progress, peer_id, self._provided_stream())
            self._exchange(session, session.exchange.id(self.identity.peer_id))
            self._exchange(session, session.exchange.since(since))
            if self._manifests_missing:
                for hash_ in self._manifests_missing:
                    self._manifests_wanted[hash_] = None
                self._manifests_missing.clear()
                self._spawn(self._fetch_manifests())
            self._pump()
            await self._receive_loop(session)
        except RemoteProtocolError as exc:
            log.warning("link to %s closed: %s", peer_id[:16], exc)
            await link.close(str(exc))
            await self._strike(peer_id, str(exc))
        except ConnectionError as exc:
            log.info("link to %s ended: %s", peer_id[:16], exc)
        finally:
            if self._sessions.get(peer_id) is session:
                await self._drop_session(session, "link closed")
            await link.close()
        return True

    async def _cut_off(self, session: _Session) -> None:
        reason = (
            "it asked for more than it reads "
            f"(over {OUTBOX_HARD_LIMIT_BYTES >> 20} MiB of answers waiting)"
        )
        log.warning("closing link to %s: %s", session.peer_id[:16], reason)
        await self._strike(session.peer_id, reason)
        await session.link.close(reason)

    def _prefer(self, new: PeerLink, old: PeerLink, peer_id: str) -> bool:
        """Of two links to one peer, both sides keep the one dialled by the smaller peer id."""

        def dialler(link: PeerLink) -> str:
            return self.identity.peer_id if link.initiator else peer_id

        return dialler(new) < dialler(old)

    async def _drop_session(self, session: _Session, why: str, *, locked: bool = False) -> None:
        """Forget a session; ``locked``: the caller holds the gossip lock already."""
        if self._sessions.get(session.peer_id) is session:
            del self._sessions[session.peer_id]
        if locked:
            self.gossip.link_closed(session.peer_id)
        else:
            async with self._gossip_lock:
                self.gossip.link_closed(session.peer_id)
        session.outbox.discard()  # the link is closed: nothing waiting can still go out
        if session.server is not None:
            session.server.cancel()
        if session.stop_expecting_bulk is not None:
            session.stop_expecting_bulk()
        if session.bulk_reader is not None:
            session.bulk_reader.cancel()
        if session.outbox.bulk is not None:
            self._spawn(session.outbox.bulk.close())
        for job, index in session.requested.values():
            if index is not None:
                job.waiting.append(index)
            else:
                job.asked_manifest.discard(session.peer_id)  # ask it again when it is back
        session.requested.clear()
        with contextlib.suppress(Exception):
            await self.db.call(state.peer_seen, session.peer_id, None, None)
        log.info("link to %s dropped: %s", session.peer_id[:16], why)
        self._pump()

    async def _receive_loop(self, session: _Session) -> None:
        while True:
            channel, payload = await session.link.receive()
            if channel == CHANNEL_GOSSIP:
                session.rates.charge_gossip()
                if len(payload) > 4096:  # many operations: their signatures beside the loop
                    await asyncio.to_thread(
                        self._signatures.check_in_advance, self.circle.topic, payload
                    )
                async with self._gossip_lock:
                    events = self.gossip.receive(session.peer_id, payload)
                    await self._apply_gossip(events)
                if any(isinstance(e, CloseLink) for e in events):
                    return
                learned = [e for e in events if isinstance(e, OperationsLearned)]
                session.rates.charge_operations(sum(len(e.ops) for e in learned))
                pause = session.rates.operations_weigh(op.key for e in learned for op in e.ops)
                if pause:
                    # Kept operations cost memory: a peer bringing them faster than the
                    # rate waits, and its further messages wait in its own buffers.
                    await asyncio.sleep(pause)
            elif channel == CHANNEL_CIRCLE:
                session.rates.charge_gossip()
                await self._on_circle_update(session, decode_update(payload))
            elif channel == CHANNEL_EXCHANGE:
                session.rates.charge_exchange()
                message = hx.decode_message(payload)
                async with session.exchange_lock:
                    await self._on_exchange(session, session.exchange.receive(message))
            elif channel == CHANNEL_BULK and session.link.initiator:
                port, token = decode_offer(payload)
                if session.bulk_reader is None and session.link.remote_host:
                    session.bulk_reader = asyncio.create_task(
                        self._dial_bulk(session, session.link.remote_host, port, token)
                    )
            else:
                raise RemoteProtocolError(f"unknown channel {channel}")

    # ------------------------------------------------------------------ hash exchange

    def _exchange(self, session: _Session, events: hx.Events) -> None:
        """Send what a call on the exchange produced (calls never produce anything else)."""
        for event in events:
            if isinstance(event, hx.Send):
                session.outbox.put(
                    CHANNEL_EXCHANGE,
                    *hx.encode_message_parts(event.message),
                    content=isinstance(event.message, hx.Deliver),
                )

    async def _on_exchange(self, session: _Session, events: hx.Events) -> None:
        # What the exchange answered goes out before anything below awaits: an answer
        # ("not here") must not overtake, or be overtaken by, what is sent meanwhile (a
        # provide after a share), or the peer reads them in the wrong order.
        for event in events:
            if isinstance(event, hx.Send):
                session.outbox.put(CHANNEL_EXCHANGE, *hx.encode_message_parts(event.message))
        for event in events:
            match event:
                case hx.Send():
                    pass  # sent above
                case hx.SinceReceived(seq=since):
                    await self._provide(session, since)
                case hx.Available(hashes=hashes, position=position):
                    again = False
                    for hash_ in hashes:
                        self._availability[hash_].add(session.peer_id)
                        if hash_ in self._manifests_missing:
                            # Asked before it had the item (the key can arrive first): it
                            # has it now.
                            self._manifests_missing.discard(hash_)
                            self._manifests_wanted[hash_] = None
                            again = True
                    if again:
                        self._spawn(self._fetch_manifests())
                    await self.db.call(state.peer_has, session.peer_id, hashes)
                    if position is not None:
                        await self.db.call(
                            state.set_progress, session.peer_id, self._provided_stream(), position
                        )
                        self._exchange(session, session.exchange.seen(position))
                    self._pump()
                case hx.SeenReceived(seq=seq):
                    session.acknowledged = max(session.acknowledged, seq)
                case hx.ServeRequested(hash=hash_):
                    session.serving.put_nowait(hash_)
                case hx.Response(hash=hash_, content=content):
                    await self._on_content(session, hash_, content)
                case hx.NotHereReceived(hash=hash_):
                    self._availability[hash_].discard(session.peer_id)
                    await self.db.call(state.peer_lacks, session.peer_id, hash_)
                    job_index = session.requested.pop(hash_, None)
                    if job_index is not None and job_index[1] is not None:
                        job_index[0].waiting.append(job_index[1])
                    self._pump()
                case hx.IdReceived(value=value):
                    if value != session.peer_id:
                        raise RemoteProtocolError("the exchange id differs from the link's peer id")
                case hx.RequestReceived(hashes=hashes):
                    await self._relay(hashes)
                case hx.Closed():
                    pass

    def _provided_stream(self) -> str:
        """Name of the sync progress kept per peer: how far we read its provide log, per circle."""
        return f"provided:{self.circle.circle_id}"

    # ------------------------------------------------------------------ bulk path

    def _offer_bulk(self, session: _Session) -> None:
        """The listener's side: a token for this link's bulk path, sent over the link."""
        if self._bulk is None:
            return
        token = new_bulk_token()

        async def attach(connection: BulkConnection) -> None:
            if self._sessions.get(session.peer_id) is not session:
                await connection.close()
                return
            session.bulk_reader = asyncio.current_task()
            await self._run_bulk(session, connection)

        session.stop_expecting_bulk = self._bulk.expect(token, attach)
        session.outbox.put(CHANNEL_BULK, encode_offer(self._bulk.port, token))

    async def _dial_bulk(self, session: _Session, host: str, port: int, token: bytes) -> None:
        try:
            connection = await dial_bulk(host, port, token)
        except ConnectionError as exc:
            log.info("no bulk path to %s (%s); content goes over the link", host, exc)
            return
        await self._run_bulk(session, connection)

    async def _run_bulk(self, session: _Session, connection: BulkConnection) -> None:
        """Read content from the bulk path as if it came over the link."""
        session.outbox.bulk = connection
        log.info("bulk path to %s open", session.peer_id[:16])
        try:
            while True:
                try:
                    sealed_message = await connection.receive()
                except RemoteProtocolError as exc:
                    # A frame that does not open may come from anyone on the network path
                    # (the bulk connection has no TLS): end the bulk path, blame no peer.
                    log.info("bulk path to %s ended: %s", session.peer_id[:16], exc)
                    return
                message = hx.decode_message(sealed_message)  # sealed by the peer itself
                if not isinstance(message, hx.Deliver):
                    raise RemoteProtocolError("only content may come over the bulk path")
                session.rates.charge_exchange()
                async with session.exchange_lock:
                    await self._on_exchange(session, session.exchange.receive(message))
        except ConnectionError as exc:
            log.debug("bulk path to %s ended: %s", session.peer_id[:16], exc)
        except RemoteProtocolError as exc:
            log.warning("link to %s closed: %s", session.peer_id[:16], exc)
            await session.link.close(str(exc))
            await self._strike(session.peer_id, str(exc))
        finally:
            if session.outbox.bulk is connection:
                session.outbox.bulk = None
            await connection.close()

    async def _provide(self, session: _Session, since: int) -> None:
        """Provide our log after ``since``; what comes before, the peer knows already."""
        entries = await self.content.provided_since(-1)
        old = [h for seq, h in entries if seq <= since]
        new = [h for seq, h in entries if seq > since]
        session.exchange.provide(old)  # the peer has these from before: serve, don't resend
        position = entries[-1][0] if entries else since
        session.sent_position = position
        if new:
            self._exchange(session, session.exchange.provide(new, position=position))

    async def _provide_news(self) -> None:
        """After a share or a finished download: tell every link what is new."""
        for session in list(self._sessions.values()):
            entries = await self.content.provided_since(session.sent_position)
            if entries:
                session.sent_position = entries[-1][0]
                hashes = [h for _, h in entries]
                self._exchange(
                    session, session.exchange.provide(hashes, position=session.sent_position)
                )

    async def _serve_requests(self, session: _Session) -> None:
        """Answer the peer's requests, a few reads at once, no faster than its link drains."""
        reading = asyncio.Semaphore(SERVE_READS_AT_ONCE)
        readers: set[asyncio.Task[None]] = set()

        async def answer(hash_: str) -> None:
            try:
                # Chunks are asked for far more often than manifests: look for a chunk first.
                # Only what is offered to this circle is served in it (a member must never
                # get another circle's content by guessing hashes). A chunk read is checked
                # against its hash by the store, every time.
                body: bytes | None = None
                checked = False
                if await self.content.is_provided(hash_):
                    body = await self.content.read_chunk(hash_)
                    checked = body is not None
                    if body is None:
                        body = await self.content.manifest_body(hash_)
                if session.exchange.closed or session.link.closed:
                    return
                if body is None:
                    self._exchange(session, session.exchange.decline(hash_))
                else:
                    session.sent_bytes += len(body)
                    self._exchange(session, session.exchange.respond(hash_, body, checked=checked))
            finally:
                reading.release()

        try:
            while True:
                hash_ = await session.serving.get()
                await session.outbox.room()
                await reading.acquire()
                task = asyncio.create_task(answer(hash_))
                readers.add(task)
                task.add_done_callback(readers.discard)
        finally:
            for task in readers:
                task.cancel()

    # ------------------------------------------------------------------ fetching

    def _start_fetch(
        self,
        manifest_hash: str,
        target: Path,
        download: Download | None,
        *,
        manifest_only: bool = False,
    ) -> _Fetch:
        job = _Fetch(manifest_hash, target, asyncio.get_running_loop().create_future())
        job.manifest_only = manifest_only
        job.done.add_done_callback(lambda f: f.exception() if not f.cancelled() else None)
        if download is not None:
            job.download = download
            job.waiting = list(download.missing())
        self._fetches[manifest_hash] = job
        # Decided before the pump: it hands waiting chunks to links, and an empty waiting
        # list then means "all asked for", not "all here".
        if download is not None and not download.missing():
            self._spawn(self._finish(job))
        else:
            self._pump()
        return job

    async def _relay(self, hashes: tuple[str, ...]) -> None:
        """A peer asked for shared content we do not hold: fetch it, then offer it.

        This is how content crosses a peer in between, as keys do: a peer that cannot reach
        the one who shared a file gets it from a neighbour that fetched it first. Only
        manifests of keys listed in the gossip are relayed, so a peer cannot make us fetch
        arbitrary things.
        """
        listed = {
            digest.hex()
            for key in self.gossip.list()
            if (digest := manifest_digest_of_key(key)) is not None
        }
        for hash_ in hashes:
            job = self._fetches.get(hash_)
            if job is not None and job.manifest_only and hash_ in listed:
                job.manifest_only, job.target = False, self.paths.relay  # the files too, now
                self.paths.relay.mkdir(parents=True, exist_ok=True)
                continue
            if hash_ not in listed or hash_ in self._fetches or self.closing:
                continue
            # Ours already (shared, fetched, or being fetched)? Having only the manifest
            # (fetched to show the item's name) is not having the files.
            facts = (await self.db.call(catalog.content_facts, [hash_])).get(hash_)
            if facts is not None and (facts.shared_from or facts.download_state is not None):
                continue
            if hash_ in self._fetches:
                continue
            log.info("relaying %s for a peer", hash_[:16])
            self.paths.relay.mkdir(parents=True, exist_ok=True)
            self._start_fetch(hash_, self.paths.relay, None)

    def _pump(self) -> None:
        """Ask linked peers for what the downloads need, within each link's window."""
        for job in list(self._fetches.values()):
            if job.done.done() or job.busy:
                continue
            if job.download is None:
                self._ask_manifest(job)
                continue
            for session in list(self._sessions.values()):
                self._ask_chunks(job, session)

    def _ask_manifest(self, job: _Fetch) -> None:
        if any(job.manifest_hash in s.requested for s in self._sessions.values()):
            return
        holders = self._availability.get(job.manifest_hash, set())
        candidates = [s for s in self._sessions.values() if s.peer_id in holders] or [
            s for s in self._sessions.values() if s.peer_id not in job.asked_manifest
        ]
        if candidates:
            session = candidates[0]
            job.asked_manifest.add(session.peer_id)
            session.requested[job.manifest_hash] = (job, None)
            self._exchange(session, session.exchange.request([job.manifest_hash]))
        elif job.manifest_only:
            # Nobody linked now has it: ask again when a new link opens.
            self._fetches.pop(job.manifest_hash, None)
            self._manifests_missing.add(job.manifest_hash)
            job.done.set_result(job.target)
            self._spawn(self._fetch_manifests())

    def _ask_chunks(self, job: _Fetch, session: _Session) -> None:
        assert job.download is not None
        holders_of_all = self._availability.get(job.manifest_hash, set())
        room = CHUNKS_IN_FLIGHT_PER_PEER - len(session.requested)
        if room <= 0 or not job.waiting:
            return
        asked: list[str] = []
        kept: list[int] = []
        for index in job.waiting:
            chunk = job.download.chunk_hash(index)
            has = session.peer_id in holders_of_all or session.peer_id in self._availability.get(
                chunk, ()
            )
            if len(asked) < room and has and chunk not in session.requested:
                session.requested[chunk] = (job, index)
                asked.append(chunk)
            else:
                kept.append(index)
        job.waiting = kept
        if asked:
            self._exchange(session, session.exchange.request(asked))

    async def _on_content(self, session: _Session, hash_: str, content: bytes) -> None:
        entry = session.requested.pop(hash_, None)
        if entry is None:
            return
        session.received_bytes += len(content)
        job, index = entry
        if job.busy and self._fetches.get(job.manifest_hash) is not job:
            self._pump()  # paused or cancelled meanwhile: the window it held is free again
            return
        if index is None:
            await self._on_manifest(job, content, session)
        else:
            # Written beside the link, not in its way: the link keeps receiving while the
            # disk works. Too many writes waiting hold the link back (and its memory).
            await self._writes.acquire()
            job.writing += 1
            self._spawn(self._write(session, job, hash_, index, content))
        self._pump()

    async def _write(
        self, session: _Session, job: _Fetch, hash_: str, index: int, content: bytes
    ) -> None:
        download = job.download
        assert download is not None
        try:
            # Identical chunks may stand at several places: one delivery fills them all.
            missing = set(download.missing())
            places = [i for i in download.indices_of(hash_) if i in missing] or [index]
            for place in places:
                # The exchange checked the content against hash_ when it arrived.
                await download.write_chunk(place, content, checked_as=hash_)
        except UsageError as exc:  # disk full: stop, keep what was verified
            self._fail(job, exc)
            return
        except RemoteProtocolError as exc:
            job.waiting.append(index)  # ask someone else; this peer is cut off
            log.warning("closing link to %s: %s", session.peer_id[:16], exc)
            await session.link.close(str(exc))
            await self._strike(session.peer_id, str(exc))
            return
        finally:
            job.writing -= 1
            self._writes.release()
        job.waiting = [i for i in job.waiting if i not in places]
        self.chunks_received += 1
        if (
            not download.missing()
            and job.writing == 0
            and not any(j is job for s in self._sessions.values() for j, _ in s.requested.values())
        ):
            self._spawn(self._finish(job))
            return
        self._pump()

    async def _on_manifest(self, job: _Fetch, body: bytes, session: _Session) -> None:
        try:
            await self.content.add_manifest(body)
            if job.manifest_only:
                if self._fetches.get(job.manifest_hash) is job:
                    del self._fetches[job.manifest_hash]
                job.done.set_result(job.target)
                self._emit("items", hashes=[job.manifest_hash])
                self._spawn(self._fetch_manifests())
                if self.keep_everything:
                    self._spawn(self._keep(job.manifest_hash))
                return
            job.download = await self.content.begin_download(job.manifest_hash, job.target)
        except UsageError as exc:
            self._fail(job, exc)
            return
        except RemoteProtocolError as exc:
            self._fail(job, exc)
            # No version of this application writes such a manifest, and a peer passes on
            # only manifests it checked: the one who delivered it made it.
            await self._strike(
                session.peer_id, f"it delivered a manifest that breaks the rules: {exc}"
            )
            return
        self._emit("items", hashes=[job.manifest_hash])
        job.waiting = list(job.download.missing())
        if not job.waiting:
            self._spawn(self._finish(job))
        else:
            self._pump()

    async def _finish(self, job: _Fetch) -> None:
        if job.busy or job.download is None:
            return
        job.busy = True
        try:
            path = await job.download.finish()
        except (UsageError, OSError) as exc:
            job.busy = False
            self._fail(job, exc)
            return
        if self._fetches.get(job.manifest_hash) is job:
            del self._fetches[job.manifest_hash]
        if not job.done.done():
            job.done.set_result(path)
        log.info("download complete: %s", path)
        self._emit("items", hashes=[job.manifest_hash])
        if job.target != self.paths.relay:
            self._emit(
                "download_done",
                hash=job.manifest_hash,
                path=str(path),
                name=job.download.manifest.name,
            )
        await self._provide_news()

    def _fail(self, job: _Fetch, exc: BaseException) -> None:
        if self._fetches.get(job.manifest_hash) is job:
            del self._fetches[job.manifest_hash]
        error = exc if isinstance(exc, UsageError) else UsageError(f"The download failed: {exc}")
        log.warning("download %s stopped: %s", job.manifest_hash, error)
        if not job.done.done():
            job.done.set_exception(error)
        if not job.manifest_only and job.target != self.paths.relay:
            self._emit("items", hashes=[job.manifest_hash])
            self._emit("download_failed", hash=job.manifest_hash, error=str(error))


def _key_from_hex(value: object) -> bytes:
    if not isinstance(value, str):
        raise UsageError("Give the key as hexadecimal digits.")
    try:
        key = bytes.fromhex(value.strip())
    except ValueError as exc:
        raise UsageError(
            f"{value!r} is not a key: a key is written in hexadecimal digits (0-9, a-f)."
        ) from exc
    if not key:
        raise UsageError("The key is empty.")
    if len(key) > 1024:
        raise KeyTooLargeError(f"This key is {len(key)} bytes long; keys are at most 1024 bytes.")
    return key


def _digest_text(value: object) -> str:
    text = str(value or "").strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise UsageError("Say which item with its 64-character content hash.")
    return text
