"""Per-step training curves of one stage, drawn from verl's console log into a PNG beside it.

    python -m recipe.rwml.train_curves ckpt/logs/rwml.log [ckpt/logs/policy.log ...]

writes `rwml.png` next to `rwml.log`: one panel per metric the stage logged, of reward, KL, entropy, response
length, gradient norm and step time for the GRPO stages, loss, gradient norm and learning rate for verl's SFT trainer.
The schedule draws them after each training stage (a stopped stage too); TensorBoard event files of the same metrics
are verl's own (`trainer.logger` includes tensorboard on the CPU backend).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from data_prep.atomic_file import write_atomic
from data_prep.cli_errors import ArgumentParser, run_cli
from recipe.rwml.train_log import parse_steps

# panel title -> verl metric names, the first one logged wins
PANELS: dict[str, tuple[str, ...]] = {
    "reward (mean score)": ("critic/score/mean",),
    "KL to the reference": ("actor/kl_loss", "actor/ppo_kl"),
    "entropy": ("actor/entropy",),
    "response length (tokens)": ("response_length/mean",),
    "gradient norm": ("actor/grad_norm", "train/grad_norm"),
    "step time (s)": ("timing_s/step",),
    "loss": ("train/loss",),
    "learning rate": ("train/lr",),
}


def curves(steps: dict[int, dict[str, float]]) -> dict[str, tuple[str, list[int], list[float]]]:
    """{panel: (metric, steps, values)} for every panel the log has a metric of."""
    out = {}
    order = sorted(steps)
    for title, names in PANELS.items():
        name = next((n for n in names if any(n in steps[s] for s in order)), None)
        if name is not None:
            xs = [s for s in order if name in steps[s]]
            out[title] = (name, xs, [steps[s][name] for s in xs])
    return out


def plot_log(log: Path, png: Path | None = None) -> Path | None:
    """Draw the stage's curves into `png` (default: the log's name with .png); None when it logged no step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = parse_steps(log.read_text(errors="replace"))
    panels = curves(steps)
    if not panels:
        return None
    png = png or log.with_suffix(".png")
    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, (title, (metric, xs, ys)) in zip(axes.flat, panels.items(), strict=False):
        ax.plot(xs, ys, marker="o", markersize=3)
        ax.set_title(f"{title}\n{metric}", fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    fig.suptitle(f"{log.stem}: {len(steps)} steps ({log})", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, png)


def save_figure(fig: Any, png: Path) -> Path:
    """Write a matplotlib figure to `png` atomically (whole or not at all) and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    write_atomic(png, buffer.getvalue())
    return png


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", nargs="+", type=Path, help="a stage's console log (verl's `step:N - ...` lines)")
    args = parser.parse_args(argv)
    for log in args.logs:
        png = plot_log(log)
        print(f"{log}: {png if png else 'no training step logged'}")
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
