"""Start-up settings that must be made before numpy is first imported.

The commands that do no linear algebra (``info``, ``list``, ``fetch``, ``--version``) start
numpy without OpenBLAS's thread pool: its threads spin while numpy imports and cost
``explorer info`` about 0.09 s of CPU for nothing (0.38-0.40 s CPU with one BLAS thread
against 0.47-0.50 s by default, the same wall time; measured with ``/usr/bin/time``, five
runs each). A value the user set is kept; every other command keeps numpy's default.
"""

from __future__ import annotations

import os
import sys

#: commands that never call BLAS
LIGHT_COMMANDS = frozenset({"info", "list", "fetch", "--version", "--help"})

if len(sys.argv) > 1 and sys.argv[1] in LIGHT_COMMANDS:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
