"""The experiment's statistics: Wilson intervals for proportions, the paired bootstrap of a mean per-item
difference, and the exact McNemar test on paired 0/1 outcomes (scipy's binomial test on the discordant pairs)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import binomtest


def wilson(k: int, n: int, level: float = 0.95) -> dict[str, float]:
    """{"mean", "lo", "hi", "k", "n"}: k/n and its Wilson score interval (never [0, 0] for 0/n); NaN for n = 0."""
    if n == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "k": 0, "n": 0}
    ci = binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
    return {"mean": k / n, "lo": float(ci.low), "hi": float(ci.high), "k": int(k), "n": int(n)}


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], n_boot: int = 10000, seed: int = 0, level: float = 0.95
) -> dict[str, float]:
    """Mean of a_i - b_i over the same items and its percentile bootstrap interval (items resampled together)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length: {x.size} vs {y.size}")
    if x.size == 0:
        return {"diff": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    d = x - y
    idx = np.random.default_rng(seed).integers(0, d.size, size=(n_boot, d.size))
    means = d[idx].mean(axis=1)
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(means, [tail, 1.0 - tail])
    return {"diff": float(d.mean()), "lo": float(lo), "hi": float(hi), "n": int(d.size)}


def mcnemar(a: Sequence[float], b: Sequence[float]) -> dict[str, float]:
    """Exact McNemar on paired 0/1 outcomes: wins (a 1, b 0), losses (a 0, b 1), two-sided p from a binomial test
    of the wins among the discordant pairs at 1/2 (p = 1 with no discordant pair)."""
    x, y = np.asarray(a) > 0.5, np.asarray(b) > 0.5
    wins, losses = int(np.sum(x & ~y)), int(np.sum(~x & y))
    p = binomtest(wins, wins + losses, 0.5).pvalue if wins + losses else 1.0
    return {"wins": wins, "losses": losses, "p": float(p), "n": int(x.size)}
