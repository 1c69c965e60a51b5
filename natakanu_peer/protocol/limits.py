"""Every bound on what a peer may send, as named constants; docs/protocol.md explains each.

A value received from a peer beyond one of these is a ``RemoteProtocolError`` and closes that
link. Changing a constant changes the protocol: update the specification with it.
This module must never depend on anything: it is read by codecs, state machines and docs.
"""

# ---------------------------------------------------------------- key gossip
#: Largest key (archive key, manifest hash, any byte string) that can be advertised.
MAX_KEY_BYTES = 1024
#: Longest topic name (the seed's ``extension`` option), in UTF-8 bytes.
MAX_TOPIC_BYTES = 64
#: Largest gossip frame, in bytes, before decoding starts.
MAX_GOSSIP_FRAME_BYTES = 1 << 20
#: Most operations in one gossip message.
MAX_OPS_PER_MESSAGE = 4096
#: Most authors named in one summary vector (and so most authors a topic can hold).
MAX_AUTHORS = 16384
#: Most intervals of operation numbers described for one author in one message.
MAX_INTERVALS_PER_AUTHOR = 64
#: Per-author quota: an author's operations are numbered 1..MAX_OPS_PER_AUTHOR; anything
#: numbered higher is refused. A count, not a rate, so every replica judges alike.
MAX_OPS_PER_AUTHOR = 100_000

# ---------------------------------------------------------------- hash exchange
# (constants of the hash exchange and of the hash-exchange 4 wire format go here)
