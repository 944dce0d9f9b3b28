"""``python -m sb3_reinforce``: the command-line interface (see :mod:`sb3_reinforce.cli`)."""

import sys

from sb3_reinforce.cli import main

if __name__ == "__main__":
    sys.exit(main())
