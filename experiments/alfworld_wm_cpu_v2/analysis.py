"""From the per-triplet results to the pre-registered comparisons: each arm's outcome per held-out triplet averaged
over the seeds that are done, the paired bootstrap and McNemar per hypothesis, and whether each hypothesis held.

Pure functions of the files in results/ (run.py writes them); report.py prints what these return.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from experiments.alfworld_wm_cpu.metrics import training_curves
from experiments.alfworld_wm_cpu_v2.stats import mcnemar, paired_bootstrap, wilson
from recipe.rwml.train_log import parse_steps

ARMS = ("base", "rwml_filter", "wm_sft_seq", "rwml_nofilter", "wm_sft_distinct")


def load_evals(results: Path) -> dict[str, dict[str, Any]]:
    """results/eval/<run>.json by run name (base, <arm>_s<seed>, sweep_...)."""
    folder = results / "eval"
    return {f.stem: json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))} if folder.is_dir() else {}


def seeds_of(evals: dict[str, dict[str, Any]], arm: str) -> list[int]:
    if arm == "base":
        return [0] if "base" in evals else []
    return sorted(int(m.group(1)) for name in evals if (m := re.fullmatch(rf"{arm}_s(\d+)", name)))


def per_triplet(evals: dict[str, dict[str, Any]], arm: str, metric: str, seeds: list[int] | None = None) -> dict:
    """hash -> the arm's metric on that held-out triplet, averaged over `seeds` (default: every seed done)."""
    names = ["base"] if arm == "base" else [f"{arm}_s{s}" for s in (seeds or seeds_of(evals, arm))]
    values: dict[str, list[float]] = {}
    for name in names:
        for rec in evals[name]["records"]:
            values.setdefault(rec["hash"], []).append(float(rec[metric]))
    return {h: sum(v) / len(v) for h, v in values.items()}


def kinds_of(evals: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """hash -> {kind, scene_disjoint} of every held-out triplet (from the base's records)."""
    return {r["hash"]: {"kind": r["kind"], "scene_disjoint": r["scene_disjoint"]} for r in evals["base"]["records"]}


def select(kinds: dict[str, dict[str, Any]], which: Any, primary: list[str], disjoint_only: bool = False) -> list:
    wanted = set(primary) if which == "primary" else set(which)
    return sorted(h for h, k in kinds.items() if k["kind"] in wanted and (k["scene_disjoint"] or not disjoint_only))


def compare(evals: dict, a: str, b: str, hashes: list[str], metric: str, n_boot: int, seed: int) -> dict[str, Any]:
    """Paired bootstrap of a - b (each averaged over its seeds) and McNemar on seed-0-vs-b exact outcomes."""
    pa, pb = per_triplet(evals, a, metric), per_triplet(evals, b, metric)
    hashes = [h for h in hashes if h in pa and h in pb]
    out = paired_bootstrap([pa[h] for h in hashes], [pb[h] for h in hashes], n_boot=n_boot, seed=seed)
    first_a = per_triplet(evals, a, metric, seeds_of(evals, a)[:1] or None)
    first_b = per_triplet(evals, b, metric, seeds_of(evals, b)[:1] or None)
    out["mcnemar_seed0"] = mcnemar([first_a[h] for h in hashes], [first_b[h] for h in hashes])
    out["seeds"] = {a: seeds_of(evals, a), b: seeds_of(evals, b)}
    return out


def hypotheses(evals: dict[str, dict[str, Any]], cfg: Any) -> list[dict[str, Any]]:
    """Each pre-registered hypothesis with its test's result and verdict: held / not held / pending (an arm not done
    for every seed) / descriptive."""
    pre = cfg.preregistration
    primary, want_seeds = list(pre.primary_kinds), list(cfg.seeds)
    out = []
    for name, h in pre.hypotheses.items():
        a, b = h.compare
        row: dict[str, Any] = {"name": name, "claim": h.claim, "test": h.test, "primary": bool(h.get("primary"))}
        complete = all(arm == "base" or seeds_of(evals, arm) == want_seeds for arm in (a, b))
        if "base" not in evals or not seeds_of(evals, a) or not seeds_of(evals, b):
            out.append({**row, "verdict": "pending", "why": f"{a} or {b} not evaluated yet"})
            continue
        if "kinds" not in h:
            out.append({**row, "verdict": "descriptive", "result": drift_vs_gain(evals, primary)})
            continue
        hashes = select(kinds_of(evals), h.kinds, primary)
        result = compare(evals, a, b, hashes, pre.metric, pre.bootstrap, cfg.seed)
        if "McNemar" in h.test:
            m = result["mcnemar_seed0"]
            held = m["p"] < pre.alpha and m["wins"] > m["losses"]
        else:
            held = result["lo"] > 0
        verdict = ("held" if held else "not held") if complete else "pending"
        why = "" if complete else f"interim: seeds done {result['seeds']}, of {want_seeds}"
        out.append({**row, "verdict": verdict, "why": why, "result": result})
    return out


def arm_table(evals: dict[str, dict[str, Any]], kinds: list[str], metric: str, disjoint_only: bool = False) -> dict:
    """arm -> kind -> Wilson interval of the metric pooled over the arm's seeds (k successes of n seed-triplets), plus
    the per-seed means (the seed spread)."""
    table: dict[str, dict[str, Any]] = {}
    for arm in ARMS:
        names = ["base"] if arm == "base" else [f"{arm}_s{s}" for s in seeds_of(evals, arm)]
        if not names or any(n not in evals for n in names):
            continue
        table[arm] = {}
        for kind in kinds:
            recs = [[r for r in evals[n]["records"] if r["kind"] == kind and (r["scene_disjoint"] or not disjoint_only)]
                    for n in names]  # fmt: skip
            pooled = [r[metric] for rs in recs for r in rs]
            cell = wilson(int(round(sum(pooled))), len(pooled))
            cell["per_seed"] = [float(np.mean([r[metric] for r in rs])) if rs else math.nan for rs in recs]
            table[arm][kind] = cell
    return table


def drift_vs_gain(evals: dict[str, dict[str, Any]], primary: list[str]) -> list[dict[str, Any]]:
    """Per trained run: its held-out gain over the base on the primary kinds and its token KL to the base."""
    base = per_triplet(evals, "base", "reward")
    kinds = kinds_of(evals)
    hashes = select(kinds, "primary", primary)
    rows = []
    for name, e in sorted(evals.items()):
        if name == "base" or name.startswith("sweep") or "drift" not in e:
            continue
        mine = {r["hash"]: r["reward"] for r in e["records"]}
        gain = float(np.mean([mine[h] - base[h] for h in hashes if h in mine]))
        rows.append({"run": name, "gain": gain, "kl": e["drift"]["kl"], "delta_nll": e["drift"]["delta_nll"]})
    return rows


def curves(work: Path, run: str) -> list[dict[str, float]]:
    """Per GRPO step of a run: reward, KL loss, response length, seconds, share of groups with signal (mixed)."""
    log = work / "logs" / f"{run}.log"
    if not log.is_file():
        return []
    return training_curves(parse_steps(log.read_text(errors="replace")), work / "rollouts" / run)
