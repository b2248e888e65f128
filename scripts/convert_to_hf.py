"""Convert a verl FSDP actor checkpoint to a Hugging Face model folder, and check that it loads and generates.

Examples:
    python scripts/convert_to_hf.py --ckpt-dir checkpoints/rwml/alfworld_stage1 --target-dir models/stage1_hf
    python scripts/convert_to_hf.py --ckpt-dir checkpoints/rwml/alfworld_stage1 --step 200 --target-dir out/s200
    python scripts/convert_to_hf.py --actor-dir checkpoints/rwml/x/global_step_5/actor --target-dir out/x5

The code is recipe/rwml/convert_to_hf.py (also `python -m recipe.rwml.convert_to_hf ...`); `--help` tells the rest.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run by path, sys.path[0] is scripts/; the project may not be installed
    sys.path.insert(0, str(REPO_ROOT))

from recipe.rwml.convert_to_hf import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
