"""``python -m flowsim``: the ``flowsim`` command, for where its script is not on PATH."""

import sys

from flowsim.cli import main

sys.exit(main())
