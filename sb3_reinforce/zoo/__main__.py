"""``python -m sb3_reinforce.zoo``: RL Zoo with ``reinforce`` registered (see :mod:`sb3_reinforce.zoo.cli`)."""

import sys

from sb3_reinforce.zoo.cli import main

if __name__ == "__main__":
    sys.exit(main())
