"""The exception tree of Natakanu Peer; every error the project raises on purpose is here.

::

    NatakanuError
    ├── ProtocolError               a protocol object was fed or asked something invalid
    │   ├── RemoteProtocolError     the peer sent something malformed, oversized or dishonest:
    │   │                           close that one link, record why, carry on with the others
    │   └── LocalProtocolError      our own code misused a protocol object (a bug here)
    └── UsageError                  a person asked for something that cannot be done; the
        │                           message is a sentence that says what to do instead
        ├── CannotListenError       the address or port to listen on is taken or not ours
        ├── KeyTooLargeError        a key longer than the protocol allows
        ├── NotEnoughSpaceError     a download would not fit on its disk
        └── DiskFullError           a disk filled up during a download (what was verified
                                    is kept)

Third-party exceptions are translated once, where they enter (``raise ... from exc``).
This module must never import anything from the rest of the package.
"""


class NatakanuError(Exception):
    """Base of every error raised on purpose by Natakanu Peer."""


class ProtocolError(NatakanuError):
    """A protocol object was fed or asked something invalid."""


class RemoteProtocolError(ProtocolError):
    """The remote peer broke the protocol; the link to it must be closed."""


class LocalProtocolError(ProtocolError):
    """Our own code used a protocol object the wrong way."""


class UsageError(NatakanuError):
    """A person asked for something impossible; ``str(error)`` tells them what to do."""


class KeyTooLargeError(UsageError):
    """A key is larger than ``protocol.limits.MAX_KEY_BYTES``."""


class NotEnoughSpaceError(UsageError):
    """A download would not fit on the disk of the partial folder or of the download folder."""


class DiskFullError(UsageError):
    """A disk filled up during a download; every chunk verified so far is kept."""


class CannotListenError(UsageError):
    """The node cannot listen where it was told (the port is taken, or the address absent)."""
