"""``python -m trustsim``: the ``trustsim`` command line."""

import sys

from trustsim.cli import main

if __name__ == "__main__":
    sys.exit(main())
