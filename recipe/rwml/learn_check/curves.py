"""A learn check's result: its curves, the first-k and last-k means, the verdict, a table and a PNG."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from recipe.rwml.train_curves import save_figure


@dataclass
class Curve:
    name: str
    values: list[float]  # per GRPO step: the project's reward (mean over the step's samples) or the success rate

    def window_means(self, k: int) -> tuple[float, float]:
        first, last = self.values[:k], self.values[-k:]
        return sum(first) / len(first), sum(last) / len(last)


@dataclass
class CheckResult:
    """One check. The trained curve must rise by `margin` (last-k mean minus first-k mean). Where the check has an
    inverted run, its curve must fall by `fall_margin` and end at least `margin` below the trained curve's end: a
    wrong sign or a reward that does not reach the update moves both runs the same way (the gap stays ~0), while
    the inverted run's own fall is bounded by where it starts (from 1/3, a run can fall by ~0.3 at most)."""

    name: str
    what: str  # what the curves measure, for the table and the plot
    trained: Curve
    inverted: Curve | None
    k: int
    margin: float
    fall_margin: float = 0.0

    def curves(self) -> list[Curve]:
        return [self.trained] + ([self.inverted] if self.inverted else [])

    def learned(self) -> bool:
        first, last = self.trained.window_means(self.k)
        if last - first < self.margin:
            return False
        if self.inverted is None:
            return True
        inv_first, inv_last = self.inverted.window_means(self.k)
        return inv_first - inv_last >= self.fall_margin and last - inv_last >= self.margin

    def line(self) -> str:
        first, last = self.trained.window_means(self.k)
        if self.inverted is None:
            inverted = "not run"
        else:
            inv_first, inv_last = self.inverted.window_means(self.k)
            inverted = f"{inv_first:.3f} -> {inv_last:.3f}"
        margins = f"margin {self.margin}" + (f", fall {self.fall_margin}" if self.inverted is not None else "")
        verdict = "" if self.learned() else f"  FAILED ({margins})"
        return (
            f"learn-check {self.name}: reward {first:.3f} -> {last:.3f} over {len(self.trained.values)} steps "
            f"(inverted: {inverted}){verdict}"
        )


def table(curves: list[Curve]) -> str:
    lines = ["step  " + "  ".join(f"{c.name:>24s}" for c in curves)]
    for i in range(max(len(c.values) for c in curves)):
        cells = [f"{c.values[i]:24.3f}" if i < len(c.values) else " " * 24 for c in curves]
        lines.append(f"{i + 1:4d}  " + "  ".join(cells))
    return "\n".join(lines)


def plot(result: CheckResult, png: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for c in result.curves():
        ax.plot(range(1, len(c.values) + 1), c.values, marker="o", label=c.name)
    ax.set_xlabel("GRPO step")
    ax.set_ylabel(result.what)
    ax.set_ylim(-0.05, 1.05)
    ax.set_title(f"learn check {result.name}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return save_figure(fig, png)
