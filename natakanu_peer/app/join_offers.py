"""Join codes on both sides: the member's offers, and the newcomer's use of a code.

A member's offer holds the code and the invitation it stands for; it is taken by the first
attempt that names its nameplate, right or wrong, and forgotten after ``CODE_SECONDS``. The
exchange is SPAKE2 (the ``spake2`` package) with the code as the password, then the
invitation sealed with ChaCha20-Poly1305 under the agreed key (see ``protocol.join_code``).

This module must never keep an offer past its first attempt or its expiry, and never tell a
wrong guesser anything but that the link closed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from spake2 import SPAKE2_A, SPAKE2_B

from ..errors import RemoteProtocolError, UsageError
from ..protocol import join_code

_ID_NEWCOMER, _ID_MEMBER = b"newcomer", b"member"
_AAD = b"natakanu join/1 invitation"


@dataclass(frozen=True)
class Offer:
    code: str
    invitation: str
    expires: float


class JoinOffers:
    """The member's codes waiting for their one attempt."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._offers: dict[int, Offer] = {}

    def create(self, invitation: str) -> Offer:
        self._expire()
        code = join_code.new_code(set(self._offers))
        nameplate, _ = join_code.parse_code(code)
        offer = Offer(code, invitation, self._clock() + join_code.CODE_SECONDS)
        self._offers[nameplate] = offer
        return offer

    def take(self, nameplate: int) -> Offer | None:
        """The offer for ``nameplate``, gone from now on; None if there is none any more."""
        self._expire()
        return self._offers.pop(nameplate, None)

    def waiting(self) -> list[int]:
        self._expire()
        return sorted(self._offers)

    def _expire(self) -> None:
        now = self._clock()
        for nameplate in [n for n, o in self._offers.items() if o.expires <= now]:
            del self._offers[nameplate]


def answer(offer: Offer, request: bytes | memoryview) -> bytes:
    """The member's answer to a newcomer's first message (for ``offer``'s nameplate)."""
    _, message = join_code.decode_request(request)
    member = SPAKE2_B(join_code.password(offer.code), idA=_ID_NEWCOMER, idB=_ID_MEMBER)
    ours = member.start()
    try:
        key = member.finish(message)
    except Exception as exc:  # the library raises several kinds for a bad point: all refused
        raise RemoteProtocolError(f"a malformed key exchange message: {exc!r}") from exc
    nonce = os.urandom(join_code.NONCE_BYTES)
    sealed = ChaCha20Poly1305(key).encrypt(nonce, offer.invitation.encode("ascii"), _AAD)
    return join_code.encode_answer(ours, nonce, sealed)


class Newcomer:
    """The newcomer's side of one attempt with one code."""

    def __init__(self, code: str) -> None:
        self.nameplate, normalised = join_code.parse_code(code)
        self._spake = SPAKE2_A(join_code.password(normalised), idA=_ID_NEWCOMER, idB=_ID_MEMBER)

    def request(self) -> bytes:
        return join_code.encode_request(self.nameplate, self._spake.start())

    def invitation(self, answer_bytes: bytes | memoryview) -> str:
        """The invitation from the member's answer; ``UsageError`` if the code was wrong."""
        message, nonce, sealed = join_code.decode_answer(answer_bytes)
        try:
            key = self._spake.finish(message)
            text = ChaCha20Poly1305(key).decrypt(nonce, sealed, _AAD)
        except (InvalidTag, Exception) as exc:  # a wrong code, or a peer's bad point
            raise UsageError(
                "The words of this code do not match the member's; each code works only once, "
                "so ask for a new one."
            ) from exc
        return text.decode("ascii", "replace")
