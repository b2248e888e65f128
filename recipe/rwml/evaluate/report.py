"""The evaluation's report: summary per suite and ALFWorld task type, the markdown table, the bar chart."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from data_prep.atomic_file import atomic_path


def _mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1) if len(values) > 1 else 0.0
    return mean, math.sqrt(var)


def summarize(episodes: list[dict[str, Any]], suites: Iterable[str]) -> dict[str, Any]:
    """Success (mean +- std over runs), invalid-action rate and steps per suite, and per ALFWorld task type."""
    by_suite: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in episodes:
        by_suite[e["suite"]].append(e)
    out: dict[str, Any] = {"suites": {}, "task_types": {}}
    for suite in suites:
        eps = by_suite.get(suite, [])
        if not eps:
            continue
        per_run: dict[int, list[bool]] = defaultdict(list)
        for e in eps:
            per_run[int(e["run"])].append(bool(e["success"]))
        run_rates = [sum(v) / len(v) for _, v in sorted(per_run.items())]
        mean, std = _mean_std(run_rates)
        steps = sum(e["num_steps"] for e in eps)
        invalid = sum(e["num_invalid_actions"] for e in eps)
        out["suites"][suite] = {
            "episodes": len(eps),
            "tasks": len({e["task_id"] for e in eps}),
            "runs": len(per_run),
            "success": mean,
            "success_std": std,
            "run_success": run_rates,
            "invalid_action_rate": invalid / max(steps, 1),
            "mean_steps": steps / len(eps),
        }
        if suite.startswith("alfworld/"):
            types: dict[str, list[bool]] = defaultdict(list)
            for e in eps:
                types[str((e.get("info") or {}).get("task_type") or "unknown")].append(bool(e["success"]))
            out["task_types"][suite] = {
                t: {"episodes": len(v), "success": sum(v) / len(v)} for t, v in sorted(types.items())
            }
    for env in ("alfworld", "tau2"):
        rates = [s["success"] for k, s in out["suites"].items() if k.startswith(env + "/")]
        if rates:
            out[f"{env}_avg"] = sum(rates) / len(rates)
    return out


def markdown(summary: dict[str, Any], man: dict[str, Any]) -> str:
    """results.md: the suites table, per ALFWorld task type, and the world model's reward."""
    who = man["policy"] if man["policy"] != "openai" else f"openai:{man['model']}"
    lines = [
        f"# Evaluation: {who}",
        "",
        f"max steps {man['max_steps']}, history window ALFWorld {man['history']['alfworld']} / tau2 "
        f"{man['history']['tau2']}, seed {man['seed']}",
        "",
        "| suite | tasks | runs | success % (mean ± std over runs) | invalid actions % | mean steps |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for suite, s in summary["suites"].items():
        lines.append(
            f"| {suite} | {s['tasks']} | {s['runs']} | {100 * s['success']:.1f} ± {100 * s['success_std']:.1f} "
            f"| {100 * s['invalid_action_rate']:.1f} | {s['mean_steps']:.1f} |"
        )
    for env in ("alfworld", "tau2"):
        if f"{env}_avg" in summary:
            lines.append(f"| **{env} avg** | | | {100 * summary[f'{env}_avg']:.1f} | | |")
    for suite, types in summary["task_types"].items():
        lines += ["", f"## {suite} by task type", "", "| task type | episodes | success % |", "|---|---:|---:|"]
        lines += [f"| {t} | {v['episodes']} | {100 * v['success']:.1f} |" for t, v in types.items()]
    wm = summary.get("world_model")
    if wm:
        lines += [
            "",
            "## World model (next-state reward)",
            "",
            f"{wm['samples']} samples of `{wm['parquet']}`: mean reward **{wm['mean_reward']:.3f}**",
            "",
            "| data source | mean reward |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {v:.3f} |" for k, v in wm["by_data_source"].items()]
    return "\n".join(lines) + "\n"


def bar_chart(summary: dict[str, Any], title: str, path: Path) -> None:
    """success.png: success per suite (mean +- std over runs) and, beside it, per ALFWorld task type."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    suites = list(summary["suites"])
    type_rows = [
        (f"{s.split('/', 1)[1]}: {t}", v["success"]) for s, ts in summary["task_types"].items() for t, v in ts.items()
    ]
    ncols = 2 if type_rows else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6 + 5 * (ncols - 1), 4.5), squeeze=False)
    ax = axes[0][0]
    means = [100 * summary["suites"][s]["success"] for s in suites]
    stds = [100 * summary["suites"][s]["success_std"] for s in suites]
    ax.bar(suites, means, yerr=stds, capsize=4, color="tab:blue")
    ax.set_ylim(0, 105)
    ax.set_ylabel("success %")
    ax.set_title(title)
    ax.tick_params(axis="x", rotation=30)
    for i, m in enumerate(means):
        ax.text(i, m + 2, f"{m:.1f}", ha="center", fontsize=8)
    if type_rows:
        ax2 = axes[0][1]
        ax2.barh([r[0] for r in type_rows], [100 * r[1] for r in type_rows], color="tab:green")
        ax2.set_xlim(0, 100)
        ax2.set_xlabel("success %")
        ax2.set_title("ALFWorld by task type")
        ax2.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
