"""Issue 26's pre-registered, powered replication: does RWML's reward teach SmolLM2-135M a world model of ALFWorld?

    make experiment-v2   (= nice -n 19 .venv/bin/python experiments/alfworld_wm_cpu_v2/run.py)   # rerun to resume
    .venv/bin/python experiments/alfworld_wm_cpu_v2/run.py --config experiments/alfworld_wm_cpu_v2/smoke.yaml
    .venv/bin/python experiments/alfworld_wm_cpu_v2/run.py --report-only

Stages, each skipped when its output exists; a killed training resumes from its last checkpoint:
  register  config.yaml copied to results/config_used.yaml (a rerun whose pre-registration differs is refused)
  data      ALFWorld's expert with random actions and stale commands on valid_train / valid_seen / the bundled games
  warmup    format SFT on the bundled games: the base every arm starts from
  gate      the easy-sample filter: the base answers each training-pool prompt K times at temperature 1; the gate
            (mixed groups per primary kind) and the base rates are read from those samples -> results/gate.json
  power     held-out size per primary kind from the base rates -> results/power.json; held-out set drawn
  base      the base on the held-out set -> results/eval/base.json
  sweep     RWML (filter, seed 0) for sweep.steps at each lr, scored on the sweep triplets -> results/sweep.json
  arms      per seed: rwml_filter, wm_sft_seq, rwml_nofilter, wm_sft_distinct, each scored on the held-out set and
            its drift on HumanEval measured -> results/eval/<run>.json; the report rewritten after each
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from omegaconf import OmegaConf  # noqa: E402

from data_prep.atomic_file import write_json_atomic  # noqa: E402
from data_prep.cli_errors import ArgumentParser, UsageError, run_cli  # noqa: E402
from experiments.alfworld_wm_cpu.evaluate import forgetting  # noqa: E402
from experiments.alfworld_wm_cpu.run import base_model  # noqa: E402
from experiments.alfworld_wm_cpu.trainings import sft  # noqa: E402
from experiments.alfworld_wm_cpu.workdir import Run, done, load_config  # noqa: E402
from experiments.alfworld_wm_cpu_v2 import data, gate, power, report  # noqa: E402
from experiments.alfworld_wm_cpu_v2.evaluate import evaluate  # noqa: E402
from experiments.alfworld_wm_cpu_v2.trainings import run_name, rwml  # noqa: E402

HERE = Path(__file__).resolve().parent
STAGES = ("register", "data", "warmup", "gate", "power", "base", "sweep", "arms")


def register(run: Run) -> None:
    """Copy the config into results/config_used.yaml once; refuse a rerun whose pre-registered part changed."""
    used = run.report_dir / "results" / "config_used.yaml"
    fixed = ("preregistration", "power", "gate", "rwml", "sweep", "filter", "data")
    if used.is_file():
        before = OmegaConf.load(used)
        changed = [k for k in fixed if OmegaConf.to_container(before[k]) != OmegaConf.to_container(run.cfg[k])]
        if changed:
            raise UsageError(f"the config's {', '.join(changed)} differ from {used}, which the run started with",
                             "config", "restore them, or start a new work_dir and report_dir")  # fmt: skip
        return
    used.parent.mkdir(parents=True, exist_ok=True)
    used.write_text(OmegaConf.to_yaml(run.cfg))


def record_code(run: Run) -> None:
    """The commit this invocation runs (and whether its tree had changes) -> results/code_versions.json, one entry per
    new version: the reward and trainers must not change under a run (run it from a worktree of one commit)."""
    out = run.report_dir / "results" / "code_versions.json"
    git = ["git", "-C", str(REPO)]
    commit = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run([*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                                text=True).stdout.strip())  # fmt: skip
    versions = json.loads(out.read_text()) if out.is_file() else []
    entry = {"commit": commit or "unknown", "dirty": dirty}
    if not versions or {k: versions[-1][k] for k in entry} != entry:
        write_json_atomic(out, [*versions, {**entry, "first_used": time.strftime("%Y-%m-%dT%H:%M:%S")}])


def score(run: Run, name: str, model: Path, rows_file: Path, base: Path | None) -> dict[str, Any]:
    """A model on a parquet -> results/eval/<name>.json (with its drift on HumanEval against `base` when given)."""
    out = run.report_dir / "results" / "eval" / f"{name}.json"
    if out.is_file():
        return json.loads(out.read_text())
    e = run.cfg.eval
    start = time.time()
    cache = run.path("predictions", f"{name}.jsonl")
    result = evaluate(model, rows_file, out, e.max_new_tokens, e.batch, cache=cache)
    result["model"] = str(model.relative_to(REPO))
    result["wm_parquet"] = str(rows_file.relative_to(REPO))
    if base is not None:
        result["drift"] = forgetting(model, base, e.humaneval_texts, e.max_text_tokens)
        result["drift"]["against"] = str(base.relative_to(REPO))
    result["eval_s"] = round(time.time() - start, 1)
    write_json_atomic(out, result)
    run.add_time(f"eval_{name}", time.time() - start)
    return result


def sweep(run: Run, pool: Path, filtered: Path, val: Path, base: Path, sweep_file: Path) -> float:
    """RWML (filter, seed 0) for sweep.steps at each lr, scored on the sweep triplets; the chosen lr (highest mean
    reward, a tie to the smaller lr) -> results/sweep.json."""
    out = run.report_dir / "results" / "sweep.json"
    if out.is_file():
        return float(json.loads(out.read_text())["chosen_lr"])
    sw, seed = run.cfg.sweep, run.cfg.seeds[0]
    points = []
    for lr in sw.lrs:
        name = run_name("rwml_filter", seed, lr)
        model = rwml(run, name, filtered, val, base, lr, seed, sw.steps)
        result = score(run, f"sweep_{name}_s{sw.steps}", model, sweep_file, None)
        points.append({"lr": lr, "run": name, "reward": result["summary"]["overall"]["reward"]})
    base_result = score(run, "sweep_base", base, sweep_file, None)
    best = max(points, key=lambda p: (p["reward"]["mean"], -p["lr"]))
    result = {"points": points, "base": base_result["summary"]["overall"]["reward"], "chosen_lr": best["lr"]}
    write_json_atomic(out, {**result, "steps": sw.steps, "triplets": str(sweep_file.relative_to(REPO))})
    return float(best["lr"])


def arms(run: Run, files: dict[str, Path], base: Path, lr: float, heldout: Path) -> None:
    """Per seed, in the order that answers the primary question first: rwml_filter, wm_sft_seq, rwml_nofilter,
    wm_sft_distinct; each scored on the held-out set (and its drift) as soon as it is trained."""
    for seed in run.cfg.seeds:
        for arm in ("rwml_filter", "wm_sft_seq", "rwml_nofilter", "wm_sft_distinct"):
            score(run, f"{arm}_s{seed}", train_arm(run, arm, seed, files, base, lr), heldout, base)
            report.write(run)


def train_arm(run: Run, arm: str, seed: int, files: dict[str, Path], base: Path, lr: float) -> Path:
    """One trained arm at one seed -> its HF folder. The SFT arms take the sweep's lr and rwml.steps steps, with a
    batch matched to RWML's sequences (prompts x group) or to its distinct triplets (prompts)."""
    r, s = run.cfg.rwml, run.cfg.sft
    if arm in ("rwml_filter", "rwml_nofilter"):
        train_file = files["filtered"] if arm == "rwml_filter" else files["pool"]
        return rwml(run, run_name(arm, seed, lr), train_file, files["val"], base, lr, seed, r.steps)
    batch = s.seq_batch if arm == "wm_sft_seq" else s.distinct_batch
    return sft(run, f"{arm}_s{seed}", files["sft_train"], base, r.steps, batch, lr, seed)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="experiments/alfworld_wm_cpu_v2/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(HERE / "config.yaml"), help="config.yaml, or a file of overrides")
    parser.add_argument("--until", choices=STAGES, default="arms", help="stop after this stage")
    parser.add_argument("--report-only", action="store_true", help="rewrite README.md from the results so far")
    args = parser.parse_args(argv)
    cfg = load_config(HERE / "config.yaml", args.config)
    run = Run(cfg)
    if args.report_only:
        report.write(run)
        return 0
    if not (REPO / cfg.data.alfworld_root / "json_2.1.1").is_dir():
        raise UsageError(f"no ALFWorld games at {cfg.data.alfworld_root}", "config data.alfworld_root",
                         "point it at a folder holding json_2.1.1/")  # fmt: skip
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    until = STAGES.index(args.until)
    register(run)
    record_code(run)
    raw = base_model(run)
    files = data.prepare(run)
    if until < STAGES.index("warmup"):
        return 0
    w = cfg.warmup
    base = sft(run, "warmup", files["sft_warmup"], raw, w.steps, w.batch, w.lr)
    if until < STAGES.index("gate"):
        return 0
    files["pool"] = data.training_pool(run, files["wm_train"])
    files["filtered"] = gate.filter_easy(run, files["pool"], base)
    files["val"] = files["wm_train"] / "val.parquet"
    gate_result = gate.gate(run, files["pool"])
    write_json_atomic(run.report_dir / "results" / "gate.json", gate_result)
    report.write(run)
    if not gate_result["passed"]:
        print(f"the gate did not pass: {json.dumps(gate_result)}; fix the start (config) and rerun", file=sys.stderr)
        return 3
    if until < STAGES.index("power"):
        return 0
    candidates, counts = data.heldout_candidates(run, files["wm_eval"], files["wm_train"])
    rates = {k: v["base_rate"] for k, v in gate_result["by_kind"].items()}
    plan = power.plan(rates, counts["by_kind"], cfg)
    per_kind = {k: v["n"] for k, v in plan["per_kind"].items()} | {cfg.preregistration.unpredictable_kind:
                                                                    cfg.power.unpredictable_samples}  # fmt: skip
    heldout, info = data.heldout(run, files["wm_eval"], files["wm_train"], per_kind)
    write_json_atomic(run.report_dir / "results" / "power.json", {**plan, "heldout": info})
    if until < STAGES.index("base"):
        return 0
    score(run, "base", base, heldout, None)
    report.write(run)
    if until < STAGES.index("sweep"):
        return 0
    sweep_file = run.path("data", "sweep.parquet")
    if not done(sweep_file):
        data.write_rows(sweep_file, data.sweep_rows(run, files["wm_train"]))
    lr = sweep(run, files["pool"], files["filtered"], files["val"], base, sweep_file)
    report.write(run)
    if until < STAGES.index("arms"):
        return 0
    arms(run, files, base, lr, heldout)
    report.write(run)
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
