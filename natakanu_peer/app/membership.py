"""Who belongs to the active circle: its secrets by epoch, its removed members, its members met.

The node asks this module which keys to prove membership with when dialling (the newest
first, older ones on later attempts, so a member who missed a change of secret can still
reach someone who tells it), whom to accept at the handshake, and what a signed
``CircleUpdate`` from a member changes. Rules:

- a removed member is never accepted, whatever secret it shows;
- an older secret is accepted only from a member the newest update's author knew (an old
  invitation, or a removed member under a new identity, must not get the new secret);
- an update is adopted when it supersedes the secret in use; the removed members of both
  are kept, and if the update leaves out someone we had removed, a new secret is made at
  once, so the secret in use never reaches a removed member knowingly.

This module must never send anything (the node does) and keeps every change in the state
file before it is used.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..identity import Identity, verify_signature
from ..protocol.circle import CircleKeys, CircleUpdate, decode_update, encode_update
from ..storage import state
from ..storage.database import Database

#: An update may move a circle on by at most this many epochs (removals are rare; a jump to
#: the largest epoch would stop anyone from ever removing anyone again).
MAX_EPOCH_STEP = 1000


@dataclass
class Adopted:
    """What adopting an update changed: the update now in use (to pass on), the peers removed."""

    update: CircleUpdate
    newly_removed: set[str]


class Membership:
    """The active circle's keys and members, kept in step with the state file."""

    def __init__(self, db: Database, identity: Identity, keys: CircleKeys) -> None:
        self._db = db
        self._identity = identity
        self.keys = keys  # the secret in use
        self.epochs: list[CircleKeys] = [keys]  # every secret known, newest first
        self.removed: set[str] = set()
        self.members: set[str] = set()
        self.update: CircleUpdate | None = None  # the signed update behind ``keys``, if any

    @classmethod
    async def load(cls, db: Database, identity: Identity, circle_id: str) -> Membership:
        rows = await db.call(state.circle_epochs, circle_id)
        epochs = [CircleKeys.of(circle_id, epoch, secret) for epoch, secret, _ in rows]
        membership = cls(db, identity, epochs[0])
        membership.epochs = epochs
        signed = rows[0][2]
        membership.update = decode_update(signed) if signed else None
        membership.removed = await db.call(state.removed_members, circle_id)
        membership.members = await db.call(state.members, circle_id)
        return membership

    # ------------------------------------------------------------------ links

    def keys_for_attempt(self, attempt: int) -> CircleKeys:
        """The secret to dial with on the ``attempt``-th try in a row (0: the newest)."""
        return self.epochs[attempt % len(self.epochs)]

    def accepts(self, peer_id: bytes, keys: CircleKeys) -> bool:
        """Whether a peer that proved ``keys`` may link with us."""
        peer = peer_id.hex()
        if peer in self.removed:
            return False
        if keys.epoch == self.keys.epoch:
            return True
        # An older secret: only from a member the update's author knew (a removed member's
        # new identity, met with the old secret by someone who had not heard of the
        # removal yet, is not one of them).
        if self.update is not None:
            return peer_id in self.update.members
        return peer in self.members

    async def met(self, peer_id: str) -> None:
        if peer_id not in self.members and peer_id not in self.removed:
            self.members.add(peer_id)
            await self._db.call(state.add_member, self.keys.circle_id, peer_id, time.time())

    # ------------------------------------------------------------------ changes of secret

    async def remove(self, peer_id: str) -> Adopted:
        """Leave ``peer_id`` out: a new secret of the next epoch, signed by us."""
        removed = self.removed | {peer_id}
        update = CircleUpdate(
            self.keys.next_epoch(),
            frozenset(bytes.fromhex(p) for p in removed),
            self._identity.public_key,
            members=frozenset(bytes.fromhex(p) for p in self.members - removed),
        ).signed(self._identity.sign)
        return await self._use(update)

    async def consider(self, update: CircleUpdate, sender: str) -> Adopted | None:
        """An update a member sent us; what changed, or None if it changes nothing.

        Raises ``ValueError`` when it cannot be genuine (bad signature, another circle, an
        author or a sender that was removed).
        """
        if update.keys.circle_id != self.keys.circle_id:
            raise ValueError("an update for another circle")
        if not update.verified(verify_signature):
            raise ValueError("an update whose signature does not hold")
        if update.author.hex() in self.removed or sender in self.removed:
            raise ValueError("an update from a removed member")
        if update.keys.epoch > self.keys.epoch + MAX_EPOCH_STEP:
            raise ValueError("an update that jumps too many epochs at once")
        if not update.supersedes(self.keys):
            return None
        adopted = await self._use(update)
        missing = self.removed - {p.hex() for p in update.removed}
        if missing:
            # The newer secret was made without knowing of a removal we know of: replace it.
            again = await self.remove(next(iter(missing)))
            adopted.update = again.update
            adopted.newly_removed |= again.newly_removed
        return adopted

    async def _use(self, update: CircleUpdate) -> Adopted:
        removed = {p.hex() for p in update.removed}
        newly = removed - self.removed
        keys = update.keys
        await self._db.call(
            state.use_secret,
            keys.circle_id,
            keys.epoch,
            keys.secret,
            encode_update(update),
            sorted(removed),
            time.time(),
        )
        self.keys, self.update = keys, update
        self.epochs = [keys, *(k for k in self.epochs if k.epoch != keys.epoch)]
        self.epochs.sort(key=lambda k: k.epoch, reverse=True)
        self.removed |= removed
        self.members -= removed
        return Adopted(update, newly)
