"""Run a module as ``python -m`` would and report the process's own peak memory.

    python -m bench.peak explorer map ca34-2017-general

Peak resident memory comes from VmHWM in /proc/self/status, which starts afresh at exec
(the rusage maximum is inherited from the parent process and would overstate it).
"""

from __future__ import annotations

import atexit
import runpy
import sys


def peak_mb() -> float:
    """This process's peak resident memory in MB (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> None:
    module, *args = sys.argv[1:]
    atexit.register(lambda: print(f"PEAK_MB {peak_mb():.0f}", file=sys.stderr))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
