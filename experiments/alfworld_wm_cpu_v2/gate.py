"""The easy-sample filter (data_prep.filter_easy against the base model, served by the CPU OpenAI server), and the
gate and base rates read from its samples: before any GRPO step, are enough groups of the base's samples mixed?"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from data_prep.easy_scores import sample_key
from experiments.alfworld_wm_cpu.trainings import schedule_settings
from experiments.alfworld_wm_cpu.workdir import Run, done, mark
from experiments.alfworld_wm_cpu_v2.kinds import row_kind
from recipe.rwml.schedule import commands
from recipe.rwml.schedule.runner import process_env
from recipe.rwml.schedule.server import ModelServer

PY = sys.executable
SERVER_START_S = 600


def filter_easy(run: Run, pool: Path, base: Path) -> Path:
    """data_prep.filter_easy on the training pool, the base model answering K times per prompt -> filtered.parquet
    (its report and the per-sample cache beside it)."""
    out = run.path("data", "filtered.parquet")
    if done(out):
        return out
    f = run.cfg.filter
    s = schedule_settings(run, base, VLLM_PORT=str(run.cfg.port))
    log = run.path("logs", "filter_server.log")
    server = ModelServer(commands.serve(s, str(base), "wm-filter"), s.server_url, log, process_env(s, os.environ))
    argv = [PY, "-m", "data_prep.filter_easy", "--input", str(pool), "--out", str(out), "--base-url", s.server_url]
    argv += ["--model", "wm-filter", "--k", str(f.k), "--p-keep", str(f.p_keep)]
    argv += ["--easy-fraction", str(f.easy_fraction)]
    argv += ["--max-tokens", str(f.max_tokens), "--concurrency", str(f.concurrency), "--seed", str(run.cfg.seed)]
    argv += ["--temperature", "1.0", "--cache", str(cache_file(run)), "--report-dir", str(run.path("data", "filter"))]
    server.start(SERVER_START_S)
    try:
        run.sh("filter_easy", argv)
    finally:
        server.stop()
    mark(out)
    return out


def cache_file(run: Run) -> Path:
    """The filter's per-prompt rewards: in the committed results folder, so a session that loses the work folder
    (checkpoints, logs) keeps the hours of sampling; the cache's keys are content hashes of the prompts."""
    return run.report_dir / "results" / "filter_cache.jsonl"


def pool_samples(run: Run, pool: Path) -> list[dict[str, Any]]:
    """Per pool row: its kind and the K rewards the filter gave the base's samples."""
    rewards = {}
    for line in cache_file(run).read_text().splitlines()[1:]:
        if line.strip():
            entry = json.loads(line)
            rewards[entry["key"]] = entry["rewards"]
    rows = pq.read_table(pool).to_pylist()
    return [{"kind": row_kind(r), "rewards": rewards[sample_key(r)]} for r in rows if sample_key(r) in rewards]


def gate(run: Run, pool: Path) -> dict[str, Any]:
    """Per primary kind: groups (the first `gate.group` samples of each prompt), the share with mixed rewards, the
    base's mean reward at temperature 1 (the power calculation's base rate); and whether the gate passed."""
    g, primary = run.cfg.gate, list(run.cfg.preregistration.primary_kinds)
    by_kind: dict[str, list[list[float]]] = defaultdict(list)
    for sample in pool_samples(run, pool):
        by_kind[sample["kind"]].append(sample["rewards"][: g.group])
    kinds = {}
    for kind in primary:
        groups = by_kind.get(kind, [])
        mixed = sum(1 for rw in groups if max(rw) - min(rw) > 1e-9)
        flat = [x for rw in groups for x in rw]
        kinds[kind] = {
            "groups": len(groups),
            "mixed": mixed,
            "mixed_share": mixed / len(groups) if groups else float("nan"),
            "base_rate": sum(flat) / len(flat) if flat else float("nan"),
            "samples": len(flat),
        }
    groups = sum(k["groups"] for k in kinds.values())
    share = sum(k["mixed"] for k in kinds.values()) / groups if groups else 0.0
    kinds_mixed = sum(1 for k in kinds.values() if k["mixed"] > 0)
    passed = share >= g.min_mixed_share and kinds_mixed >= g.min_kinds_mixed
    bar = {"min_mixed_share": g.min_mixed_share, "min_kinds_mixed": g.min_kinds_mixed, "group": g.group}
    return {"by_kind": kinds, "mixed_share": share, "kinds_mixed": kinds_mixed, "passed": passed, "bar": bar}
