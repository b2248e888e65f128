"""The project's packages import from any folder, whatever else installs a top-level `recipe` (transferqueue does)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_packages_resolve_to_this_project_from_another_folder(tmp_path):
    code = (
        "import json, recipe.rwml, recipe.rwml.main_rwml, envs, data_prep, reward_score, reward_calibration\n"
        "mods = (recipe.rwml, recipe.rwml.main_rwml, envs, data_prep, reward_score, reward_calibration)\n"
        "print(json.dumps([m.__file__ for m in mods]))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    files = json.loads(out.stdout.strip().splitlines()[-1])
    assert all(Path(f).resolve().is_relative_to(ROOT) for f in files), files
