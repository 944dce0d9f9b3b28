"""``python -m sb3_reinforce.benchmark``: see :mod:`sb3_reinforce.benchmark`."""

import sys

from sb3_reinforce.benchmark.driver import main

if __name__ == "__main__":
    sys.exit(main())
