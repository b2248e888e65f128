"""The experiment's work folder: its config, paths, per-stage wall times (work_dir/timings.json), the commands it
runs (timed, logged) and the done markers that make every stage resumable."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from data_prep.atomic_file import write_atomic
from data_prep.cli_errors import UsageError

REPO = Path(__file__).resolve().parents[2]


class Run:
    """One experiment run: its config, folders, and the per-stage wall times kept in work_dir/timings.json."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.work = REPO / cfg.work_dir
        self.report_dir = REPO / cfg.report_dir
        self.work.mkdir(parents=True, exist_ok=True)
        self.timings_file = self.work / "timings.json"
        self.timings: dict[str, float] = {}
        if self.timings_file.is_file():
            self.timings = json.loads(self.timings_file.read_text())

    def path(self, *parts: str) -> Path:
        return self.work.joinpath(*parts)

    def add_time(self, name: str, seconds: float) -> None:
        self.timings[name] = self.timings.get(name, 0.0) + seconds
        write_atomic(self.timings_file, json.dumps(self.timings, indent=1))

    def sh(self, name: str, argv: list[str], log: Path | None = None, env: dict[str, str] | None = None) -> None:
        """Run one command from the repo root (its output appended to `log` when given); time it under `name`."""
        print(f"== {name}: {' '.join(argv)}", flush=True)
        full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
        start = time.time()
        if log:
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a") as f:
                rc = subprocess.call(argv, cwd=REPO, env=full_env, stdout=f, stderr=subprocess.STDOUT)
        else:
            rc = subprocess.call(argv, cwd=REPO, env=full_env)
        self.add_time(name, time.time() - start)
        if rc != 0:
            where = str(log) if log else " ".join(argv[:4])
            raise UsageError(f"stage {name} failed (exit {rc})", where, "read its log, fix, rerun to resume")


def load_config(default: Path, given: str) -> Any:
    """The experiment's config.yaml (`default`), with the overrides file `given` merged on top when it is another
    file (a smoke.yaml)."""
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(default)
    if Path(given).resolve() != default.resolve():
        if not Path(given).is_file():
            raise UsageError(f"no config file {given}", "--config", "give a yaml of overrides like smoke.yaml")
        cfg = OmegaConf.merge(cfg, OmegaConf.load(given))
    return cfg


def done(path: Path) -> bool:
    return path.with_name(path.name + ".done").exists() and path.exists()


def mark(path: Path) -> None:
    path.with_name(path.name + ".done").touch()
