"""``python -m natakanu_peer`` runs the command line."""

import sys

from .main import main

sys.exit(main())
