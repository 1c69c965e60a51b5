"""Short join codes: a few words read aloud instead of a long invitation.

A member asks for a code (``invite --code``); it looks like ``42-river-moose``: a *nameplate*
(a number from 1 to 999 that says which offer is meant) and two words from a list of 256
(16 bits). The code is good for one attempt and ten minutes. The newcomer's peer finds the
member's offer by its nameplate on the local network, and both run SPAKE2 with the whole code
as the password: a peer that does not know the code gets one guess (1 in 65,536) and learns
nothing it could test offline. The member then sends the circle's invitation sealed with the
agreed key (ChaCha20-Poly1305), and the newcomer joins with it.

Messages (binary, on a WebSocket of their own):

- newcomer -> member: ``nameplate (varint) | SPAKE2 message A (33 bytes)``;
- member -> newcomer: ``SPAKE2 message B (33 bytes) | nonce (12) | sealed invitation``.

This module must never do I/O; every decode error is ``RemoteProtocolError`` and every code a
person mistypes gets a ``UsageError`` with a sentence.
"""

from __future__ import annotations

import secrets

from ..errors import RemoteProtocolError, UsageError
from .wire import Reader, Writer

CODE_SECONDS = 600
MAX_NAMEPLATE = 999
SPAKE_MESSAGE_BYTES = 33
NONCE_BYTES = 12
MAX_SEALED_BYTES = 4096
_APP_ID = b"natakanu join/1"

#: 256 short words, easy to say and to tell apart, one per byte.
WORDS = (
    "acorn",
    "alder",
    "amber",
    "anchor",
    "antler",
    "apple",
    "arrow",
    "aspen",
    "aurora",
    "autumn",
    "badger",
    "bannock",
    "basket",
    "beach",
    "beacon",
    "beaver",
    "berry",
    "birch",
    "bison",
    "blanket",
    "blossom",
    "boat",
    "bone",
    "brook",
    "buffalo",
    "butter",
    "cabin",
    "camp",
    "candle",
    "canoe",
    "canyon",
    "caribou",
    "cedar",
    "cherry",
    "chipmunk",
    "cliff",
    "cloud",
    "clover",
    "comet",
    "copper",
    "coral",
    "cotton",
    "cougar",
    "coyote",
    "crane",
    "creek",
    "crow",
    "crystal",
    "cypress",
    "daisy",
    "dawn",
    "deer",
    "delta",
    "desert",
    "dolphin",
    "dove",
    "dragonfly",
    "drum",
    "dune",
    "eagle",
    "echo",
    "eel",
    "elk",
    "ember",
    "falcon",
    "feather",
    "fern",
    "fiddle",
    "field",
    "finch",
    "fire",
    "fjord",
    "flint",
    "flower",
    "forest",
    "fox",
    "frog",
    "frost",
    "garden",
    "geyser",
    "ginger",
    "glacier",
    "goose",
    "granite",
    "grass",
    "grouse",
    "gull",
    "hare",
    "harbor",
    "harvest",
    "hawk",
    "hazel",
    "heron",
    "hill",
    "honey",
    "horizon",
    "husky",
    "ice",
    "iris",
    "island",
    "ivy",
    "jade",
    "jay",
    "juniper",
    "kayak",
    "kettle",
    "kite",
    "lake",
    "lantern",
    "larch",
    "lark",
    "leaf",
    "lemon",
    "lichen",
    "lily",
    "linden",
    "lizard",
    "lodge",
    "loon",
    "lynx",
    "maple",
    "marsh",
    "marten",
    "meadow",
    "melon",
    "mesa",
    "mink",
    "mint",
    "mist",
    "moon",
    "moose",
    "moss",
    "mountain",
    "mouse",
    "mussel",
    "narwhal",
    "needle",
    "nest",
    "nettle",
    "north",
    "oak",
    "ocean",
    "orca",
    "orchid",
    "osprey",
    "otter",
    "owl",
    "paddle",
    "pebble",
    "pelican",
    "pepper",
    "pine",
    "plain",
    "plum",
    "pond",
    "poplar",
    "poppy",
    "prairie",
    "puffin",
    "quail",
    "quartz",
    "rabbit",
    "raccoon",
    "rain",
    "rainbow",
    "raven",
    "reed",
    "ridge",
    "river",
    "robin",
    "rock",
    "rose",
    "sage",
    "salmon",
    "sand",
    "seal",
    "shell",
    "shore",
    "sky",
    "sled",
    "smoke",
    "snow",
    "sparrow",
    "spider",
    "spring",
    "spruce",
    "squirrel",
    "star",
    "stone",
    "storm",
    "stream",
    "summer",
    "sun",
    "swan",
    "tamarack",
    "thistle",
    "thunder",
    "tide",
    "tiger",
    "trail",
    "trout",
    "tulip",
    "tundra",
    "turtle",
    "valley",
    "violet",
    "walnut",
    "walrus",
    "water",
    "wave",
    "weasel",
    "whale",
    "wheat",
    "willow",
    "wind",
    "winter",
    "wolf",
    "wood",
    "wren",
    "yarrow",
    "yew",
    "zephyr",
    "basalt",
    "bluff",
    "cove",
    "dew",
    "drift",
    "fog",
    "gale",
    "glade",
    "grove",
    "hollow",
    "inlet",
    "knoll",
    "lagoon",
    "ledge",
    "moor",
    "rapids",
    "reef",
    "shoal",
    "cactus",
    "clam",
    "cricket",
    "dusk",
    "firefly",
    "gopher",
    "hemlock",
    "ibis",
    "kelp",
    "krill",
    "maize",
    "nutmeg",
    "pika",
    "plover",
    "sequoia",
    "walleye",
)
assert len(WORDS) == 256 and len(set(WORDS)) == 256
_INDEX = {word: i for i, word in enumerate(WORDS)}


def new_code(taken: set[int]) -> str:
    """A fresh code whose nameplate is not in ``taken``."""
    free = [n for n in range(1, MAX_NAMEPLATE + 1) if n not in taken]
    if not free:
        raise UsageError("Too many join codes are waiting; wait for some to expire.")
    nameplate = secrets.choice(free)
    words = [WORDS[secrets.randbelow(len(WORDS))] for _ in range(2)]
    return f"{nameplate}-{words[0]}-{words[1]}"


def parse_code(text: str) -> tuple[int, str]:
    """The nameplate and the normalised code (the SPAKE2 password), or ``UsageError``."""
    parts = text.strip().lower().replace(" ", "-").split("-")
    parts = [p for p in parts if p]
    # ASCII digits only: str.isdigit() also accepts superscripts, which int() refuses.
    if len(parts) != 3 or not (parts[0].isascii() and parts[0].isdigit()):
        raise UsageError(
            "A join code is a number and two words, like 42-river-moose; check what you typed."
        )
    # Bounded before int(): a number of thousands of digits is refused by int() itself.
    nameplate = int(parts[0]) if len(parts[0]) <= len(str(MAX_NAMEPLATE)) else 0
    if not 1 <= nameplate <= MAX_NAMEPLATE:
        raise UsageError(f"A join code starts with a number from 1 to {MAX_NAMEPLATE}.")
    unknown = [w for w in parts[1:] if w not in _INDEX]
    if unknown:
        raise UsageError(
            f"{unknown[0]!r} is not a word of join codes; check the spelling with the person "
            "who gave you the code."
        )
    return nameplate, f"{nameplate}-{parts[1]}-{parts[2]}"


def password(code: str) -> bytes:
    return _APP_ID + b"\x00" + code.encode("ascii")


def encode_request(nameplate: int, message: bytes) -> bytes:
    return Writer().varint(nameplate).raw(message).getvalue()


def decode_request(data: bytes | memoryview) -> tuple[int, bytes]:
    r = Reader(data)
    nameplate = r.varint(MAX_NAMEPLATE, "nameplate")
    message = r.fixed(SPAKE_MESSAGE_BYTES, "key exchange message")
    r.done()
    return nameplate, message


def encode_answer(message: bytes, nonce: bytes, sealed: bytes) -> bytes:
    return Writer().raw(message).raw(nonce).raw(sealed).getvalue()


def decode_answer(data: bytes | memoryview) -> tuple[bytes, bytes, bytes]:
    r = Reader(data)
    message = r.fixed(SPAKE_MESSAGE_BYTES, "key exchange message")
    nonce = r.fixed(NONCE_BYTES, "nonce")
    if not 16 < r.remaining <= MAX_SEALED_BYTES:
        raise RemoteProtocolError("a sealed invitation of an impossible size")
    sealed = r.fixed(r.remaining, "sealed invitation")
    return message, nonce, sealed
