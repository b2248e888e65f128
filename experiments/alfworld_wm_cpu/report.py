"""README.md and figures of the experiment, written from report_dir/results/*.json (what run.py measured), and
saying which arms are still pending. Nothing in the tables is typed in: every number comes from a result file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from experiments.alfworld_wm_cpu.metrics import KINDS

ARMS = ("untrained", "base", "wm_sft", "rwml_default", "rwml_cosine", "rwml_low_tau")
LABELS = {
    "untrained": "SmolLM2 untrained",
    "base": "base (format warm-up)",
    "wm_sft": "WM-SFT",
    "rwml_default": "RWML default reward",
    "rwml_cosine": "RWML cosine",
    "rwml_low_tau": "RWML binary, low tau",
}
WM_COLUMNS = {
    "reward": "reward (default rule)",
    "binary": "cosine >= tau, no fact check",
    "cosine": "cosine",
    "exact": "exact match",
    "format": "format",
    "status": "status line",
}


def ci(m: dict[str, float] | None, digits: int = 3) -> str:
    """'mean [lo, hi]' of a metrics.bootstrap_ci result; '-' when absent or empty."""
    if not m or m.get("n", 0) == 0 or math.isnan(m["mean"]):
        return "-"
    return f"{m['mean']:.{digits}f} [{m['lo']:.{digits}f}, {m['hi']:.{digits}f}]"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def load_results(report_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for arm in ARMS:
        f = report_dir / "results" / f"{arm}.json"
        if f.is_file():
            out[arm] = json.loads(f.read_text())
    return out


def reward_rule_sentence() -> str:
    """What the reward columns mean, from the settings the evaluation scored with (read now, never copied)."""
    from experiments.alfworld_wm_cpu.evaluate import reward_settings_used

    s = reward_settings_used()
    return (
        f"Reward (default rule): the project's default for ALFWorld, mode `{s['mode']}` with tau {s['tau']} and "
        f"`{s['model']}`; `cosine >= tau, no fact check` is binary mode at the same tau; cosine is 0 for an answer "
        "without `<next_state>`; exact match folds case and whitespace; status line: the predicted task-status line "
        "equals the real one."
    )


def load_refusals(report_dir: Path) -> dict[str, dict[str, Any]]:
    """results/nothing_happens/<arm>.json: each arm on the held-out "Nothing happens." triplets."""
    folder = report_dir / "results" / "nothing_happens"
    return {arm: json.loads((folder / f"{arm}.json").read_text()) for arm in ARMS if (folder / f"{arm}.json").is_file()}


def refusal_section(refusals: dict[str, dict[str, Any]], cfg: Any) -> list[str]:
    if not refusals:
        return ["(pending: run.py evaluates every arm on them once the arms are done)"]
    nh, n = cfg.nothing_happens, next(iter(refusals.values()))["world_model"]["n"]
    intro = (
        f"The eval games played again with {nh.invalid:.0%} stale commands (a command the game offered earlier in "
        f'the episode, `collect_trajectories --invalid`); {n} of the resulting "Nothing happens." '
        f"triplets sampled (at most {nh.samples}). No training triplet is of this kind (the training episodes were "
        "collected with admissible random actions only), so this measures what each arm predicts for a command the "
        "game refuses."
    )
    return [intro, "", world_model_table(refusals)]


def world_model_table(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for arm, r in results.items():
        overall = r["world_model"]["overall"]
        rows.append([LABELS[arm], str(r["world_model"]["n"]), *(ci(overall[k]) for k in WM_COLUMNS)])
    return table(["arm", "n", *WM_COLUMNS.values()], rows)


def kind_table(results: dict[str, dict[str, Any]]) -> str:
    kinds = sorted({k for r in results.values() for k in r["world_model"]["by_kind"]})
    rows = []
    for arm, r in results.items():
        by = r["world_model"]["by_kind"]
        cells = [f"{ci(by[k]['reward'], 2)} / {by[k]['cosine']['mean']:.2f}" if k in by else "-" for k in kinds]
        rows.append([LABELS[arm], *cells])
    first = next(iter(results.values()), None)
    counts = [str(first["world_model"]["by_kind"].get(k, {}).get("n", 0)) for k in kinds] if first else []
    header = ["arm", *(f"{k} (n={n})" for k, n in zip(kinds, counts, strict=True))]
    return table(header, rows)


def absent_kinds(results: dict[str, dict[str, Any]]) -> str:
    """A sentence naming the transition kinds with no held-out sample, if any."""
    seen = {k for r in results.values() for k in r["world_model"]["by_kind"]}
    missing = [k for k in KINDS if k not in seen]
    if not results or not missing:
        return ""
    why = {
        "nothing happens": "the training and held-out episodes were collected with admissible random actions only; "
        "see the supplement below"
    }
    return "".join(f" No held-out triplet of kind '{k}'" + (f": {why[k]}." if k in why else ".") for k in missing)


def forgetting_table(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for arm, r in results.items():
        f = r.get("forgetting")
        if not f:
            continue
        rows.append([LABELS[arm], f["against"].split("/")[-1], str(f["texts"]), str(f["tokens"]), ci(f["nll"]),
                     ci(f["delta_nll"], 4), ci(f["kl"], 4)])  # fmt: skip
    header = ["arm", "against", "texts", "tokens", "token NLL", "NLL change vs base", "KL(model ‖ base) per token"]
    return table(header, rows)


def training_table(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for arm, r in results.items():
        curves = r.get("curves") or []
        if not curves:
            continue
        live = [c["nonzero_adv"] for c in curves if not math.isnan(c["nonzero_adv"])]
        secs = [c["seconds"] for c in curves if not math.isnan(c["seconds"])]
        settings = ", ".join(f"{k}={v}" for k, v in r.get("reward", {}).items())
        rows.append([
            LABELS[arm], settings, str(len(curves)), f"{curves[0]['reward']:.3f} -> {curves[-1]['reward']:.3f}",
            f"{sum(live) / len(live):.2f}" if live else "-", f"{sum(secs) / len(secs):.0f}" if secs else "-",
        ])  # fmt: skip
    header = ["arm", "reward settings", "GRPO steps", "train reward first -> last", "groups with signal", "s/step"]
    return table(header, rows) if rows else "(no RWML arm done yet)"


def figures(report_dir: Path, results: dict[str, dict[str, Any]]) -> list[str]:
    """figures/heldout.png (metrics with intervals) and figures/training.png (GRPO curves); their names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = report_dir / "figures"
    out.mkdir(parents=True, exist_ok=True)
    names = []
    if results:
        fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
        for ax, key in zip(axes, ("reward", "cosine", "format"), strict=True):
            arms = list(results)
            m = [results[a]["world_model"]["overall"][key] for a in arms]
            ax.bar(range(len(arms)), [x["mean"] for x in m], color="#4c72b0")
            ax.errorbar(range(len(arms)), [x["mean"] for x in m],
                        yerr=[[x["mean"] - x["lo"] for x in m], [x["hi"] - x["mean"] for x in m]],
                        fmt="none", ecolor="black", capsize=3)  # fmt: skip
            ax.set_xticks(range(len(arms)), [LABELS[a] for a in arms], rotation=30, ha="right", fontsize=7)
            ax.set_title(f"held-out {WM_COLUMNS[key]} (95% CI)", fontsize=9)
        fig.tight_layout()
        fig.savefig(out / "heldout.png", dpi=110)
        plt.close(fig)
        names.append("heldout.png")
    curved = {a: r["curves"] for a, r in results.items() if r.get("curves")}
    if curved:
        fig, axes = plt.subplots(1, 4, figsize=(15, 3.4))
        panels = (("reward", "train reward mean"), ("nonzero_adv", "groups with non-zero advantage"),
                  ("kl_loss", "KL loss"), ("response_length", "response length (tokens)"))  # fmt: skip
        for ax, (key, title) in zip(axes, panels, strict=True):
            for arm, rows in curved.items():
                ax.plot([c["step"] for c in rows], [c[key] for c in rows], marker="o", label=LABELS[arm])
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("GRPO step")
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(out / "training.png", dpi=110)
        plt.close(fig)
        names.append("training.png")
    return names


def timings_table(timings: dict[str, float]) -> str:
    rows = [[name, f"{seconds / 60:.1f}"] for name, seconds in timings.items()]
    return table(["stage", "wall minutes"], rows)


def findings(results: dict[str, dict[str, Any]], refusals: dict[str, dict[str, Any]]) -> list[str]:
    """Sentences that follow from the measured numbers: whether the model writes the answer format, whether the
    default reward gave a GRPO signal, which arm's held-out reward interval lies off the base's, drift vs WM-SFT,
    refusals predicted."""
    lines = []
    fmt = {a: results[a]["world_model"]["overall"]["format"] for a in ("untrained", "base") if a in results}
    if len(fmt) == 2 and fmt["untrained"]["mean"] < 0.1 <= fmt["base"]["mean"]:
        n = fmt["untrained"]["n"]
        lines.append(
            f"- SmolLM2-135M-Instruct as shipped wrote the `<next_state>` answer in {fmt['untrained']['mean'] * n:.0f} "
            f"of {n} held-out samples, after the format warm-up in {fmt['base']['mean'] * n:.0f} of {n}: without a "
            "warm-up every reward is 0 and every GRPO group all-equal, so RL from the shipped model has nothing to "
            "learn from (as `make train-cpu` measured before it had a warm-up). The setting that gives this small "
            "model a learning signal is the warm-up, not another tau: the CPU schedule now starts stage 1 from one "
            "(`WARMUP_STEPS`)."
        )
    signal = {}
    for arm in ("rwml_default", "rwml_cosine", "rwml_low_tau"):
        curves = results.get(arm, {}).get("curves") or []
        live = [c["nonzero_adv"] for c in curves if not math.isnan(c["nonzero_adv"])]
        if live:
            signal[arm] = sum(live) / len(live)
    if "rwml_default" in signal:
        d = signal["rwml_default"]
        others = "; ".join(f"{LABELS[a]} {signal[a]:.0%}" for a in ("rwml_cosine", "rwml_low_tau") if a in signal)
        if d < 0.1:
            better = [a for a in ("rwml_low_tau", "rwml_cosine") if signal.get(a, 0.0) > d]
            lines.append(
                f"- The default reward gave almost no learning signal: {d:.0%} of GRPO groups had a non-zero advantage"
                + (
                    f"; {LABELS[better[0]]} {signal[better[0]]:.0%}: the setting to use for a small model."
                    if better
                    else "."
                )
            )
        else:
            lines.append(
                f"- From the warm-up checkpoint the default reward gave {d:.0%} of GRPO groups a non-zero advantage "
                "(the others scored all 0 or all 1)" + (f"; {others}." if others else ".")
            )
    base = results.get("base", {}).get("world_model", {}).get("overall", {}).get("reward")
    verdicts = []
    for arm in ("wm_sft", "rwml_default", "rwml_cosine", "rwml_low_tau"):
        m = results.get(arm, {}).get("world_model", {}).get("overall", {}).get("reward")
        if base and m:
            verdict = "above" if m["lo"] > base["hi"] else "below" if m["hi"] < base["lo"] else "overlapping"
            verdicts.append(verdict)
            lines.append(
                f"- {LABELS[arm]} vs base, held-out reward: {m['mean']:.3f} vs {base['mean']:.3f} "
                f"({m['mean'] - base['mean']:+.3f}), intervals {verdict}."
            )
    if verdicts and set(verdicts) == {"overlapping"}:
        lines.append(
            "- No trained arm's held-out reward interval separates from the base's: at this budget the run is no "
            "evidence that the reward teaches, nor that it harms."
        )
    sft_kl = results.get("wm_sft", {}).get("forgetting", {}).get("kl")
    for arm in ("rwml_default", "rwml_cosine", "rwml_low_tau"):
        kl = results.get(arm, {}).get("forgetting", {}).get("kl")
        if sft_kl and kl:
            apart = kl["hi"] < sft_kl["lo"] or kl["lo"] > sft_kl["hi"]
            side = "lower" if kl["mean"] < sft_kl["mean"] else "higher"
            lines.append(
                f"- Drift on HumanEval, KL(model ‖ base) per token: {LABELS[arm]} {ci(kl, 4)} vs WM-SFT "
                f"{ci(sft_kl, 4)}: {side}, intervals {'disjoint' if apart else 'overlapping'}"
                + (
                    " (the paper's direction: RWML moves the model less than SFT)."
                    if apart and side == "lower"
                    else "."
                )
            )
    if refusals and all(r["world_model"]["overall"]["reward"]["mean"] == 0 for r in refusals.values()):
        n = next(iter(refusals.values()))["world_model"]["n"]
        lines.append(
            f'- No arm predicted a refusal: reward 0 on all {n} held-out "Nothing happens." triplets for every arm. '
            "None was trained on one; a run whose training episodes hold them (`collect_trajectories --invalid`) "
            "would test whether RWML learns that kind."
        )
    return lines


def headline(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    reward = {a: results[a]["world_model"]["overall"]["reward"] for a in results}
    cosine = {a: results[a]["world_model"]["overall"]["cosine"] for a in results}
    parts = [f"{LABELS[a]} {ci(reward[a])}" for a in ("base", "rwml_default", "rwml_cosine", "rwml_low_tau", "wm_sft")
             if a in reward]  # fmt: skip
    if parts:
        lines.append("- Held-out mean reward (default rule), 95% CI: " + "; ".join(parts) + ".")
        lines.append("- Held-out mean cosine: " + "; ".join(f"{LABELS[a]} {ci(cosine[a])}" for a in cosine) + ".")
    drift = [f"{LABELS[a]} {ci(r['forgetting']['delta_nll'], 4)} (KL {ci(r['forgetting']['kl'], 4)})"
             for a, r in results.items() if a not in ("untrained", "base") and r.get("forgetting")]  # fmt: skip
    if drift:
        lines.append("- HumanEval token-NLL change vs the base (nats/token, 95% CI): " + "; ".join(drift) + ".")
    for arm in ("rwml_default", "rwml_low_tau", "rwml_cosine"):
        curves = results.get(arm, {}).get("curves") or []
        live = [c["nonzero_adv"] for c in curves if not math.isnan(c["nonzero_adv"])]
        if live:
            lines.append(f"- {LABELS[arm]}: {sum(live) / len(live):.2f} of GRPO groups had a non-zero advantage "
                         f"(mean over {len(live)} steps).")  # fmt: skip
    return lines


def write(report_dir: Path, cfg: Any, timings: dict[str, float]) -> Path:
    """README.md (and figures) from the results so far; pending arms are listed."""
    results = load_results(report_dir)
    skipped_file = report_dir / "results" / "skipped.json"
    skipped = json.loads(skipped_file.read_text()) if skipped_file.is_file() else {}
    pending = [LABELS[a] for a in ARMS if a not in results and a not in skipped]
    not_run = [f"{LABELS[a]} not run: {why}." for a, why in skipped.items()]
    names = figures(report_dir, results)
    total_h = sum(timings.values()) / 3600
    r, s, w = cfg.rwml, cfg.sft, cfg.warmup
    settings = next((res["reward"] for a, res in results.items() if a == "rwml_default"), None)
    text = [
        "# RWML vs WM-SFT on held-out ALFWorld games (SmolLM2-135M-Instruct, CPU)",
        "",
        "Written by `run.py` from its own results (`results/*.json`); rerun it to resume and to refresh this page.",
        "",
        f"**Status:** {len(results)} of {len(ARMS)} arms done"
        + (f"; pending: {', '.join(pending)}." if pending else ".")
        + "".join(f" {line}" for line in not_run),
        f"Wall time so far: {total_h:.2f} h on a 2-core CPU shared with other jobs (`nice -n 19`), seed {cfg.seed}.",
        "",
        "## Set-up",
        "",
        f"- Training triplets: the {cfg.data.train_split} games of `{cfg.data.alfworld_root}`, "
        f"{cfg.data.episodes_per_game} episodes per game by ALFWorld's expert with {cfg.data.epsilon:.0%} random "
        f"actions, at most {cfg.data.max_steps} steps, history {cfg.data.history} (`data_prep.build_wm_dataset` / "
        "`build_sft_dataset`: the same triplets).",
        f"- Held-out: {cfg.data.eval_samples} triplets sampled (seed {cfg.seed}) from {cfg.data.eval_max_games} "
        f"{cfg.data.eval_split} games (disjoint from the train games), greedy decoding, {cfg.eval.max_new_tokens} "
        "new tokens.",
        f"- Base: SmolLM2-135M-Instruct after a format warm-up, verl's SFT trainer {w.steps} steps x {w.batch} "
        f"triplets (lr {w.lr}) on the bundled games `{cfg.data.warmup_root}` (scenes 901-904, in neither split).",
        f"- WM-SFT: verl's SFT trainer on CPU, {s.steps} steps x {s.batch} triplets, lr {s.lr}.",
        f"- RWML: verl's GRPO (`rwml_trainer.yaml`, `+platform=cpu`), {r.steps} steps x {r.prompts_per_step} prompts"
        f" x group {r.group} (= {r.prompts_per_step * r.group} sequences per step"
        f"{', as the SFT arm' if r.prompts_per_step * r.group == s.batch else ''}), lr {r.lr}, KL "
        f"loss {r.kl_loss_coef}, {r.max_response_length} response tokens. Default reward as resolved at run time: "
        f"`{settings}`."
        if settings
        else "- RWML: pending.",
        "",
        "## Held-out world-model metrics (mean [95% bootstrap CI])",
        "",
        world_model_table(results) if results else "(no arm done yet)",
        "",
        reward_rule_sentence(),
        "",
        "By transition kind: reward (default rule) [95% CI] / mean cosine." + absent_kinds(results),
        "",
        kind_table(results) if results else "",
        "",
        '## Held-out "Nothing happens." transitions (supplement)',
        "",
        *refusal_section(load_refusals(report_dir), cfg),
        "",
        "## Forgetting on HumanEval (prompt + canonical solution), teacher-forced",
        "",
        forgetting_table(results) if any(r.get("forgetting") for r in results.values()) else "(pending)",
        "",
        "## Training",
        "",
        training_table(results),
        "",
        *(f"![{n}](figures/{n})" for n in names),
        "",
        "## Wall time per stage (this machine, shared)",
        "",
        timings_table(timings),
        "",
        "## Headline numbers",
        "",
        *(headline(results) or ["(pending)"]),
        "",
        "## What this shows and what it does not",
        "",
        *findings(results, load_refusals(report_dir)),
        f"- Scale: a 135M model, {r.steps} GRPO / {s.steps} SFT steps, one seed, {cfg.data.eval_samples} held-out "
        "triplets: intervals are wide and a",
        "  difference inside them is not evidence. The intervals resample held-out triplets (or HumanEval texts), not",
        "  training runs: they say nothing about seed-to-seed variance.",
        "- CPU numerics: verl's FSDP2 actor in bf16 mixed precision over gloo (fp32 master weights), the HF rollout",
        "  in fp32; no vLLM, no CUDA kernels. Models are exported in fp32 from the FSDP shards (`convert_to_hf",
        "  --dtype fp32`): verl's merger writes bf16, which rounds away most of a 1e-5 update.",
        "- The comparison is at a matched number of optimizer steps and sequences per step, not matched FLOPs: a GRPO",
        "  step also generates and scores, so it costs several SFT steps of CPU time (see wall times in the results).",
        "- Forgetting is measured on HumanEval text only (no MMLU/GSM8K data offline): a proxy for the paper's",
        "  Table 3.",
        "",
    ]
    out = report_dir / "README.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(text))
    return out
