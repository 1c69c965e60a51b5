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
        "secret": SECRET,
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
    assert decode_invitation(encode_invitation(invitation())).secret == SECRET
    check = hashlib.blake2s(body, digest_size=8).digest()
    text = INVITATION_PREFIX + base64.b32encode(body + check).decode().rstrip("=")
    with contextlib.suppress(InvitationError):
        decode_invitation(text)
