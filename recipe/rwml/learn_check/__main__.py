"""`make learn-check`: the learnability checks through verl's real trainer on CPU, with their curves.

    python -m recipe.rwml.learn_check [--out DIR] [--steps N] [--k K]

For each check: the reward per step as a table, a PNG of the curves (`DIR/<check>.png`), and one closing line
    learn-check <name>: reward <first-k mean> -> <last-k mean> over <N> steps (inverted: <a> -> <b>)
where the inverted run's figures are the project's reward while GRPO is trained on 1 minus it. The exit status is 1
when a check did not learn (the reward did not rise by the margin, or did not fall when inverted).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from data_prep.cli_errors import ArgumentParser, run_cli
from data_prep.collect_trajectories import int_at_least
from recipe.rwml.train_curves import save_figure

# Steps, window and margin from measured curves (see tests/test_learn_check.py): the reward of the true answer
# starts near 1/3 (three answers taught equally), a seed's first-3 mean spread over seeds is below 0.15
STEPS = 10
K = 3
MARGIN = 0.25


@dataclass
class Curve:
    name: str
    project_reward: list[float]  # the project's reward (mean over the step's samples), per step

    def window_means(self, k: int) -> tuple[float, float]:
        first, last = self.project_reward[:k], self.project_reward[-k:]
        return sum(first) / len(first), sum(last) / len(last)


def stage1_curves(out: Path, steps: int, seed: int = 0) -> tuple[Curve, Curve]:
    """The stage-1 check: the same data and warm-up, GRPO on the project's reward and on its inverse."""
    from recipe.rwml.base_models import make_tiny_model
    from recipe.rwml.learn_check import stage1

    data = stage1.build_data(out / "data", seed=seed)
    model = stage1.warm_up(make_tiny_model(out / "tiny"), data, out / "warmup_hf", seed=seed)
    curves = []
    for invert in (False, True):
        run = out / ("inverted" if invert else "reward")
        metrics = stage1.train(model, data, run, invert=invert, steps=steps, seed=seed)
        scores = [metrics[s]["critic/score/mean"] for s in sorted(metrics)]
        project = [1.0 - x for x in scores] if invert else scores
        curves.append(Curve("stage1 inverted" if invert else "stage1", project))
    return curves[0], curves[1]


def table(curves: list[Curve]) -> str:
    lines = ["step  " + "  ".join(f"{c.name:>16s}" for c in curves)]
    for i in range(max(len(c.project_reward) for c in curves)):
        cells = [f"{c.project_reward[i]:16.3f}" if i < len(c.project_reward) else " " * 16 for c in curves]
        lines.append(f"{i + 1:4d}  " + "  ".join(cells))
    return "\n".join(lines)


def plot(curves: list[Curve], png: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for c in curves:
        ax.plot(range(1, len(c.project_reward) + 1), c.project_reward, marker="o", label=c.name)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("project reward (mean over samples)")
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, png)


def verdict(name: str, trained: Curve, inverted: Curve, k: int, margin: float) -> tuple[str, bool]:
    """The closing line, and whether the reward rose by `margin` and fell by `margin` when inverted."""
    first, last = trained.window_means(k)
    inv_first, inv_last = inverted.window_means(k)
    line = (
        f"learn-check {name}: reward {first:.3f} -> {last:.3f} over {len(trained.project_reward)} steps "
        f"(inverted: {inv_first:.3f} -> {inv_last:.3f})"
    )
    return line, last - first >= margin and inv_first - inv_last >= margin


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="where data, runs and PNGs go (default: a temp dir)")
    parser.add_argument("--steps", type=int_at_least(2), default=STEPS, help="GRPO steps per run")
    parser.add_argument("--k", type=int_at_least(1), default=K, help="steps averaged at each end")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="learn_check_"))
    out.mkdir(parents=True, exist_ok=True)
    trained, inverted = stage1_curves(out / "stage1", args.steps)
    print(table([trained, inverted]))
    png = plot([trained, inverted], out / "stage1.png", "stage 1: GRPO on the sim-to-real reward, and on 1 - it")
    print(f"curves: {png}")
    line, learned = verdict("stage1", trained, inverted, args.k, MARGIN)
    print(line)
    return 0 if learned else 1


if __name__ == "__main__":
    sys.exit(run_cli(main))
