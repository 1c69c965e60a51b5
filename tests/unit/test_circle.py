"""Circles: derived keys, and invitations that survive copying but not tampering."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from natakanu_peer.errors import UsageError
from natakanu_peer.protocol.circle import (
    INVITATION_PREFIX,
    CircleKeys,
    Invitation,
    InvitationError,
    check_circle_name,
    decode_invitation,
    encode_invitation,
)

SECRET = bytes(range(32))
INVITER = bytes(range(100, 132))


def invitation(**changes: object) -> Invitation:
    fields: dict[str, object] = {
        "name": "Wapikoni ᓀᐦᐃᔭᐍᐏᐣ",
        "keys": CircleKeys.from_secret(SECRET),
        "inviter": INVITER,
        "hints": ("192.168.1.20:4700", "10.0.0.5:4700"),
    }
    fields.update(changes)
    return Invitation(**fields)  # type: ignore[arg-type]


def test_everything_derived_from_a_secret_is_distinct_and_stable() -> None:
    keys = CircleKeys.from_secret(SECRET)
    assert keys == CircleKeys.from_secret(SECRET)
    values = {keys.secret, keys.auth_key, keys.discovery_key, bytes.fromhex(keys.circle_id)}
    assert len(values) == 4
    later = keys.next_epoch()  # after a removal: same circle, new secret and derived keys
    assert (later.circle_id, later.topic, later.epoch) == (keys.circle_id, keys.topic, 1)
    assert later.auth_key != keys.auth_key and later.discovery_key != keys.discovery_key
    assert keys.circle_id in keys.topic
    assert SECRET.hex() not in repr(keys)
    other = CircleKeys.generate()
    assert other.circle_id != keys.circle_id and len(other.secret) == 32


def test_an_invitation_round_trips_through_text_even_reflowed_and_lower_case() -> None:
    text = encode_invitation(invitation())
    assert text.startswith(INVITATION_PREFIX)
    assert text.isalnum() and text == text.upper()  # QR alphanumeric mode, easy to copy
    assert decode_invitation(text) == invitation()
    chopped = "\n".join(text[i : i + 30] for i in range(0, len(text), 30))
    assert decode_invitation("  " + chopped.lower() + "\n") == invitation()


@pytest.mark.parametrize(
    ("mangle", "says"),
    [
        (lambda t: t[:-5], "incomplete or was changed"),
        (lambda t: t[: len(t) // 2], "incomplete or was changed"),
        (lambda t: t[:20] + ("A" if t[20] != "A" else "B") + t[21:], "incomplete or was changed"),
        (lambda t: t.replace(INVITATION_PREFIX, "HELLO"), "not a Natakanu invitation"),
        (lambda t: t + "!", "characters an invitation cannot have"),
        (lambda t: INVITATION_PREFIX, "cut short"),
        (lambda t: t * 20, "too long"),
    ],
    ids=["cut", "half", "one letter changed", "wrong start", "odd character", "empty", "huge"],
)
def test_a_damaged_invitation_is_refused_with_a_sentence(mangle, says) -> None:
    text = encode_invitation(invitation())
    with pytest.raises(InvitationError, match=says) as refused:
        decode_invitation(mangle(text))
    assert isinstance(refused.value, UsageError)  # shown to the person as it is


def test_bad_circle_names_are_refused_with_what_to_change() -> None:
    assert check_circle_name("  Famille Awashish ") == "Famille Awashish"
    for bad, says in [("", "needs a name"), ("x" * 65, "at most"), ("a\nb", "control")]:
        with pytest.raises(UsageError, match=says):
            check_circle_name(bad)
    with pytest.raises(ValueError, match="host:port"):
        encode_invitation(invitation(hints=("no port here",)))


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_an_invitation_or_the_declared_error(text: str) -> None:
    with contextlib.suppress(InvitationError):
        decode_invitation(text)


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=200))
def test_any_body_under_a_valid_check_gives_an_invitation_or_the_declared_error(
    body: bytes,
) -> None:
    import base64
    import hashlib

    # The harness works: a real body under its check decodes.
    assert decode_invitation(encode_invitation(invitation())).keys.secret == SECRET
    check = hashlib.blake2s(body, digest_size=8).digest()
    text = INVITATION_PREFIX + base64.b32encode(body + check).decode().rstrip("=")
    with contextlib.suppress(InvitationError):
        decode_invitation(text)


def test_an_update_is_signed_over_everything_it_says() -> None:
    from natakanu_peer.identity import Identity, verify_signature
    from natakanu_peer.protocol.circle import CircleUpdate, decode_update, encode_update

    author, removed = Identity.generate(), Identity.generate()
    keys = CircleKeys.from_secret(SECRET)
    update = CircleUpdate(
        keys.next_epoch(), frozenset({removed.public_key}), author.public_key
    ).signed(author.sign)
    again = decode_update(encode_update(update))
    assert again == update and again.verified(verify_signature)
    assert again.supersedes(keys) and not CircleUpdate(keys, frozenset(), b"").supersedes(keys)
    wire = bytearray(encode_update(update))
    for position in range(0, len(wire), 7):
        changed = bytearray(wire)
        changed[position] ^= 1
        try:
            tampered = decode_update(bytes(changed))
        except Exception as exc:  # only the declared error
            from natakanu_peer.errors import RemoteProtocolError

            assert isinstance(exc, RemoteProtocolError | ValueError)
            continue
        assert not tampered.verified(verify_signature)


async def test_membership_keeps_removed_members_out_and_replaces_a_secret_that_forgot_one(
    tmp_path,
) -> None:
    import time

    from natakanu_peer.app.membership import Membership
    from natakanu_peer.identity import Identity
    from natakanu_peer.protocol.circle import CircleUpdate
    from natakanu_peer.storage import state
    from natakanu_peer.storage.database import Database

    db = Database.open(tmp_path / "state.db")
    me, friend, gone, other = (Identity.generate() for _ in range(4))
    keys = CircleKeys.from_secret(SECRET)
    await db.call(state.add_circle, keys.circle_id, "c", 0, keys.secret, time.time())
    circle = await Membership.load(db, me, keys.circle_id)
    await circle.met(friend.peer_id)
    await circle.met(gone.peer_id)
    stranger = Identity.generate()
    assert circle.accepts(stranger.public_key, keys)  # anyone with the secret in use

    adopted = await circle.remove(gone.peer_id)
    assert adopted.newly_removed == {gone.peer_id} and circle.keys.epoch == 1
    assert not circle.accepts(gone.public_key, circle.keys)  # whatever secret it shows
    assert circle.accepts(friend.public_key, keys)  # a member who missed the change
    assert not circle.accepts(stranger.public_key, keys)  # an old secret lets no one new in

    # Another member removed someone else at the same time, not knowing of our removal.
    rival = CircleUpdate(
        circle.keys.next_epoch(), frozenset({other.public_key}), friend.public_key
    ).signed(friend.sign)
    outcome = await circle.consider(rival, friend.peer_id)
    assert outcome is not None
    assert {gone.peer_id, other.peer_id} <= circle.removed
    assert circle.keys.epoch == 3  # adopted theirs (2), then made one that leaves both out
    assert {gone.public_key, other.public_key} <= outcome.update.removed

    again = await Membership.load(db, me, keys.circle_id)  # all of it was stored
    assert again.keys == circle.keys and again.removed == circle.removed
    assert [k.epoch for k in again.epochs] == [3, 2, 1, 0]
    db.close()


async def test_a_removed_member_under_a_new_identity_cannot_catch_up(tmp_path) -> None:
    import time

    import pytest

    from natakanu_peer.app.membership import MAX_EPOCH_STEP, Membership
    from natakanu_peer.identity import Identity
    from natakanu_peer.protocol.circle import CircleUpdate
    from natakanu_peer.storage import state
    from natakanu_peer.storage.database import Database

    keys = CircleKeys.from_secret(SECRET)
    remover, lagging, friend, gone = (Identity.generate() for _ in range(4))
    disguise = Identity.generate()  # the removed member, under a new identity
    databases = []
    circles = {}
    for who in (remover, lagging):
        db = Database.open(tmp_path / f"{who.peer_id[:8]}.db")
        databases.append(db)
        await db.call(state.add_circle, keys.circle_id, "c", 0, keys.secret, time.time())
        circles[who.peer_id] = await Membership.load(db, who, keys.circle_id)
    a, m = circles[remover.peer_id], circles[lagging.peer_id]
    for peer in (friend, gone):
        await a.met(peer.peer_id)
    # Before hearing of the removal, M meets the disguised peer: it knows the old secret.
    await m.met(disguise.peer_id)

    adopted = await a.remove(gone.peer_id)
    outcome = await m.consider(adopted.update, remover.peer_id)
    assert outcome is not None and m.keys == a.keys
    assert m.accepts(friend.public_key, keys)  # known to the remover: may catch up
    assert not m.accepts(disguise.public_key, keys)  # unknown to it: needs a new invitation
    assert m.accepts(disguise.public_key, m.keys) is True  # (only the new secret would do)

    far = CircleUpdate(
        CircleKeys.of(keys.circle_id, m.keys.epoch + MAX_EPOCH_STEP + 1, bytes(32)),
        frozenset(),
        friend.public_key,
    ).signed(friend.sign)
    with pytest.raises(ValueError, match="too many epochs"):
        await m.consider(far, friend.peer_id)
    for db in databases:
        db.close()
