"""The held-out size from a power calculation on the base model's measured rate, and what the design can detect.

Outcomes are 0/1 per triplet (the default reward); the test is on the mean per-triplet difference between two arms
on the same triplets. With base rate p and a gain d, the difference has variance p(1 - p - d) + (p + d)(1 - p) - d^2
when the two arms' outcomes are independent -- an upper bound for two checkpoints of one model, whose outcomes are
positively correlated -- so n = (z_{1-alpha/2} + z_{power})^2 var / d^2 is a conservative size.
"""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import norm


def paired_variance(p: float, d: float) -> float:
    q = min(1.0, p + d)
    return p * (1.0 - q) + q * (1.0 - p) - (q - p) ** 2


def n_required(p: float, d: float, alpha: float, power: float) -> int:
    z = norm.ppf(1.0 - alpha / 2.0) + norm.ppf(power)
    return math.ceil(z**2 * paired_variance(p, d) / d**2)


def detectable(p: float, n: int, alpha: float, power: float) -> float:
    """The smallest gain d with n_required(p, d) <= n (bisection; 1 - p when even the largest is not)."""
    lo, hi = 1e-4, max(1e-4, 1.0 - p)
    if n_required(p, hi, alpha, power) > n:
        return float("nan")
    for _ in range(60):
        mid = (lo + hi) / 2.0
        lo, hi = (mid, hi) if n_required(p, mid, alpha, power) > n else (lo, mid)
    return hi


def plan(base_rates: dict[str, float], available: dict[str, int], cfg: Any) -> dict[str, Any]:
    """Per primary kind the held-out size: the pooled size that detects `power.effect_pooled` at the pooled base
    rate, split equally over the kinds, at least `power.min_per_kind`, at most what the held-out games hold. A kind
    without samples to measure its rate on is sized at 0.5 (the largest variance) and listed as not measured."""
    pw, alpha = cfg.power, cfg.preregistration.alpha
    kinds = list(cfg.preregistration.primary_kinds)
    unmeasured = [k for k in kinds if math.isnan(base_rates.get(k, math.nan))]
    base_rates = {**base_rates, **dict.fromkeys(unmeasured, 0.5)}  # no sample of the kind: the variance's maximum
    pooled_rate = sum(base_rates[k] for k in kinds) / len(kinds)
    pooled_n = n_required(pooled_rate, pw.effect_pooled, alpha, pw.power)
    per_kind = {}
    for k in kinds:
        want = max(pw.min_per_kind, math.ceil(pooled_n / len(kinds)))
        n = min(want, available.get(k, 0))
        per_kind[k] = {
            "base_rate": base_rates[k],
            "wanted": want,
            "n": n,
            "short": want - n,
            "detectable_gain": detectable(base_rates[k], n, alpha, pw.power) if n else float("nan"),
        }
    total = sum(v["n"] for v in per_kind.values())
    return {
        "alpha": alpha,
        "power": pw.power,
        "effect_pooled": pw.effect_pooled,
        "pooled_base_rate": pooled_rate,
        "pooled_n_required": pooled_n,
        "pooled_n": total,
        "pooled_detectable_gain": detectable(pooled_rate, total, alpha, pw.power),
        "worst_case_detectable_gain": detectable(0.5, total, alpha, pw.power),
        "per_kind": per_kind,
        "rate_not_measured": unmeasured,
    }
