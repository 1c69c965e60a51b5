"""Every bound on what a peer may send, as named constants; docs/protocol/ explains each.

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
# What one side may make the other hold, whichever wire carries the exchange.
#: Longest hash text in UTF-8 bytes (the lowercase hex of a 512-bit digest is 128 characters).
MAX_HASH_TEXT_BYTES = 128
#: Longest identifier carried by ``id()``, in UTF-8 bytes.
MAX_EXCHANGE_ID_BYTES = 256
#: Most hashes in one provide, request or not-here message; longer lists are split on sending.
MAX_HASHES_PER_MESSAGE = 4096
#: Most of our requests waiting for an answer from a peer (more wait in a local queue), and
#: most requests a peer may have waiting at us before its link is closed (IPFS uses 1,024).
MAX_REQUESTS_IN_FLIGHT = 1024
#: Largest content delivered for one hash.
MAX_CONTENT_BYTES = 16 * 1024 * 1024
#: Largest sequence number: ``seq + 1`` must fit the uint32 of hash-exchange 4's SINCE/SEEN.
MAX_SEQUENCE = 2**32 - 2
#: Largest native hash-exchange message (a delivery of MAX_CONTENT_BYTES plus its header).
MAX_EXCHANGE_MESSAGE_BYTES = MAX_CONTENT_BYTES + 1024

# The hash-exchange 4 wire format (multiplex frames around protobuf RPCs).
#: Largest multiplex frame. The npm package sends a whole content chunk in one frame (its
#: README example writes each message as a single chunk), so a frame must hold MAX_CONTENT_BYTES.
MAX_HX4_FRAME_BYTES = MAX_CONTENT_BYTES + 1024
#: Longest stream name (content streams are named by the hex of seq + 1: at most 9 characters).
MAX_HX4_STREAM_NAME_BYTES = 16
#: Most streams a peer may have open at us at once: its RPC stream plus one content stream per
#: request in flight (the npm package opens every stream of a batch at the same time).
MAX_HX4_OPEN_STREAMS = MAX_REQUESTS_IN_FLIGHT + 1
#: Most content bytes held for a peer's unfinished streams, all streams together.
MAX_HX4_BUFFERED_BYTES = 64 * 1024 * 1024
#: Most REQUEST messages of a peer waiting for our HASHES answer (answers go out in order).
MAX_HX4_PENDING_REQUESTS = MAX_REQUESTS_IN_FLIGHT
#: Size of the DATA frames we cut our own content into.
HX4_CHUNK_BYTES = 64 * 1024

# ---------------------------------------------------------------- manifests and content
# A manifest is fetched as one piece of content, so it must fit MAX_CONTENT_BYTES.
#: Largest encoded manifest, in bytes, before decoding starts.
MAX_MANIFEST_BYTES = 12 * 1024 * 1024
#: Most files one manifest lists (a folder with more is shared as several folders).
MAX_FILES_PER_MANIFEST = 50_000
#: Most chunks one manifest lists, all files together: 512 GiB in 4 MiB chunks. Each chunk
#: costs 67 bytes of manifest, so a manifest this long still fits MAX_MANIFEST_BYTES.
MAX_CHUNKS_PER_MANIFEST = 131_072
#: Largest single file: one that fills a whole manifest with its chunks.
MAX_FILE_BYTES = MAX_CHUNKS_PER_MANIFEST * 4 * 1024 * 1024
#: Longest relative path in a manifest, in UTF-8 bytes (Windows refuses longer full paths
#: unless long paths are enabled, and the download folder's own path comes on top).
MAX_PATH_BYTES = 1024
#: Longest single name (path component), in UTF-8 bytes: what common file systems allow.
MAX_NAME_BYTES = 255
#: Most folder levels in a relative path.
MAX_PATH_DEPTH = 32

# ---------------------------------------------------------------- per peer, over time
#: Gossip messages a linked peer may send per second, and in one burst (a first sync).
GOSSIP_MESSAGES_PER_SECOND = 200
GOSSIP_MESSAGES_BURST = 2_000
#: Operations a linked peer may bring per second, and in one burst (a first sync of a big set).
OPERATIONS_PER_SECOND = 5_000
OPERATIONS_BURST = 200_000
#: What new operations a linked peer brings may weigh, a second and in one burst: each is
#: kept in memory (its key, plus about ``OPERATION_OVERHEAD_BYTES``). Past this the link is
#: read more slowly, not closed: a first sync of 100,000 keys of 32 bytes fits the burst,
#: and a member flooding keys of 1 KiB is held to about a thousand a second.
OPERATION_BYTES_PER_SECOND = 1024 * 1024
OPERATION_BYTES_BURST = 16 * 1024 * 1024
OPERATION_OVERHEAD_BYTES = 128
#: Hash-exchange messages a linked peer may send per second, and in one burst.
EXCHANGE_MESSAGES_PER_SECOND = 2_000
EXCHANGE_MESSAGES_BURST = 10_000
#: Links still in their handshake, from one address and in all. Each may hold one WebSocket
#: message of up to a link's largest before the handshake rejects it, so these bound what a
#: stranger can make a peer hold: 4 x 16 MiB from one address, 16 x 16 MiB in all.
HANDSHAKES_PER_ADDRESS = 4
HANDSHAKES_AT_ONCE = 16
#: Connections not yet proven members (from the moment they are accepted, TLS handshake
#: included), from one address and in all, and how long one may stay so. Each costs about
#: 300 KiB before its first byte is read, so these bound what a flood of connections can make
#: a peer hold: 8 x 0.3 MiB from one address, 48 x 0.3 MiB in all. Peers in a community dial
#: each other once at a time; eight is room for a whole household behind one address.
UNPROVEN_PER_ADDRESS = 8
UNPROVEN_AT_ONCE = 48
UNPROVEN_SECONDS = 30.0
#: Broken rules (content not matching its hash, malformed or oversized messages, floods) that
#: get a peer refused, within how long, and for how long.
STRIKES_BEFORE_REFUSAL = 3
STRIKE_WINDOW_SECONDS = 600
REFUSAL_SECONDS = 3600
