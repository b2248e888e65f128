"""README.md and figures of the experiment, written from results/ (what run.py measured) and the config the run
started with (results/config_used.yaml, embedded). Every number in it comes from a result file; what is not done yet
is said to be pending."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from data_prep.atomic_file import write_atomic
from experiments.alfworld_wm_cpu.report import table
from experiments.alfworld_wm_cpu.workdir import Run
from experiments.alfworld_wm_cpu_v2 import analysis, gate
from experiments.alfworld_wm_cpu_v2.figures import draw

MODELS = {"smollm2": "SmolLM2-135M-Instruct", "tiny": "the tiny random-weight test model"}
LABELS = {
    "base": "base (format warm-up)",
    "rwml_filter": "RWML, easy-sample filter",
    "wm_sft_seq": "WM-SFT, matched sequences",
    "rwml_nofilter": "RWML, no filter",
    "wm_sft_distinct": "WM-SFT, matched distinct triplets",
}


def pct(c: dict[str, Any] | None, digits: int = 3) -> str:
    if not c or not c.get("n") or math.isnan(c.get("mean", math.nan)):
        return "-"
    return f"{c['mean']:.{digits}f} [{c['lo']:.{digits}f}, {c['hi']:.{digits}f}]"


def diff(r: dict[str, Any]) -> str:
    return f"{r['diff']:+.3f} [{r['lo']:+.3f}, {r['hi']:+.3f}] (n={r['n']})" if r.get("n") else "-"


def gain(x: float) -> str:
    return "none (too few triplets)" if math.isnan(x) else f"{x:.3f}"


def status(run: Run, results: Path) -> str:
    """Which stages have results, and how far the easy-sample filter is (its cache holds one line per prompt)."""
    steps = {"gate": results / "gate.json", "power": results / "power.json", "base": results / "eval" / "base.json",
             "sweep": results / "sweep.json"}  # fmt: skip
    done = [name for name, f in steps.items() if f.is_file()]
    arms = sorted(f.stem for f in (results / "eval").glob("*_s[0-9]*.json") if not f.stem.startswith("sweep"))
    cache = gate.cache_file(run)
    scored = max(0, len(cache.read_text().splitlines()) - 1) if cache.is_file() else 0
    parts = [
        f"stages with results: {', '.join(done) or 'none yet'}",
        f"trained runs evaluated: {', '.join(arms) or 'none'}",
    ]
    if "gate" not in done:
        parts.append(f"easy-sample filter: {scored} of {run.cfg.data.pool} pool prompts scored")
    return "; ".join(parts) + "."


def limits(p: dict[str, Any] | None, cfg: Any) -> list[str]:
    """The design's limits, each with its figure from the result files where there is one."""
    lines = [
        f"- One model ({MODELS.get(cfg.model, cfg.model)}) on CPU, {cfg.rwml.steps} GRPO steps of "
        f"{cfg.rwml.prompts_per_step} prompts x {cfg.rwml.group}: nothing here says what RWML does for a 7B model over "
        "hundreds of steps (the paper's setting).",
        "- Held-out triplets come from the expert's episodes with random and stale actions, not from a trained "
        "policy's: a policy's own mistakes may be distributed differently.",
        "- The reward is also the metric: a gain measures agreement with this project's state reader and embedder, "
        "which can share blind spots with the training signal (the exact-match column does not).",
    ]
    if p is not None:
        h = p["heldout"]
        lines.append(
            f"- Scenes: {h['heldout_scenes'] - h['heldout_scenes_not_in_training']} of the {h['heldout_scenes']} "
            "held-out scenes also occur in training games (other tasks in the same rooms); the scene-disjoint table "
            "is the cleaner test of generalisation, and it is not powered."
        )
        short = {k: v["short"] for k, v in p["per_kind"].items() if v["short"] > 0}
        if short:
            lines.append(f"- Fewer held-out triplets than the power calculation wanted: {short}.")
    return lines


def code_lines(versions: list[dict[str, Any]] | None) -> list[str]:
    if not versions:
        return ["(none recorded)"]
    return [f"- `{v['commit'][:12]}`{' (with uncommitted changes)' if v['dirty'] else ''}, from {v['first_used']}"
            + (f": {v['note']}" if v.get("note") else "") for v in versions]  # fmt: skip


def load(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text()) if path.is_file() else None


def gate_section(g: dict[str, Any] | None) -> list[str]:
    if g is None:
        return ["(pending)"]
    rows = [[k, str(v["groups"]), str(v["mixed"]), f"{v['mixed_share']:.2f}", f"{v['base_rate']:.3f}"]
            for k, v in g["by_kind"].items()]  # fmt: skip
    b = g["bar"]
    verdict = "passed" if g["passed"] else "FAILED"
    return [
        f"Groups of {b['group']} base samples (temperature 1) per training-pool prompt. Bar: >= {b['min_mixed_share']}"
        f" of the groups mixed and >= {b['min_kinds_mixed']} kinds with a mixed group. Overall mixed share "
        f"{g['mixed_share']:.2f}, {g['kinds_mixed']} kinds with mixed groups: **{verdict}**.",
        "",
        table(["kind", "groups", "mixed", "mixed share", "base rate (T=1)"], rows),
    ]


def power_section(p: dict[str, Any] | None) -> list[str]:
    if p is None:
        return ["(pending)"]
    rows = [[k, f"{v['base_rate']:.3f}", str(v["wanted"]), str(v["n"]), gain(v["detectable_gain"])]
            for k, v in p["per_kind"].items()]  # fmt: skip
    h = p["heldout"]
    unmeasured = p.get("rate_not_measured") or []
    note = f" Base rate not measurable (no pool sample), sized at 0.5: {', '.join(unmeasured)}." if unmeasured else ""
    return [
        f"At alpha {p['alpha']} and power {p['power']}, a pooled gain of {p['effect_pooled']} at the pooled base rate "
        f"{p['pooled_base_rate']:.3f} needs {p['pooled_n_required']} triplets; drawn: {p['pooled_n']} over the "
        f"primary kinds. Smallest gain this design detects, pooled: {gain(p['pooled_detectable_gain'])} "
        f"(at a base rate of 0.5: {gain(p['worst_case_detectable_gain'])}).{note}",
        "",
        table(["primary kind", "base rate", "wanted", "drawn", "detectable gain"], rows),
        "",
        f"Held-out candidates (valid_seen): {h['candidates']} distinct triplets after dropping "
        f"{h['dropped_also_in_training']} whose content also occurs in training and {h['dropped_duplicate']} "
        f"duplicates; {h['heldout_scenes']} scenes, {h['heldout_scenes_not_in_training']} of them in no training "
        f"game. Drawn per kind: {h['chosen']}; of them scene-disjoint: {h['chosen_scene_disjoint']}.",
    ]


def sweep_section(s: dict[str, Any] | None) -> list[str]:
    if s is None:
        return ["(pending)"]
    rows = [[f"{p['lr']:g}", p["run"], pct(p["reward"])] for p in s["points"]]
    rows.append(["(base)", "-", pct(s["base"])])
    return [
        f"RWML with the filter, seed 0, {s['steps']} steps per lr, greedy on {s['triplets']} (primary kinds of the "
        f"training games' val split; not the held-out games). Chosen lr: **{s['chosen_lr']:g}**.",
        "",
        table(["lr", "run", "mean reward [Wilson 95%]"], rows),
    ]


def heldout_section(evals: dict[str, Any], kinds: list[str], disjoint: bool = False) -> list[str]:
    t = analysis.arm_table(evals, kinds, "reward", disjoint_only=disjoint)
    if not t:
        return ["(pending)"]
    rows = []
    for arm, cells in t.items():
        seeds = analysis.seeds_of(evals, arm)
        row = [LABELS[arm], ",".join(map(str, seeds))]
        for k in kinds:
            c = cells[k]
            spread = "" if arm == "base" else " seeds " + "/".join(f"{x:.2f}" for x in c["per_seed"])
            row.append(f"{pct(c, 2)} n={c['n']}{spread}")
        rows.append(row)
    return [table(["arm", "seeds", *kinds], rows)]


def format_section(evals: dict[str, Any]) -> list[str]:
    rows = []
    for name, e in sorted(evals.items()):
        o = e["summary"]["overall"]
        rows.append([name, str(o["n"]), pct(o["format_error"], 2), pct(o["truncated"], 2), pct(o["exact"], 2),
                     pct(o["status"], 2), f"{o['cosine']['mean']:.3f}"])  # fmt: skip
    header = ["run", "n", "format error (not truncated)", "truncated", "exact", "status line", "cosine"]
    return [table(header, rows)] if rows else []


def hypothesis_section(hyps: list[dict[str, Any]]) -> list[str]:
    lines = []
    for h in hyps:
        tag = " (primary)" if h["primary"] else ""
        lines.append(f"- **{h['name']}{tag}: {h['verdict']}.** {h['claim']}. Test: {h['test']}.")
        r = h.get("result")
        if isinstance(r, dict):
            m = r["mcnemar_seed0"]
            lines.append(f"  Difference {diff(r)}; McNemar (seed 0): {m['wins']} wins, {m['losses']} losses, "
                         f"p = {m['p']:.3g}. Seeds: {r['seeds']}.")  # fmt: skip
        elif isinstance(r, list):
            for row in r:
                lines.append(f"  {row['run']}: gain {row['gain']:+.3f}, KL to base {pct(row['kl'], 4)}")
        if h.get("why"):
            lines.append(f"  ({h['why']})")
    return lines


def curves_section(run: Run) -> list[str]:
    rows = []
    for log in sorted(run.path("logs").glob("rwml_*.log")):
        c = analysis.curves(run.work, log.stem)
        if not c:
            continue
        mixed = [x["nonzero_adv"] for x in c if not math.isnan(x["nonzero_adv"])]
        rows.append([log.stem, str(len(c)), f"{c[0]['reward']:.3f}", f"{c[-1]['reward']:.3f}",
                     f"{sum(mixed) / len(mixed):.2f}" if mixed else "-",
                     f"{sum(x['seconds'] for x in c) / len(c):.0f}"])  # fmt: skip
    if not rows:
        return ["(pending)"]
    return [table(["run", "steps", "reward step 1", "reward last", "mean share of groups with signal", "s/step"], rows)]


def write(run: Run) -> Path:
    results = run.report_dir / "results"
    used = results / "config_used.yaml"
    cfg = OmegaConf.load(used) if used.is_file() else run.cfg
    evals = analysis.load_evals(results)
    primary = list(cfg.preregistration.primary_kinds)
    kinds = [*primary, cfg.preregistration.unpredictable_kind]
    hyps = analysis.hypotheses(evals, cfg) if "base" in evals else []
    figs = draw(run, evals, kinds, analysis)
    lines = [
        "# Does the reward teach? A pre-registered, powered replication on CPU (issue 26)",
        "",
        "Written by `run.py` from `results/` (nothing typed in). Rerun `make experiment-v2` to resume; "
        "`run.py --report-only` rewrites this file.",
        "",
        f"**Status:** {status(run, results)}",
        "",
        "## Hypotheses and verdicts",
        "",
        *(hypothesis_section(hyps) or ["(pending: the base is not evaluated yet)"]),
        "",
        "## Gate (before any GRPO step)",
        "",
        *gate_section(load(results / "gate.json")),
        "",
        "## Power and the held-out set",
        "",
        *power_section(load(results / "power.json")),
        "",
        "## lr sweep",
        "",
        *sweep_section(load(results / "sweep.json")),
        "",
        "## Held-out reward by kind (Wilson 95%, pooled over seeds; per-seed means after `seeds`)",
        "",
        *heldout_section(evals, kinds),
        "",
        "Scene-disjoint subset (held-out scenes in no training game):",
        "",
        *heldout_section(evals, kinds, disjoint=True),
        "",
        "## Format, truncation, exact match (all held-out triplets of each run)",
        "",
        *(format_section(evals) or ["(pending)"]),
        "",
        "## Training curves",
        "",
        *curves_section(run),
        "",
        *[f"![{f.stem}](figures/{f.name})" for f in figs],
        "",
        "## What this does not show",
        "",
        *limits(load(results / "power.json"), cfg),
        "",
        "## Code versions this run used (results/code_versions.json)",
        "",
        *code_lines(load(results / "code_versions.json")),
        "",
        "## Wall time (seconds, this machine)",
        "",
        table(["stage", "s"], [[k, f"{v:.0f}"] for k, v in sorted(run.timings.items())]),
        "",
        "## The config this run started with (results/config_used.yaml)",
        "",
        "```yaml",
        OmegaConf.to_yaml(cfg).rstrip(),
        "```",
        "",
    ]
    out = run.report_dir / "README.md"
    write_atomic(out, "\n".join(lines))
    return out
