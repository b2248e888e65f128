"""The report's figures, from the same results the tables read: held-out reward by kind per arm, the GRPO training
curves (reward and the share of groups with signal), and drift vs held-out gain."""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType
from typing import Any

from experiments.alfworld_wm_cpu.workdir import Run


def draw(run: Run, evals: dict[str, Any], kinds: list[str], analysis: ModuleType) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = run.report_dir / "figures"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    t = analysis.arm_table(evals, kinds, "reward")
    if t:
        fig, ax = plt.subplots(figsize=(9, 4))
        width = 0.8 / len(t)
        for i, (arm, cells) in enumerate(t.items()):
            xs = [j + i * width for j in range(len(kinds))]
            means = [cells[k]["mean"] for k in kinds]
            errs = [[m - cells[k]["lo"] for m, k in zip(means, kinds, strict=True)],
                    [cells[k]["hi"] - m for m, k in zip(means, kinds, strict=True)]]  # fmt: skip
            ax.bar(xs, means, width, yerr=errs, capsize=2, label=arm)
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(kinds))], kinds, fontsize=8)
        ax.set_ylabel("held-out reward (Wilson 95%)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(_save(fig, out / "heldout_by_kind.png"))
    logs = sorted(run.path("logs").glob("rwml_*.log"))
    series = {log.stem: analysis.curves(run.work, log.stem) for log in logs}
    series = {k: v for k, v in series.items() if v}
    if series:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
        for name, c in series.items():
            steps = [x["step"] for x in c]
            a1.plot(steps, [x["reward"] for x in c], label=name)
            a2.plot(steps, [x["nonzero_adv"] if not math.isnan(x["nonzero_adv"]) else None for x in c], label=name)
        a1.set(xlabel="GRPO step", ylabel="mean training reward")
        a2.set(xlabel="GRPO step", ylabel="share of groups with signal")
        a1.legend(fontsize=6)
        fig.tight_layout()
        written.append(_save(fig, out / "training_curves.png"))
    if "base" in evals:
        rows = analysis.drift_vs_gain(evals, kinds[:-1])
        if rows:
            fig, ax = plt.subplots(figsize=(5, 4))
            for r in rows:
                ax.scatter(r["gain"], r["kl"]["mean"])
                ax.annotate(r["run"], (r["gain"], r["kl"]["mean"]), fontsize=6)
            ax.set(xlabel="held-out gain over base (primary kinds)", ylabel="token KL to base on HumanEval")
            fig.tight_layout()
            written.append(_save(fig, out / "drift_vs_gain.png"))
    return written


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
