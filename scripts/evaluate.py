"""Evaluate a policy on ALFWorld and tau2-bench (and a world model on held-out next-state data).

    python scripts/evaluate.py --policy expert --data-root ../shared/alfworld --alfworld-splits valid_seen \
        --out-dir eval/expert

Run from any folder; `--help` lists the suites, the policies and the outputs. The code is the package
recipe/rwml/evaluate/ (also `python -m recipe.rwml.evaluate ...`; more examples in its cli.py).
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run by path, sys.path[0] is scripts/; the project may not be installed
    sys.path.insert(0, str(REPO_ROOT))

from recipe.rwml.evaluate.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
