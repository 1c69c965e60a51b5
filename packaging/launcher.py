"""Entry point of the bundled application: the same command line as the installed package
(no command opens the window)."""

import sys

from natakanu_peer.main import main

if __name__ == "__main__":
    sys.exit(main())
