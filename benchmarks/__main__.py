"""Run every benchmark: `python -m benchmarks` (or `make bench`). Each prints its
figures; docs/benchmarks.md records them with the machine and date."""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    only = sys.argv[1:]
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        saved = sys.argv
        sys.argv = [str(script)]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as done:
            if done.code not in (0, None):
                return int(done.code) if isinstance(done.code, int) else 1
        finally:
            sys.argv = saved
    return 0


if __name__ == "__main__":
    os.environ.setdefault("CARATZON_PASSWORD_HASHING", "fast")
    sys.exit(main())
