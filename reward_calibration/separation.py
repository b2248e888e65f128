"""How well a cosine threshold tau separates a reward's positive candidates from its negative ones, per kind.

Every calibration (ALFWorld's `calibrate`, tau2's `calibrate_tau2` and `calibrate_tau2_facts`) embeds candidates
against the real state (`cosines`), then sweeps tau over a grid (`separation`): at each tau, the share of each
kind the reward gets right (a positive scored 1, a negative 0) and the balanced accuracy. Balanced accuracy is
pooled one of two ways, named by the caller:
- `"samples"`: the true-positive rate over all positive candidates and the true-negative rate over all negative
  ones, a kind weighted by its count (ALFWorld);
- `"kinds"`: the mean share of the positive kinds and of the negative kinds, each kind weighted alike (tau2).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal, Protocol

import numpy as np

from reward_score.scoring import Scorer

Pooling = Literal["samples", "kinds"]


class Candidate(Protocol):
    """A candidate prediction and the real state it is compared with."""

    truth: str
    candidate: str


def cosines(scorer: Scorer, examples: Sequence[Candidate]) -> np.ndarray:
    """Cosine of each candidate to its real state, embedded as the reward embeds them."""
    s = scorer.settings
    texts = [t for ex in examples for t in (s.query_text(ex.truth), ex.candidate)]
    rows = scorer.embed_texts(texts)
    return np.einsum("ij,ij->i", rows[0::2], rows[1::2])


def cosine_stats(kinds: list[str], cos: np.ndarray, order: Iterable[str]) -> dict[str, dict[str, float]]:
    """Count, mean, min and max cosine per kind of candidate, in `order`."""
    arr = np.asarray(kinds)
    return {
        k: {"n": int((arr == k).sum()), "mean": float(cos[arr == k].mean()), "min": float(cos[arr == k].min()),
            "max": float(cos[arr == k].max())}
        for k in order
        if (arr == k).any()
    }  # fmt: skip


def rates(
    kinds: Sequence[str],
    passed: np.ndarray,
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    *,
    pooling: Pooling,
) -> dict[str, float]:
    """Share of each kind the reward gets right (`passed`: scored 1), in the order positives then negatives, and
    the balanced accuracy pooled by `pooling` (see the module docstring)."""
    arr = np.asarray(kinds)
    row: dict[str, float] = {}
    for k in (*positive, *negative):
        sel = arr == k
        if sel.any():
            row[k] = float(passed[sel].mean() if k in positive else (~passed[sel]).mean())
    if pooling == "samples":
        pos = np.isin(arr, positive)
        tpr = float(passed[pos].mean()) if pos.any() else float("nan")
        tnr = float((~passed[~pos]).mean()) if (~pos).any() else float("nan")
        row["balanced_accuracy"] = (tpr + tnr) / 2
    elif pooling == "kinds":
        pos_rates = [row[k] for k in positive if k in row]
        neg_rates = [row[k] for k in negative if k in row]
        row["balanced_accuracy"] = (float(np.mean(pos_rates)) + float(np.mean(neg_rates))) / 2
    else:
        raise ValueError(f"pooling must be 'samples' or 'kinds', not {pooling!r}")
    return row


def rates_at(
    kinds: Sequence[str],
    cos: np.ndarray,
    tau: float,
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    *,
    pooling: Pooling,
    gate: np.ndarray | None = None,
) -> dict[str, float]:
    """`rates` at one tau, with the tau first: a candidate passes when `gate` (default: all) and cos >= tau."""
    passed = cos >= tau if gate is None else gate & (cos >= tau)
    return {"tau": float(tau), **rates(kinds, passed, positive, negative, pooling=pooling)}


def separation(
    kinds: Sequence[str],
    cos: np.ndarray,
    grid: np.ndarray,
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    *,
    pooling: Pooling,
    gate: np.ndarray | None = None,
) -> dict[str, Any]:
    """`rates_at` every tau of `grid`, the best balanced accuracy, the tau range reaching it, and the middle of
    that range as `recommended_tau` (equal slack to both sides)."""
    table = [rates_at(kinds, cos, tau, positive, negative, pooling=pooling, gate=gate) for tau in grid]
    bas = np.array([r["balanced_accuracy"] for r in table])
    best = np.flatnonzero(bas >= bas.max() - 1e-12)
    return {
        "table": table,
        "best_balanced_accuracy": float(bas.max()),
        "best_tau_range": [float(grid[best[0]]), float(grid[best[-1]])],
        "recommended_tau": float(np.round((grid[best[0]] + grid[best[-1]]) / 2, 3)),
    }
