"""Circles: the secret a community shares, what is derived from it, invitations, and updates.

A circle is born from a 256-bit secret. Its ``circle_id`` (a stable name, never sent to
strangers) and its gossip ``topic`` are derived from that first secret and never change.
The secret in use has an ``epoch``: removing a member makes a new secret, of the next epoch,
which the remaining members receive in a signed ``CircleUpdate`` over their links. From the
secret in use are derived, with HMAC-SHA256 under distinct labels (no derived value reveals
the secret or another one):

- ``auth_key``: the key of the membership proofs in the link handshake;
- ``discovery_key``: the key of the tags announced on the local network.

An invitation is text that carries the circle's name, id, epoch and secret, the inviter's
peer id and address hints of peers that may be reached. It is ``NATAKANU1`` followed by
base32 (upper case and digits only: it fits a QR code's alphanumeric mode) of a versioned
binary body and an 8-byte check, so a truncated, mistyped or altered invitation is refused
with a sentence.

This module must never do I/O and never accept a malformed invitation or update: every
decode error is an ``InvitationError`` (a sentence a person can act on) or a
``RemoteProtocolError``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import RemoteProtocolError, UsageError
from .wire import Reader, Writer

SECRET_BYTES = 32
CIRCLE_ID_BYTES = 16
MAX_NAME_CHARS = 64
MAX_HINTS = 8
MAX_HINT_BYTES = 64
PEER_ID_BYTES = 32
INVITATION_PREFIX = "NATAKANU1"
MAX_EPOCH = 2**31
#: Most members one update may name as removed, and as allowed to catch up.
MAX_REMOVED = 4096
MAX_MEMBERS = 4096
_INVITATION_VERSION = 1
_CHECK_BYTES = 8
_BASE32 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
#: No invitation body is longer than this; longer text is refused before decoding.
MAX_INVITATION_CHARS = 2048


class InvitationError(UsageError):
    """An invitation that cannot be used, with a sentence saying why."""


def _derive(secret: bytes, label: str, size: int = 32) -> bytes:
    return hmac.new(secret, b"natakanu circle/" + label.encode(), hashlib.sha256).digest()[:size]


@dataclass(frozen=True, slots=True)
class CircleKeys:
    """A circle's secret in use (of ``epoch``) and the values derived from it."""

    circle_id: str
    epoch: int
    secret: bytes
    auth_key: bytes
    discovery_key: bytes

    @property
    def topic(self) -> str:
        return f"natakanu-circle:{self.circle_id}"

    @classmethod
    def of(cls, circle_id: str, epoch: int, secret: bytes) -> CircleKeys:
        if len(secret) != SECRET_BYTES:
            raise ValueError(f"a circle secret has {SECRET_BYTES} bytes, not {len(secret)}")
        if len(bytes.fromhex(circle_id)) != CIRCLE_ID_BYTES or not 0 <= epoch <= MAX_EPOCH:
            raise ValueError("not a circle id and epoch")
        return cls(
            circle_id=circle_id,
            epoch=epoch,
            secret=secret,
            auth_key=_derive(secret, "link auth"),
            discovery_key=_derive(secret, "discovery"),
        )

    @classmethod
    def from_secret(cls, secret: bytes) -> CircleKeys:
        """A new circle's keys: its id comes from its first secret."""
        return cls.of(_derive(secret, "id", CIRCLE_ID_BYTES).hex(), 0, secret)

    @classmethod
    def generate(cls) -> CircleKeys:
        return cls.from_secret(secrets.token_bytes(SECRET_BYTES))

    def next_epoch(self) -> CircleKeys:
        """The same circle with a new secret, one epoch on (after a member is removed)."""
        return CircleKeys.of(self.circle_id, self.epoch + 1, secrets.token_bytes(SECRET_BYTES))

    def __repr__(self) -> str:  # never print the secret by accident
        return f"CircleKeys(circle_id={self.circle_id!r}, epoch={self.epoch})"


def check_circle_name(name: str) -> str:
    """The name, normalised; ``UsageError`` saying what to change when it cannot be used."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise UsageError("A circle needs a name; type a few words.")
    if len(name) > MAX_NAME_CHARS:
        raise UsageError(f"A circle name has at most {MAX_NAME_CHARS} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise UsageError("A circle name cannot hold control characters or line breaks.")
    return name


def check_hint(hint: str) -> str:
    """A ``host:port`` address hint, or ``ValueError``."""
    raw = hint.encode("utf-8", "replace")
    host, sep, port = hint.rpartition(":")
    if (
        not sep
        or not host
        or len(raw) > MAX_HINT_BYTES
        or not port.isdigit()
        or not 0 < int(port) < 65536
        or any(not (c.isalnum() or c in ".-:[]_%") for c in host)
    ):
        raise ValueError(f"not a host:port address: {hint!r}")
    return hint


@dataclass(frozen=True, slots=True)
class Invitation:
    """What a new member needs to join a circle."""

    name: str
    keys: CircleKeys
    inviter: bytes
    hints: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Invitation(name={self.name!r}, hints={self.hints!r})"


def encode_invitation(invitation: Invitation) -> str:
    name = check_circle_name(invitation.name)
    if len(invitation.inviter) != PEER_ID_BYTES:
        raise ValueError("an invitation needs the inviter's 32-byte peer id")
    hints = [check_hint(h) for h in invitation.hints[:MAX_HINTS]]
    keys = invitation.keys
    w = Writer().byte(_INVITATION_VERSION).blob(name.encode())
    w.raw(bytes.fromhex(keys.circle_id)).varint(keys.epoch).raw(keys.secret)
    w.raw(invitation.inviter).varint(len(hints))
    for hint in hints:
        w.blob(hint.encode())
    body = w.getvalue()
    check = hashlib.blake2s(body, digest_size=_CHECK_BYTES).digest()
    text = base64.b32encode(body + check).decode("ascii").rstrip("=")
    return INVITATION_PREFIX + text


def decode_invitation(text: str) -> Invitation:
    """The invitation in ``text`` (spaces, line breaks and case do not matter)."""
    compact = "".join(text.split()).upper()
    if len(compact) > MAX_INVITATION_CHARS:
        raise InvitationError("This text is far too long to be an invitation.")
    if not compact.startswith(INVITATION_PREFIX):
        raise InvitationError(
            "This is not a Natakanu invitation: an invitation starts with "
            f"{INVITATION_PREFIX}. Copy the whole text you were sent."
        )
    payload = compact[len(INVITATION_PREFIX) :]
    if not set(payload) <= _BASE32:
        raise InvitationError(
            "This invitation holds characters an invitation cannot have; it was changed or "
            "mistyped. Ask for it again."
        )
    try:
        raw = base64.b32decode(payload + "=" * (-len(payload) % 8))
    except (binascii.Error, ValueError) as exc:  # a length no invitation has: cut somewhere
        raise InvitationError(
            "This invitation is incomplete or was changed; copy the whole text again."
        ) from exc
    if len(raw) <= _CHECK_BYTES:
        raise InvitationError("This invitation is cut short; copy the whole text.")
    body, check = raw[:-_CHECK_BYTES], raw[-_CHECK_BYTES:]
    if not hmac.compare_digest(hashlib.blake2s(body, digest_size=_CHECK_BYTES).digest(), check):
        raise InvitationError(
            "This invitation is incomplete or was changed (its check does not match). "
            "Copy the whole text again, or ask for a new one."
        )
    try:
        r = Reader(body)
        version = r.byte("version")
        if version != _INVITATION_VERSION:
            raise InvitationError(
                "This invitation was made by a newer version of Natakanu Peer; update it."
            )
        name = check_circle_name(r.blob(MAX_NAME_CHARS * 4, "name").decode("utf-8"))
        circle_id = r.fixed(CIRCLE_ID_BYTES, "circle id").hex()
        epoch = r.varint(MAX_EPOCH, "epoch")
        keys = CircleKeys.of(circle_id, epoch, r.fixed(SECRET_BYTES, "secret"))
        inviter = r.fixed(PEER_ID_BYTES, "inviter")
        hints = tuple(
            check_hint(r.blob(MAX_HINT_BYTES, "hint").decode("utf-8"))
            for _ in range(r.count(MAX_HINTS, "hints"))
        )
        r.done()
    except InvitationError:
        raise
    except (UsageError, ValueError, RemoteProtocolError) as exc:
        raise InvitationError(
            "This invitation passed its check but its contents are not valid; ask for a new one."
        ) from exc
    return Invitation(name=name, keys=keys, inviter=inviter, hints=hints)


# ---------------------------------------------------------------------- updates

_UPDATE_LABEL = b"natakanu circle update/1\x00"
Sign = Callable[[bytes], bytes]
Verify = Callable[[bytes, bytes, bytes], bool]


@dataclass(frozen=True, slots=True)
class CircleUpdate:
    """A new secret for a circle and the members it leaves out, signed by the member who made
    it. It travels only over members' encrypted links."""

    keys: CircleKeys
    removed: frozenset[bytes]
    author: bytes
    signature: bytes = b""
    #: The members its author knew, who may still prove an older secret once to catch up.
    members: frozenset[bytes] = frozenset()

    def _signed_part(self) -> bytes:
        w = Writer().raw(bytes.fromhex(self.keys.circle_id)).varint(self.keys.epoch)
        w.raw(self.keys.secret).varint(len(self.removed))
        for peer in sorted(self.removed):
            w.raw(peer)
        w.varint(len(self.members))
        for peer in sorted(self.members):
            w.raw(peer)
        return w.raw(self.author).getvalue()

    def signed(self, sign: Sign) -> CircleUpdate:
        signature = sign(_UPDATE_LABEL + self._signed_part())
        return CircleUpdate(self.keys, self.removed, self.author, signature, self.members)

    def verified(self, verify: Verify) -> bool:
        return verify(self.author, _UPDATE_LABEL + self._signed_part(), self.signature)

    def supersedes(self, current: CircleKeys) -> bool:
        """Whether this update's secret replaces ``current`` (of the same circle).

        A later epoch wins; two different secrets of one epoch (two members removing someone
        at once) are ordered by the hash of the secret, so every member picks the same one.
        """
        if self.keys.epoch != current.epoch:
            return self.keys.epoch > current.epoch
        ours = hashlib.sha256(current.secret).digest()
        return hashlib.sha256(self.keys.secret).digest() > ours

    def __repr__(self) -> str:
        return f"CircleUpdate({self.keys!r}, removed={len(self.removed)})"


def encode_update(update: CircleUpdate) -> bytes:
    return update._signed_part() + update.signature


def decode_update(data: bytes | memoryview) -> CircleUpdate:
    """Decode an update; ``RemoteProtocolError`` for anything malformed (not yet verified)."""
    r = Reader(data)
    circle_id = r.fixed(CIRCLE_ID_BYTES, "circle id").hex()
    epoch = r.varint(MAX_EPOCH, "epoch")
    secret = r.fixed(SECRET_BYTES, "secret")
    removed = frozenset(
        r.fixed(PEER_ID_BYTES, "removed member") for _ in range(r.count(MAX_REMOVED, "removed"))
    )
    members = frozenset(
        r.fixed(PEER_ID_BYTES, "member") for _ in range(r.count(MAX_MEMBERS, "members"))
    )
    author = r.fixed(PEER_ID_BYTES, "author")
    signature = r.fixed(64, "signature")
    r.done()
    keys = CircleKeys.of(circle_id, epoch, secret)
    return CircleUpdate(keys, removed, author, signature, members)
