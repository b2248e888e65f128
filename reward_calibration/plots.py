"""The calibrations' figures: the share right per kind against tau, and the cosines of each kind, as one PNG.

`figure` opens a row of panels, `rate_curves` draws a `separation` table on one, `cosine_histogram` the cosines
of each candidate kind on another, and `save` writes the PNG whole (`data_prep.atomic_file`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from data_prep.atomic_file import atomic_path


def figure(panels: int, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """A matplotlib figure (headless backend) with `panels` axes in a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, panels, figsize=figsize)


def rate_curves(
    ax: Any,
    table: list[dict[str, float]],
    tau: float,
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    balanced_label: str = "balanced accuracy",
) -> None:
    """Balanced accuracy and each kind's share right against tau (positives dotted, negatives dashed), and the
    recommended `tau` as a red line."""
    taus = [r["tau"] for r in table]
    ax.plot(taus, [r["balanced_accuracy"] for r in table], "k-", lw=2.5, label=balanced_label)
    for k in (*positive, *negative):
        if k in table[0]:
            verb = "scored 1" if k in positive else "scored 0"
            ax.plot(taus, [r[k] for r in table], ":" if k in positive else "--", label=f"{k} {verb}")
    ax.axvline(tau, color="r", lw=1, label=f"recommended tau {tau}")


def cosine_histogram(
    ax: Any, kinds: list[str], cos: np.ndarray, order: tuple[str, ...], bins: int, tau: float | None = None
) -> None:
    """The cosines of each kind of candidate (in `order`), overlaid, with `tau` as a red line when given."""
    arr = np.asarray(kinds)
    edges = np.linspace(min(0.0, float(cos.min())), 1.0, bins)
    for k in order:
        sel = arr == k
        if sel.any():
            ax.hist(cos[sel], bins=edges, alpha=0.45, label=f"{k} (n={int(sel.sum())})")
    if tau is not None:
        ax.axvline(tau, color="r", lw=1)


def save(fig: Any, title: str, path: Path) -> None:
    """The figure under `title`, written to `path` as a PNG and closed."""
    import matplotlib.pyplot as plt

    fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
