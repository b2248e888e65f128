"""`python -m recipe.rwml.evaluate ...`: the same command as `python scripts/evaluate.py ...`."""

import sys

from recipe.rwml.evaluate.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m recipe.rwml.evaluate"))
