"""RWML vs WM-SFT on held-out ALFWorld games with SmolLM2-135M-Instruct on CPU, end to end, resumable.

    make experiment   (= nice -n 19 .venv/bin/python experiments/alfworld_wm_cpu/run.py)   # the real run (config.yaml)
    .venv/bin/python experiments/alfworld_wm_cpu/run.py --config experiments/alfworld_wm_cpu/smoke.yaml
    .venv/bin/python experiments/alfworld_wm_cpu/run.py --report-only              # rewrite README from what is done

Stages, each skipped when its output exists (rerun the same command to resume; a killed training resumes inside the
arm from its last checkpoint, verl's `trainer.resume_mode=auto`):
  data      episodes by ALFWorld's expert with random actions (data_prep.collect_trajectories) on the train games,
            the held-out games and the bundled warm-up games; the project's build_wm_dataset / build_sft_dataset
  warmup    verl's SFT trainer on the warm-up games: the checkpoint every arm starts from ("base")
  arms      base (the warm-up, untrained further); wm_sft (verl's SFT trainer); rwml_default (verl's GRPO with the
            default reward, reward_score.RewardSettings()); rwml_cosine (mode cosine); rwml_low_tau (binary with a
            tau that passes a usable fraction, when the default arm's groups are mostly all-zero)
  evaluate  per arm: held-out world-model metrics, forgetting on HumanEval vs the base, training curves ->
            report_dir/results/<arm>.json; after each, report.py rewrites README.md and the figures
  refusals  per arm: held-out "Nothing happens." transitions (the game refusing a stale command; the collector
            plays such commands with --invalid) -> report_dir/results/nothing_happens/<arm>.json
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from data_prep.atomic_file import write_atomic  # noqa: E402
from data_prep.cli_errors import ArgumentParser, UsageError, run_cli  # noqa: E402
from experiments.alfworld_wm_cpu import evaluate, metrics, report  # noqa: E402
from experiments.alfworld_wm_cpu.trainings import rwml, sft  # noqa: E402
from experiments.alfworld_wm_cpu.workdir import Run, done, load_config, mark  # noqa: E402
from recipe.rwml.train_log import parse_steps  # noqa: E402
from reward_score import compute_score_batch  # noqa: E402

HERE = Path(__file__).resolve().parent
PY = sys.executable


# ------------------------------------------------------------------------------------------------ data


def base_model(run: Run) -> Path:
    """The untrained model as an HF folder: SmolLM2-135M-Instruct from its package, or the tiny test model."""
    out = run.path("models", "raw_hf")
    if not done(out):
        from recipe.rwml.base_models import make_smollm2_hf, make_tiny_model

        start = time.time()
        (make_tiny_model if run.cfg.model == "tiny" else make_smollm2_hf)(out)
        run.add_time("base_model", time.time() - start)
        mark(out)
    return out


def collect(
    run: Run, name: str, root: str, splits: list[str], episodes: int, max_games: int | None, invalid: float = 0.0
) -> list[Path]:
    """Episodes of ALFWorld's expert with `epsilon` random actions (and `invalid` stale commands), one JSONL per
    split (resumable appends)."""
    d = run.cfg.data
    outs = []
    for split in splits:
        out = run.path("data", "episodes", f"{name}_{split}.jsonl")
        if not done(out):
            out.parent.mkdir(parents=True, exist_ok=True)
            argv = [PY, "-m", "data_prep.collect_trajectories", "--env", "alfworld", "--data-root", str(REPO / root)]
            argv += ["--split", split, "--policy", "expert", "--epsilon", str(d.epsilon), "--seed", str(run.cfg.seed)]
            argv += ["--episodes-per-task", str(episodes), "--max-steps", str(d.max_steps)]
            argv += ["--workers", str(d.collect_workers), "--out", str(out)]
            argv += ["--max-tasks", str(max_games)] if max_games else []
            argv += ["--invalid", str(invalid)] if invalid else []
            run.sh(f"collect_{name}", argv)
            mark(out)
        outs.append(out)
    return outs


def build(run: Run, tool: str, episodes: list[Path], name: str, val_fraction: float) -> Path:
    out = run.path("data", name)
    if not done(out):
        argv = [PY, "-m", f"data_prep.{tool}", "--input", *map(str, episodes), "--out-dir", str(out)]
        argv += ["--history", str(run.cfg.data.history), "--val-fraction", str(val_fraction)]
        run.sh(f"build_{name}", [*argv, "--seed", str(run.cfg.seed)])
        mark(out)
    return out


def prepare_data(run: Run) -> dict[str, Path]:
    d = run.cfg.data
    train_eps = collect(run, "train", d.alfworld_root, [d.train_split], d.episodes_per_game, d.get("train_max_games"))
    eval_eps = collect(run, "eval", d.alfworld_root, [d.eval_split], 1, d.eval_max_games)
    warm_eps = collect(run, "warmup", d.warmup_root, list(d.warmup_splits), d.warmup_episodes_per_game, None)
    # RWML and WM-SFT see the same triplets: the same episodes, seed and task split, written in two layouts
    data = {
        "wm_train": build(run, "build_wm_dataset", train_eps, "wm_train", 0.05),
        "sft_train": build(run, "build_sft_dataset", train_eps, "sft_train", 0.05),
        "sft_warmup": build(run, "build_sft_dataset", warm_eps, "sft_warmup", 0.25),
        "wm_eval": build(run, "build_wm_dataset", eval_eps, "wm_eval", 0.5),
    }
    return data


def eval_rows(run: Run, wm_eval: Path, n: int, keep: Any = None) -> list[dict[str, Any]]:
    """A seeded sample of `n` held-out triplets (both files of an eval build: every game is held out), among those
    whose row passes `keep` when given."""
    rows = [r for f in ("train.parquet", "val.parquet") for r in pq.read_table(wm_eval / f).to_pylist()]
    for i, r in enumerate(rows):
        r["extra_info"]["index"] = i
    rows = [r for r in rows if keep is None or keep(r)]
    pick = np.random.default_rng(run.cfg.seed).permutation(len(rows))[:n]
    return [rows[i] for i in sorted(pick)]


def refusal_rows(run: Run) -> list[dict[str, Any]]:
    """Held-out "Nothing happens." triplets: the eval games played again by the expert with stale commands
    (`nothing_happens.invalid`); the training and main held-out episodes were collected without them."""
    d, nh = run.cfg.data, run.cfg.nothing_happens
    eps = collect(run, "refusals", d.alfworld_root, [d.eval_split], 1, d.eval_max_games, invalid=nh.invalid)
    built = build(run, "build_wm_dataset", eps, "wm_refusals", 0.5)
    refused = metrics.NOTHING
    return eval_rows(run, built, nh.samples, keep=lambda r: r["reward_model"]["ground_truth"].startswith(refused))


# ------------------------------------------------------------------------------------------------ training


def default_reward() -> dict[str, Any]:
    """The project's default reward settings, as RewardSettings() holds them now (the recipe yaml pins `mode`)."""
    from reward_score import RewardSettings

    s = RewardSettings()
    return {"mode": s.mode, "tau": s.tau}


def low_tau_reward(run: Run) -> tuple[dict[str, Any] | None, str]:
    """Binary at the tau that passes `target_pass_rate` of the default arm's formatted rollouts, when that arm's
    groups were mostly all-zero (or always/never as configured); (None, why) when the arm is not run."""
    lt = run.cfg.low_tau
    rollouts = sorted(run.path("rollouts", "rwml_default").glob("*.jsonl"))
    signals = [metrics.group_signal(f) for f in rollouts]
    groups = sum(s["groups"] for s in signals)
    all_zero = sum(s["groups"] * s["all_zero"] for s in signals if s["groups"]) / groups if groups else float("nan")
    if lt.when == "never" or (lt.when == "auto" and not all_zero > lt.all_zero_above):
        return None, (
            f"low_tau.when={lt.when}; {all_zero:.0%} of the default arm's {groups:.0f} GRPO groups were all-zero "
            f"(the arm runs above {lt.all_zero_above:.0%})"
        )
    samples = [json.loads(line) for f in rollouts for line in f.read_text().splitlines() if line.strip()]
    scored = compute_score_batch(
        ["alfworld"] * len(samples), [s["output"] for s in samples], [s["gts"] for s in samples],
        [{"state_kind": "observation"}] * len(samples), mode="cosine",
    )  # fmt: skip
    cosines = [s["cosine"] for s in scored if s.get("cosine") is not None]
    if not cosines:
        return None, "the default arm never wrote a <next_state> answer to calibrate tau on"
    tau = float(np.quantile(cosines, 1.0 - lt.target_pass_rate))
    return {"mode": "binary", "tau": round(tau, 4), "calibration": {"rollouts": len(samples),
            "formatted": len(cosines), "default_arm_all_zero_groups": all_zero}}, ""  # fmt: skip


# ------------------------------------------------------------------------------------------------ evaluation


def evaluate_arm(run: Run, arm: str, model: Path, rows: list[dict[str, Any]], base: Path | None, info: dict) -> None:
    """Held-out metrics, forgetting vs `base`, training curves -> report_dir/results/<arm>.json."""
    e = run.cfg.eval
    out = run.report_dir / "results" / f"{arm}.json"
    if out.is_file():
        return
    start = time.time()
    responses = evaluate.generate(model, rows, run.path("predictions", f"{arm}.jsonl"), e.max_new_tokens, e.batch)
    records = evaluate.score(rows, responses)
    result = {"arm": arm, "model": str(model.relative_to(REPO)), "seed": run.cfg.seed, **info}
    result["world_model"] = metrics.world_model_metrics(records, seed=run.cfg.seed)
    if base is not None:
        result["forgetting"] = evaluate.forgetting(model, base, e.humaneval_texts, e.max_text_tokens)
        result["forgetting"]["against"] = str(base.relative_to(REPO))
    log = run.path("logs", f"{arm}.log")
    if arm.startswith("rwml") and log.is_file():
        steps = parse_steps(log.read_text(errors="replace"))
        result["curves"] = metrics.training_curves(steps, run.path("rollouts", arm))
    if arm == "wm_sft" and log.is_file():
        losses = re.findall(r"step:(\d+) - .*?train/loss:([-+.\deE]+)", log.read_text(errors="replace"))
        result["sft_loss"] = {int(step): float(loss) for step, loss in losses}
    run.add_time(f"eval_{arm}", time.time() - start)
    own = (f"_{arm}", "_warmup") if arm == "base" else (f"_{arm}",)
    result["wall_s"] = {k: round(v, 1) for k, v in run.timings.items() if k.endswith(own)}
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=1, default=float))
    report.write(run.report_dir, run.cfg, run.timings)


def evaluate_refusals(run: Run, arm: str, model: Path, rows: list[dict[str, Any]]) -> None:
    """The arm's world-model metrics on the held-out "Nothing happens." triplets -> results/nothing_happens/."""
    out = run.report_dir / "results" / "nothing_happens" / f"{arm}.json"
    if out.is_file() or not rows:
        return
    start = time.time()
    e = run.cfg.eval
    pred = run.path("predictions", f"{arm}.nothing_happens.jsonl")
    records = evaluate.score(rows, evaluate.generate(model, rows, pred, e.max_new_tokens, e.batch))
    run.add_time(f"refusals_{arm}", time.time() - start)
    result = {"arm": arm, "model": str(model.relative_to(REPO)), "seed": run.cfg.seed}
    result["world_model"] = metrics.world_model_metrics(records, seed=run.cfg.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, json.dumps(result, indent=1, default=float))
    report.write(run.report_dir, run.cfg, run.timings)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="experiments/alfworld_wm_cpu/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(HERE / "config.yaml"), help="config.yaml, or a file of overrides")
    parser.add_argument("--report-only", action="store_true", help="rewrite README.md from the results so far")
    args = parser.parse_args(argv)
    cfg = load_config(HERE / "config.yaml", args.config)
    run = Run(cfg)
    if args.report_only:
        report.write(run.report_dir, cfg, run.timings)
        return 0
    if not (REPO / cfg.data.alfworld_root / "json_2.1.1").is_dir():
        raise UsageError(f"no ALFWorld games at {cfg.data.alfworld_root}", "config data.alfworld_root",
                         "point it at a folder holding json_2.1.1/")  # fmt: skip
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    raw = base_model(run)
    data = prepare_data(run)
    rows = eval_rows(run, data["wm_eval"], cfg.data.eval_samples)
    w = cfg.warmup
    base = sft(run, "warmup", data["sft_warmup"], raw, w.steps, w.batch, w.lr)
    evaluate_arm(run, "untrained", raw, rows, None, {"trained": "nothing (SmolLM2-135M-Instruct as shipped)"})
    evaluate_arm(run, "base", base, rows, raw, {"trained": f"format warm-up: SFT {w.steps} steps x {w.batch}"})
    s = cfg.sft
    model = sft(run, "wm_sft", data["sft_train"], base, s.steps, s.batch, s.lr)
    evaluate_arm(run, "wm_sft", model, rows, base, {"trained": f"verl SFT {s.steps} steps x {s.batch} triplets"})
    arms = {
        "rwml_default": default_reward(),
        "rwml_cosine": {"mode": "cosine"},
    }
    for arm, reward in arms.items():
        model = rwml(run, arm, data["wm_train"], base, reward)
        evaluate_arm(run, arm, model, rows, base, rwml_info(cfg, reward))
    models = {"untrained": raw, "base": base}
    models |= {arm: run.path("models", f"{arm}_hf") for arm in ("wm_sft", *arms)}
    reward, why_not = low_tau_reward(run)
    skipped = run.report_dir / "results" / "skipped.json"
    if reward is None:
        print(f"rwml_low_tau not run: {why_not}", flush=True)
        skipped.write_text(json.dumps({"rwml_low_tau": why_not}))
    else:
        skipped.unlink(missing_ok=True)
        calibration = reward.pop("calibration")
        model = rwml(run, "rwml_low_tau", data["wm_train"], base, reward)
        evaluate_arm(run, "rwml_low_tau", model, rows, base, {**rwml_info(cfg, reward), "calibration": calibration})
        models["rwml_low_tau"] = model
    refusals = refusal_rows(run)
    for arm, model in models.items():
        evaluate_refusals(run, arm, model, refusals)
    report.write(run.report_dir, cfg, run.timings)
    return 0


def rwml_info(cfg: Any, reward: dict[str, Any]) -> dict[str, Any]:
    r = cfg.rwml
    settings = evaluate.reward_settings_used()  # as the default resolves for ALFWorld, then this arm's changes
    settings.update({k: v for k, v in reward.items() if not isinstance(v, dict) and v is not None})
    if settings["mode"] == "cosine":
        settings.pop("tau")
    return {"trained": f"verl GRPO {r.steps} steps x {r.prompts_per_step} prompts x {r.group}", "reward": settings}


if __name__ == "__main__":
    sys.exit(run_cli(main))
