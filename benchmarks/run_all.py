"""`make bench`: run every benchmark in this folder, one after another, each printing its ratios."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    only = set(sys.argv[1:])
    for name in names:
        if only and name not in only:
            continue
        print(f"\n=== benchmarks.{name} ===", flush=True)
        # Each benchmark runs with its defaults: not this runner's arguments, nor an argv that a library rewrote
        # (fast-downward's planner, which ALFWorld loads, sets sys.argv to its own).
        sys.argv = [f"benchmarks.{name}"]
        importlib.import_module(f"benchmarks.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
